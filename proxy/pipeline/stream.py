"""The relay: the one async loop that owns an upstream stream while it reaches the client.

It writes the chunks the attempt loop already primed, then keeps reading the upstream
through the same ``StreamPlan``. A stream is never ended as a success after a failure:
``[DONE]`` is written only after the plan finished cleanly, and any error after the first
byte goes out as one SSE error event (an upstream failure after content becomes
``stream_interrupted``). Cleanup is in ``finally``, so it also runs when the client
disconnects (the relay is cancelled): the upstream connection is closed at once, and the
settle callback runs in its own task so a cancelled request still settles its spend.

Output guards that run in worker processes (``proxy.guard_workers``) are the loop's second
await: after each upstream read the relay runs the plan's pending filter work and writes
what each batch released (``StreamPlan.next_work``/``resume``). Inline guards hand out no
work, so for them the loop is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import msgspec

from proxy.errors import GatewayError, InvalidStructuredOutputError, StreamInterruptedError, UpstreamError
from proxy.sse import DONE, encode_data, encode_error
from schemas.errors import ErrorBody

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from proxy.routing.attempts import Served
    from schemas.chat import ChatCompletionChunk

__all__ = ["Detached", "error_body", "relay"]

_log = logging.getLogger("gateway.relay")
_encoder = msgspec.json.Encoder()


def error_body(error: GatewayError) -> ErrorBody:
    """The OpenAI error body for ``error``."""
    return ErrorBody(message=error.message, type=error.type, param=error.param, code=error.error_code)


class Detached:
    """Runs cleanup work in tasks of its own, so cancelling a request does not cancel its settle.

    One per app; ``drain()`` at shutdown waits for work still in flight.
    """

    def __init__(self) -> None:
        # Strong references: a task only referenced by the loop may be garbage-collected mid-flight.
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, work: Awaitable[None]) -> None:
        """Run ``work`` in its own task and wait for it unless the caller is cancelled meanwhile."""
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # A second cancellation while waiting only stops the wait; the task finishes on its own.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    async def drain(self) -> None:
        """Wait for every task still running."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    async def _guarded(work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:  # noqa: BLE001 - a detached task has no caller to raise to: log it
            _log.exception("detached cleanup failed")


def _in_band(served: Served, error: GatewayError) -> GatewayError:
    """The error to send after the first byte; an upstream failure also counts against its breaker."""
    if not isinstance(error, UpstreamError) or isinstance(error, InvalidStructuredOutputError):
        # A schema failure is the generation's fault, not a broken provider: say so, trip nothing.
        return error
    # A provider that keeps breaking mid-stream must trip its breaker too.
    served.record.candidate.breaker.record_failure()
    served.record.outcome = "interrupted"
    if isinstance(error, StreamInterruptedError) or not served.plan.started:
        return error
    return StreamInterruptedError(
        f"the upstream stream broke after the response started ({error.error_code}); the response is incomplete"
    )


def _frames(chunks: list[ChatCompletionChunk]) -> bytes:
    return b"".join([encode_data(_encoder.encode(chunk)) for chunk in chunks])


async def relay(
    served: Served,
    finalize: Callable[[str, GatewayError | None], Awaitable[None]],
    detached: Detached,
) -> AsyncIterator[bytes]:
    """Yield the SSE bytes of a primed stream; call ``finalize(outcome, error)`` exactly once."""
    plan = served.plan
    outcome = "cancelled"
    failure: GatewayError | None = None
    try:
        try:
            # One write per upstream read: the events a read completed go out together (one
            # ASGI send, one syscall), never held back waiting for more.
            if served.pending:
                yield _frames(served.pending)
            served.pending.clear()
            if not served.ended:
                async for raw in served.body:
                    if out := plan.feed(raw):
                        yield _frames(out)
                    while (work := plan.next_work()) is not None:
                        await work.run()
                        if out := plan.resume():
                            yield _frames(out)
                last = plan.finish()
                while (work := plan.next_work()) is not None:
                    await work.run()
                    last += plan.resume()
                served.ended = True
                if last:
                    # The closing chunks and [DONE] leave in one write too.
                    yield _frames(last) + DONE
                    outcome = "ok"
                    return
        except GatewayError as exc:
            failure = _in_band(served, exc)
            outcome = "blocked" if plan.blocked_rule else "error"
            yield encode_error(error_body(failure))
            return
        outcome = "ok"
        yield DONE
    finally:
        await served.response.aclose()
        await detached.run(finalize(outcome, failure))
