"""The OpenAI chunk format, shared by every adapter whose upstream speaks it (openai, fake).

``OpenAIChunkTranslator`` decodes each ``data:`` event with one reused msgspec decoder.
``[DONE]`` ends the stream; an ``{"error": ...}`` event (how vLLM and OpenAI report a
failure after HTTP 200) becomes the mapped gateway error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from proxy.errors import UpstreamError, UpstreamProtocolError
from schemas.base import WireStruct
from schemas.chat import ChatCompletionChunk

if TYPE_CHECKING:
    from proxy.sse import SSEEvent

__all__ = ["OpenAIChunkTranslator"]


class _InBandError(WireStruct, kw_only=True):
    message: str = "upstream error"
    type: str | None = None
    code: str | int | None = None


class _ErrorEvent(WireStruct, kw_only=True):
    error: _InBandError


_chunk_decoder = msgspec.json.Decoder(ChatCompletionChunk)
_error_decoder = msgspec.json.Decoder(_ErrorEvent)


class OpenAIChunkTranslator:
    """Decodes OpenAI-format stream events. Per request, not thread-safe."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._done = False

    @property
    def done(self) -> bool:
        """True once ``[DONE]`` arrived."""
        return self._done

    def feed(self, event: SSEEvent) -> list[ChatCompletionChunk]:
        """Decode one event into at most one chunk."""
        data = event.data
        if data == "[DONE]":
            self._done = True
            return []
        if self._done:
            raise UpstreamProtocolError("upstream sent data after [DONE]")
        try:
            decoded = _chunk_decoder.decode(data)
        except msgspec.ValidationError as exc:
            # Not a chunk: the only other valid event is an in-band error (checked off the hot path).
            try:
                failure = _error_decoder.decode(data)
            except (msgspec.DecodeError, msgspec.ValidationError):
                raise UpstreamProtocolError("upstream sent a malformed stream event") from exc
            raise UpstreamError("upstream reported an error mid-stream: " + failure.error.message[:200]) from None
        except msgspec.DecodeError as exc:
            raise UpstreamProtocolError("upstream sent a malformed stream event") from exc
        if not decoded.model:
            decoded.model = self._model
        return [decoded]
