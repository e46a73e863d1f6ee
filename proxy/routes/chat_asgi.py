"""``POST /v1/chat/completions`` as a bare ASGI handler: the hot path, without per-request DI.

Litestar's signature modelling, dependency resolution and response objects cost about a
fifth of the CPU a proxied request takes (measured with py-spy under load); this route
reads the body, calls the pipeline and writes the response itself. Errors raised before
the response starts still reach the app's exception handlers (OpenAI envelopes).

Streaming: uvicorn silently drops writes after the client went away, so a second task
waits for ``http.disconnect`` and cancels the relay: the upstream connection is closed at
once and the relay's cleanup settles spend (the same mechanism as Litestar's ``Stream``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, cast

from litestar import Litestar, asgi
from litestar.exceptions import MethodNotAllowedException

from proxy.auth import presented_key
from proxy.errors import InvalidRequestError, PayloadTooLargeError
from proxy.pipeline.chat import handle_chat

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar.types import HTTPScope, Receive, Scope, Send

    from proxy.state import GatewayState

__all__ = ["chat_completions"]

_JSON = (b"content-type", b"application/json")
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


async def _read_body(receive: Receive, limit: int, declared: int | None) -> bytes:
    if declared is not None and declared > limit:
        raise PayloadTooLargeError("the request body is larger than the gateway accepts")
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidRequestError("the client disconnected before sending the whole body")
        chunk = cast("bytes", message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError("the request body is larger than the gateway accepts")
        parts.append(chunk)
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


def _headers(pairs: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs.items()]


async def _stream(send: Send, receive: Receive, body: AsyncIterator[bytes], headers: dict[str, str]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": _SSE + _headers(headers)})

    async def pump() -> None:
        async for chunk in body:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    loop = asyncio.get_running_loop()
    writer = loop.create_task(pump())
    watcher = loop.create_task(disconnected())
    try:
        await asyncio.wait((writer, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (writer, watcher):
            task.cancel()
        for task in (writer, watcher):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # The relay's own ``finally`` ran in ``writer`` (closing upstream, settling); close the
        # generator too in case it never started.
        aclose = getattr(body, "aclose", None)
        if aclose is not None:
            await aclose()


@asgi("/v1/chat/completions", copy_scope=False)
async def chat_completions(scope: Scope, receive: Receive, send: Send) -> None:
    """OpenAI-compatible chat completions, streaming (SSE) or not."""
    if cast("HTTPScope", scope)["method"] != "POST":
        raise MethodNotAllowedException(headers={"allow": "POST"})
    gateway: GatewayState = Litestar.from_scope(scope).state.gateway
    wanted: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            wanted[name] = value.decode("latin-1")
    state: dict[str, Any] = scope.get("state", {})
    telemetry = gateway.telemetry
    trace = telemetry.start(str(state.get("request_id", "")), wanted.get(b"traceparent"))
    try:
        with trace.phase("auth"):
            principal = await gateway.auth.authenticate(
                presented_key(wanted.get(b"authorization"), wanted.get(b"x-api-key"))
            )
        trace.identify(principal.tenant.id, principal.key_id)
        length = wanted.get(b"content-length")
        body = await _read_body(
            receive,
            gateway.settings.config.server.max_body_bytes,
            int(length) if length is not None and length.isdigit() else None,
        )
        outcome = await handle_chat(
            gateway, principal, body, trace.request_id, cache_control=wanted.get(b"cache-control"), trace=trace
        )
    except BaseException as exc:
        telemetry.fail(trace, exc)
        raise
    if outcome.stream is not None:
        try:
            await _stream(send, receive, outcome.stream, outcome.headers)
        finally:
            if outcome.after is not None:
                # Normally a no-op: the relay settled in its own cleanup. It matters when the
                # client vanished before the relay's first step (its cleanup never ran).
                await gateway.detached.run(outcome.after())
        return
    assert outcome.body is not None
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [_JSON, *_headers(outcome.headers)]})
        await send({"type": "http.response.body", "body": outcome.body, "more_body": False})
    finally:
        if outcome.after is not None:
            await gateway.detached.run(outcome.after())
        telemetry.finish(trace)


_WANTED = frozenset({b"authorization", b"x-api-key", b"traceparent", b"cache-control", b"content-length"})
