"""Fault injection and the shared response writers of the fake upstream.

The wire modules (``openai_api``, ``anthropic_api``) turn an ``Answer`` into frames (bytes,
some marked as content chunks or as carrying the usage); this module writes them and
injects the directive's fault:

* before the headers: ``fail_first``, ``status:N``, ``hang_headers``, ``slow_first_byte:MS``, ``html``;
* after K content chunks: ``hang_after``, ``drop_after`` (TCP reset: ``SO_LINGER`` 0 then abort),
  ``close_after`` (a clean FIN without the chunked terminator), ``malformed_after`` (a garbage,
  non-UTF-8 line), ``truncated_after`` (a data event whose JSON is cut), ``error_after`` (the
  provider's in-band error event). A fault with K at or beyond the number of content chunks
  fires after the last one, before the finish. After a malformed or truncated event the
  stream goes on to its normal end: a gateway must not pass the answer off as complete.

Client disconnects are detected by aiohttp's handler cancellation (the server runs with
``handler_cancellation=True``, so a hang is just an ``await``) and by write failures; both
are recorded with a monotonic timestamp.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import TYPE_CHECKING, Generic, NamedTuple, Protocol, TypeVar

import msgspec
from aiohttp import web

from fakeupstream.appkeys import STATE
from fakeupstream.directives import DirectiveError
from fakeupstream.state import UsageRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from fakeupstream.directives import Directive
    from fakeupstream.state import RequestRecord, State


class _Body(Protocol):
    @property
    def model(self) -> str: ...

    @property
    def stream(self) -> bool: ...


_Req = TypeVar("_Req", bound=_Body)

__all__ = ["Admitted", "FaultFrames", "Frame", "admit", "before_headers", "send_body", "send_stream"]

GARBAGE_LINE = b"\xff\xfe\x00 garbage, not an event-stream line {{{\n\n"
"""Invalid UTF-8 and no field name: a strict SSE decoder must reject it."""
HTML_BODY = b"<!doctype html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
_HANG_SECONDS = 3600.0


class Frame(msgspec.Struct, frozen=True):
    """One piece of a streamed response."""

    data: bytes
    content: bool = False
    """Counts as a content chunk for ``*_after:K`` faults and ``chunks_sent``."""
    usage: UsageRecord | None = None
    """Set on the frame that reports usage; recorded once it is written."""


class FaultFrames(msgspec.Struct, frozen=True):
    """The wire-specific bytes of the in-stream faults."""

    truncated: bytes
    error: bytes


def _set_rst(request: web.BaseRequest) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _hang() -> None:
    # Cancelled by aiohttp when the client goes away (handler_cancellation=True).
    await asyncio.sleep(_HANG_SECONDS)


class Admitted(NamedTuple, Generic[_Req]):
    """A request the fake will answer: decoded body, its stats record, the merged directive."""

    req: _Req
    record: RequestRecord
    directive: Directive


async def admit(
    request: web.Request,
    path: str,
    body_type: type[_Req],
    *,
    authorized: bool,
    unauthorized: str,
    make_error: Callable[[int, str, float | None], web.Response],
) -> Admitted[_Req] | web.StreamResponse:
    """The shared preamble of every endpoint: decode, authenticate, record, pre-header faults.

    Returns the response to send instead (an error or an injected fault), or the admitted request.
    """
    raw = await request.read()
    try:
        req = msgspec.json.decode(raw, type=body_type)
    except msgspec.DecodeError as exc:
        return make_error(400, f"invalid request body: {exc}", None)
    if not authorized:
        return make_error(401, unauthorized, None)
    state = request.app[STATE]
    try:
        record, directive, failing = state.begin(path, req.model, req.stream, msgspec.json.decode(raw))
    except DirectiveError as exc:
        return make_error(400, str(exc), None)
    early = await before_headers(request, state, record, directive, failing, make_error)
    if early is not None:
        return early
    return Admitted(req, record, directive)


async def before_headers(
    request: web.Request,
    state: State,
    record: RequestRecord,
    directive: Directive,
    failing: bool,
    make_error: Callable[[int, str, float | None], web.Response],
) -> web.StreamResponse | None:
    """Apply the faults that happen before any header; return the response to send instead, if any."""
    if failing:
        state.update(record, status=directive.fail_status, outcome="fault", ended=time.monotonic())
        return make_error(directive.fail_status, "injected failure (fail_first)", directive.retry_after)
    if directive.fault == "status":
        state.update(record, status=directive.fault_arg, outcome="fault", ended=time.monotonic())
        return make_error(directive.fault_arg, f"injected status {directive.fault_arg}", directive.retry_after)
    try:
        if directive.fault == "hang_headers":
            await _hang()
        if directive.fault == "slow_first_byte":
            await asyncio.sleep(directive.fault_arg / 1000)
    except asyncio.CancelledError:
        state.disconnected(record)
        raise
    if directive.fault == "html":
        state.update(record, status=200, outcome="fault", ended=time.monotonic())
        return web.Response(status=200, body=HTML_BODY, content_type="text/html")
    return None


async def send_stream(
    request: web.Request,
    state: State,
    record: RequestRecord,
    directive: Directive,
    frames: Sequence[Frame],
    fault_frames: FaultFrames,
) -> web.StreamResponse:
    """Write an event stream frame by frame, sleeping ``delay_ms`` before each content chunk,
    and inject the mid-stream fault."""
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    fault = directive.fault if directive.fault.endswith("_after") else "none"
    total_content = sum(1 for f in frames if f.content)
    fire_at = min(directive.fault_arg, total_content)
    sent_content = 0
    state.update(record, status=200)
    await response.prepare(request)
    state.stream_opened()
    try:
        for frame in frames:
            due = frame.content or sent_content == total_content
            if fault != "none" and sent_content == fire_at and due:
                ending = await _inject(request, state, record, fault, fault_frames, response)
                if ending is not None:
                    return ending
                fault = "none"
            if frame.content and directive.delay_ms:
                await asyncio.sleep(directive.delay_ms / 1000)
            await response.write(frame.data)
            if frame.content:
                sent_content += 1
                state.chunk_sent(record)
            if frame.usage is not None:
                state.update(record, usage=frame.usage)
        await response.write_eof()
        state.finish(record, "completed")
        return response
    except (asyncio.CancelledError, ConnectionError):
        state.disconnected(record)
        raise
    finally:
        state.stream_closed()


async def _inject(
    request: web.Request,
    state: State,
    record: RequestRecord,
    fault: str,
    fault_frames: FaultFrames,
    response: web.StreamResponse,
) -> web.StreamResponse | None:
    """Inject one mid-stream fault. Returns the response to end with, or None to keep streaming."""
    if fault == "hang_after":
        await _hang()
    elif fault in ("drop_after", "close_after"):
        state.finish(record, "fault")
        if fault == "drop_after":
            _set_rst(request)
        elif request.transport is not None:
            request.transport.close()
        return response
    elif fault == "malformed_after":
        await response.write(GARBAGE_LINE)
    elif fault == "truncated_after":
        await response.write(fault_frames.truncated)
    elif fault == "error_after":
        await response.write(fault_frames.error)
        await response.write_eof()
        state.finish(record, "fault")
        return response
    return None


async def send_body(
    request: web.Request,
    state: State,
    record: RequestRecord,
    directive: Directive,
    body: bytes,
    usage: UsageRecord | None,
    make_error: Callable[[int, str, float | None], web.Response],
) -> web.StreamResponse:
    """Send a non-streaming JSON body, applying the mid-stream faults to the body bytes.

    ``hang/drop/close_after`` send the headers (with the full ``Content-Length``) and half the
    body first; ``truncated_after`` sends half the body as if complete; ``malformed_after``
    sends garbage labelled as JSON; ``error_after`` becomes a 500 error.
    """
    fault = directive.fault
    if fault == "error_after":
        state.update(record, status=500, outcome="fault", ended=time.monotonic())
        return make_error(500, "injected error", None)
    if fault in ("truncated_after", "malformed_after"):
        state.update(record, status=200, outcome="fault", ended=time.monotonic())
        data = body[: len(body) // 2] if fault == "truncated_after" else GARBAGE_LINE
        return web.Response(status=200, body=data, content_type="application/json")
    if fault not in ("hang_after", "drop_after", "close_after"):
        state.update(record, status=200, usage=usage)
        state.finish(record, "completed")
        return web.Response(status=200, body=body, content_type="application/json")
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = len(body)
    state.update(record, status=200)
    await response.prepare(request)
    try:
        await response.write(body[: len(body) // 2])
        result = await _inject(request, state, record, fault, FaultFrames(truncated=b"", error=b""), response)
    except (asyncio.CancelledError, ConnectionError):
        state.disconnected(record)
        raise
    return result or response
