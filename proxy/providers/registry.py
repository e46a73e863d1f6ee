"""Provider config variant -> adapter: the one place that knows every adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxy.providers.anthropic import AnthropicProvider
from proxy.providers.fake import FakeProvider
from proxy.providers.openai import OpenAIProvider
from schemas.providers import AnthropicProviderConfig, FakeProviderConfig, OpenAIProviderConfig

if TYPE_CHECKING:
    from proxy.providers.base import Provider
    from schemas.providers import ProviderConfig
    from schemas.secret import Secret

__all__ = ["build_provider"]


def build_provider(config: ProviderConfig, api_key: Secret | None) -> Provider:
    """Make the adapter for one configured provider."""
    if isinstance(config, OpenAIProviderConfig):
        return OpenAIProvider(config, api_key)
    if isinstance(config, AnthropicProviderConfig):
        return AnthropicProvider(config, api_key)
    if isinstance(config, FakeProviderConfig):
        return FakeProvider(config)
    raise TypeError(f"unknown provider config {type(config).__name__}")  # pragma: no cover - exhaustive union
