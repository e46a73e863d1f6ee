"""Provider configuration: a tagged union on ``kind`` (``openai``, ``anthropic``, ``fake``).

Secrets are never written in the file: ``api_key_env`` names the environment variable
that ``proxy/settings.py`` resolves once at startup.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas.base import ConfigStruct

__all__ = [
    "AnthropicProviderConfig",
    "FakeProviderConfig",
    "OpenAIProviderConfig",
    "ProviderConfig",
    "Timeouts",
]

Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]


class Timeouts(ConfigStruct, kw_only=True):
    """Per-attempt timeouts, in seconds."""

    connect: Seconds = 5.0
    """TCP + TLS connect."""
    first_byte: Seconds = 60.0
    """From sending the request to the response headers and first body bytes."""
    idle: Seconds = 60.0
    """Longest silence allowed between two chunks of a stream."""


class OpenAIProviderConfig(ConfigStruct, tag="openai", tag_field="kind", kw_only=True):
    """An OpenAI-compatible API: OpenAI, Azure-style deployments, vLLM, Ollama, the fake upstream."""

    name: str
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str | None = None
    """Environment variable holding the key, sent as ``Authorization: Bearer``."""
    azure_api_version: str | None = None
    """When set, the Azure style is used: ``api-key`` header and ``?api-version=`` on the URL."""
    headers: dict[str, str] = {}
    """Extra non-secret headers sent upstream."""
    timeouts: Timeouts = Timeouts()


class AnthropicProviderConfig(ConfigStruct, tag="anthropic", tag_field="kind", kw_only=True):
    """The Anthropic Messages API."""

    name: str
    base_url: str = "https://api.anthropic.com"
    api_key_env: str | None = None
    """Environment variable holding the key, sent as ``x-api-key``."""
    anthropic_version: str = "2023-06-01"
    default_max_tokens: Annotated[int, msgspec.Meta(ge=1)] = 4096
    """Anthropic requires ``max_tokens``; used when neither client nor limits set one."""
    headers: dict[str, str] = {}
    timeouts: Timeouts = Timeouts()


class FakeProviderConfig(ConfigStruct, tag="fake", tag_field="kind", kw_only=True):
    """The in-process fake provider: deterministic, no network, behaviour chosen by model name."""

    name: str
    chunk_delay_ms: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    timeouts: Timeouts = Timeouts()


ProviderConfig = OpenAIProviderConfig | AnthropicProviderConfig | FakeProviderConfig
