"""What every provider adapter is: a pure translator between the gateway and one upstream API.

An adapter builds a neutral ``UpstreamRequest`` (URL, headers, body bytes), makes a
per-request ``StreamTranslator`` that turns the provider's SSE events into OpenAI
``chat.completion.chunk`` Structs, and maps an error response to a ``GatewayError``.
Adapters never perform I/O and never import aiohttp, Litestar or redis:
``proxy/upstream.py`` sends the request.

The gateway always asks the upstream for a stream (with usage): a non-streaming client
response is the same stream, collected. One path, one set of timeouts, one settle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import msgspec

from schemas.chat import ChatCompletionRequest, ChatMessage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from proxy.errors import GatewayError
    from proxy.sse import SSEEvent
    from schemas.chat import ChatCompletionChunk

__all__ = [
    "LocalProvider",
    "Provider",
    "StreamTranslator",
    "UpstreamCall",
    "UpstreamRequest",
    "UpstreamResponse",
    "parse_retry_after",
]


class UpstreamRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One HTTP request to a provider. ``headers`` may hold a credential: never log this object."""

    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    method: str = "POST"

    def __repr__(self) -> str:
        return f"UpstreamRequest(method={self.method!r}, url={self.url!r}, body={len(self.body)} bytes)"


class UpstreamCall(msgspec.Struct, kw_only=True):
    """What the gateway decided to send, before an adapter translates it.

    ``raw`` holds the client's top-level JSON fields untouched, so parameters the gateway
    does not model still reach OpenAI-compatible providers. ``messages`` are the messages
    after the input guards (they may differ from ``request.messages``).
    """

    request: ChatCompletionRequest
    raw: dict[str, msgspec.Raw]
    messages: list[ChatMessage]
    upstream_model: str
    max_tokens: int | None = None
    """The output cap to send (the client's, or the one the spend policy clamped to)."""


class StreamTranslator(Protocol):
    """Per request, not thread-safe, used once: provider SSE events -> OpenAI chunks."""

    @property
    def done(self) -> bool:
        """True once the provider's terminal event (``[DONE]``, ``message_stop``) was seen."""
        ...

    def feed(self, event: SSEEvent) -> list[ChatCompletionChunk]:
        """Translate one event; raise ``UpstreamProtocolError`` on a malformed one, or the
        mapped ``GatewayError`` for an in-band provider error event."""
        ...


class Provider(Protocol):
    """A provider adapter, built once from its config."""

    @property
    def name(self) -> str:
        """The provider's configured name."""
        ...

    def build_request(self, call: UpstreamCall) -> UpstreamRequest:
        """Translate the call into one streaming HTTP request."""
        ...

    def new_translator(self, call: UpstreamCall, response_id: str, model: str) -> StreamTranslator:
        """Make the translator for one response; ``model`` is the alias the client asked for."""
        ...

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> GatewayError:
        """Map an error response to the gateway error the client should see (never echoing secrets)."""
        ...


class UpstreamResponse(Protocol):
    """An open response: ``proxy.upstream.HttpResponse``, or a local provider's in-process one."""

    @property
    def status(self) -> int:
        """HTTP status."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive."""
        ...

    async def read(self, limit: int = ...) -> bytes:
        """At most ``limit`` bytes of the body (error responses)."""
        ...

    async def aclose(self) -> None:
        """Release the response; closes the connection if the body was not read to the end."""
        ...


@runtime_checkable
class LocalProvider(Protocol):
    """A provider answered in-process (the fake): it produces the response instead of an HTTP request."""

    def open_local(self, call: UpstreamCall) -> UpstreamResponse:
        """Start producing the response to ``call``."""
        ...


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (delta-seconds only), if present and sane."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if 0 <= seconds < 86_400:
            return seconds
    return None
