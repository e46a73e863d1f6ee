"""The Anthropic Messages adapter: a pure translator between the gateway and ``POST /v1/messages``.

The pieces live in helpers so each stays small: ``anthropic_request`` (OpenAI request ->
Messages body), ``anthropic_stream`` (Messages events -> OpenAI chunks, usage) and
``anthropic_errors`` (error responses and in-band error events -> ``GatewayError``).
The request is always a stream; headers carry ``x-api-key`` (when a key is configured),
``anthropic-version`` and the config's extra headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from proxy.providers.anthropic_errors import map_status
from proxy.providers.anthropic_request import build_body
from proxy.providers.anthropic_stream import AnthropicStreamTranslator
from proxy.providers.base import UpstreamRequest

if TYPE_CHECKING:
    from collections.abc import Mapping

    from proxy.errors import GatewayError
    from proxy.providers.base import UpstreamCall
    from schemas.providers import AnthropicProviderConfig
    from schemas.secret import Secret

__all__ = ["AnthropicProvider"]

_encoder = msgspec.json.Encoder()


class AnthropicProvider:
    """Built once from its config and the resolved key; holds no per-request state."""

    def __init__(self, config: AnthropicProviderConfig, api_key: Secret | None) -> None:
        self._config = config
        self._api_key = api_key
        self._url = config.base_url.rstrip("/") + "/v1/messages"
        headers = [(k.lower(), v) for k, v in config.headers.items()]
        headers += [
            ("anthropic-version", config.anthropic_version),
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
        ]
        if api_key:
            headers.append(("x-api-key", api_key.reveal()))
        self._headers = tuple(headers)

    @property
    def name(self) -> str:
        """The provider's configured name."""
        return self._config.name

    def build_request(self, call: UpstreamCall) -> UpstreamRequest:
        """Translate the call into one streaming ``POST /v1/messages``.

        Raises:
            InvalidRequestError: the request uses something Anthropic cannot express.
        """
        body = build_body(call, self._config.default_max_tokens)
        return UpstreamRequest(url=self._url, headers=self._headers, body=_encoder.encode(body))

    def new_translator(self, call: UpstreamCall, response_id: str, model: str) -> AnthropicStreamTranslator:
        """A translator for one response; ``model`` is the alias the client asked for."""
        return AnthropicStreamTranslator(response_id, model)

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> GatewayError:
        """Map an error response; never echoes the provider key."""
        return map_status(status, headers, body, self._api_key.reveal() if self._api_key else None)
