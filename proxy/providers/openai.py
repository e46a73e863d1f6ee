"""Adapter for OpenAI-compatible APIs: OpenAI, Azure-style deployments, vLLM, Ollama.

Mostly pass-through. The body starts from the client's raw top-level fields, so any
parameter the gateway does not model still reaches the provider; the gateway sets only
``model`` (the deployment's), ``stream`` and ``stream_options.include_usage`` (it always
streams upstream and always needs usage to settle spend), the output cap when the spend
policy clamped it, and ``messages`` when the input guards rewrote them. Its own request
extensions (``documents``, ``template``) never leave the gateway.

Error bodies are mapped, never forwarded: a provider's 401 message can quote part of the
gateway's key, so credential errors become a generic upstream error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from proxy.errors import (
    GatewayError,
    InvalidRequestError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.providers.base import UpstreamRequest, parse_retry_after
from proxy.providers.chunks import OpenAIChunkTranslator
from schemas.base import WireStruct

if TYPE_CHECKING:
    from collections.abc import Mapping

    from proxy.providers.base import UpstreamCall
    from schemas.providers import OpenAIProviderConfig
    from schemas.secret import Secret

__all__ = ["OpenAIProvider"]

_GATEWAY_ONLY_FIELDS = ("documents", "template")
_STREAM = msgspec.Raw(b"true")
_INCLUDE_USAGE = msgspec.Raw(b'{"include_usage":true}')
_KEYISH = re.compile(r"(sk|key|token)[-_][A-Za-z0-9*_-]{6,}", re.IGNORECASE)
_encoder = msgspec.json.Encoder()


class _ErrorDetail(WireStruct, kw_only=True):
    message: str = ""
    param: str | None = None


class _ErrorEnvelope(WireStruct, kw_only=True):
    error: _ErrorDetail | str | None = None


def _provider_message(body: bytes) -> tuple[str, str | None]:
    try:
        envelope = msgspec.json.decode(body, type=_ErrorEnvelope)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "", None
    detail = envelope.error
    if isinstance(detail, _ErrorDetail):
        return _KEYISH.sub("[redacted]", detail.message)[:500], detail.param
    return (_KEYISH.sub("[redacted]", detail)[:500] if detail else ""), None


class OpenAIProvider:
    """Translator for one configured OpenAI-compatible provider."""

    def __init__(self, config: OpenAIProviderConfig, api_key: Secret | None) -> None:
        self._config = config
        base = config.base_url.rstrip("/")
        self._url = base + "/chat/completions"
        headers = {"content-type": "application/json", "accept": "text/event-stream", **config.headers}
        if config.azure_api_version is not None:
            self._url += "?api-version=" + config.azure_api_version
            if api_key:
                headers["api-key"] = api_key.reveal()
        elif api_key:
            headers["authorization"] = "Bearer " + api_key.reveal()
        self._headers = tuple(headers.items())

    @property
    def name(self) -> str:
        """The provider's configured name."""
        return self._config.name

    def build_request(self, call: UpstreamCall) -> UpstreamRequest:
        """Build the streaming request body from the client's raw fields plus the gateway's changes."""
        body: dict[str, object] = dict(call.raw)
        for name in _GATEWAY_ONLY_FIELDS:
            body.pop(name, None)
        body["model"] = call.upstream_model
        body["stream"] = _STREAM
        body["stream_options"] = _INCLUDE_USAGE
        if call.messages is not call.request.messages:
            body["messages"] = call.messages
        if call.max_tokens is not None:
            field = "max_completion_tokens" if call.request.max_completion_tokens is not None else "max_tokens"
            body[field] = call.max_tokens
        return UpstreamRequest(url=self._url, headers=self._headers, body=_encoder.encode(body))

    def new_translator(self, call: UpstreamCall, response_id: str, model: str) -> OpenAIChunkTranslator:
        """OpenAI-format events need no translation beyond decoding."""
        return OpenAIChunkTranslator(model)

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> GatewayError:
        """Map an error status to what the client should see."""
        message, param = _provider_message(body)
        if status == 429:
            return UpstreamRateLimitError("upstream rate limit reached", retry_after=parse_retry_after(headers))
        if status in (401, 403):
            return UpstreamStatusError(
                f"upstream rejected the gateway's credentials ({status})", upstream_status=status
            )
        if status in (408, 504):
            return UpstreamTimeoutError(f"upstream timed out ({status})")
        if status in (502, 503, 529):
            return UpstreamUnavailableError(f"upstream unavailable ({status})")
        if status in (400, 413, 422):
            return InvalidRequestError(message or f"upstream rejected the request ({status})", param=param)
        return UpstreamStatusError(f"upstream answered {status}", upstream_status=status)
