"""``PooledFilter``: the output filter of one choice when its chain runs in the worker pool.

It buffers the choice's text, cuts it into batches (the last sentence end within
``batch_chars``, or ``batch_chars``), hands one batch at a time to the plan as pending work
(``DeferredStep.pending``) and keeps the worker-side filter state between batches as opaque
bytes. ``fail_open`` bookkeeping: it tracks the raw text the worker-side filter still holds
back (``held``), so a failed batch releases that text too, in order.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import msgspec

from guards.output import Finding
from proxy.errors import GuardUnavailableError
from proxy.guard_workers.pool import WorkerFailedError
from proxy.pipeline.plan import DeferredStep

if TYPE_CHECKING:
    from guards.output import FilterStep, StreamContext
    from proxy.guard_workers.pool import GuardWorkers
    from schemas.output_guard_config import WorkersConfig

__all__ = ["PooledFilter"]

_log = logging.getLogger("gateway.guard_workers")

_SENTENCE_END = re.compile(r"[.!?;:][\"')\]]*\s+|\n+")


def _cut(text: str, start: int, limit: int) -> int:
    """Length of the next batch from ``start``: through the last sentence end within ``limit``."""
    end = 0
    for match in _SENTENCE_END.finditer(text, start, start + limit):
        end = match.end() - start
    if end == 0 and len(text) - start >= limit:
        return limit
    return end


class _Batch:
    """One batch of one choice; ``run`` is the ``FilterWork`` the plan hands to the driver."""

    __slots__ = ("final", "owner", "text")

    def __init__(self, owner: PooledFilter, text: str, final: bool) -> None:
        self.owner = owner
        self.text = text
        self.final = final

    async def run(self) -> None:
        """Filter the batch in a worker and leave the result with the filter.

        Raises:
            GuardUnavailableError: the batch failed and the policy fails closed.
        """
        owner = self.owner
        config = owner.config
        ctx = owner.ctx if owner.state is None else None
        try:
            result = await owner.workers.run(
                owner.key, ctx, owner.state, self.text, self.final, config.timeout_ms / 1000
            )
        except WorkerFailedError as exc:
            if config.on_error == "fail_closed":
                raise GuardUnavailableError(
                    f"the output guards could not check the response ({exc.reason})", code="guard_unavailable"
                ) from exc
            _log.warning("guard worker batch failed (%s); released unfiltered (fail_open)", exc.reason)
            owner.failed(self, exc.reason)
            return
        owner.delivered(self, *result)


class PooledFilter:
    """The output filter of one choice in process mode; ``feed``/``finish`` return ``DeferredStep``."""

    __slots__ = (
        "_at",
        "_block",
        "_buf",
        "_closing",
        "_done",
        "_findings",
        "_inflight",
        "_origin",
        "_out",
        "_sent",
        "_tail",
        "config",
        "ctx",
        "key",
        "state",
        "workers",
    )

    def __init__(self, workers: GuardWorkers, key: bytes, config: WorkersConfig, ctx: StreamContext) -> None:
        self.workers = workers
        self.key = key
        self.config = config
        self.ctx = ctx
        self.state: bytes | None = None
        """The worker-side filter, pickled; ``None``: the next batch starts a new one."""
        self._buf = ""
        self._at = 0  # _buf[_at:] is not sent yet
        self._inflight: _Batch | None = None
        self._closing = False
        self._done = False
        self._sent = 0  # characters sent (and answered)
        self._origin = 0  # where the current worker-side filter started (it counts from 0)
        self._tail = ""  # sent text the worker-side filter still holds back
        self._out: list[str] = []
        self._findings: list[Finding] = []
        self._block: object | None = None

    def feed(self, text: str) -> DeferredStep:
        """Buffer ``text``; return what finished batches released and the next batch to run, if any."""
        self._buf += text
        return self._step()

    def finish(self) -> DeferredStep:
        """End of the choice; call again after each pending batch until the step is ``settled``."""
        self._closing = True
        return self._step()

    def _step(self) -> DeferredStep:
        pending = self._next() if self._inflight is None and not self._done else None
        text = "".join(self._out)
        self._out.clear()
        findings = tuple(self._findings)
        self._findings.clear()
        settled = self._done and self._inflight is None
        return DeferredStep(text, block=self._block, findings=findings, pending=pending, settled=settled)

    def _next(self) -> _Batch | None:
        unsent = len(self._buf) - self._at
        limit = self.config.batch_chars
        if self._closing:
            if unsent == 0 and self.state is None and not self._tail:
                self._done = True  # nothing was sent, or nothing is held: no round trip
                return None
            size = min(unsent, limit)
            final = size == unsent
        else:
            size = _cut(self._buf, self._at, limit)
            if size == 0:
                return None
            final = False
        text = self._buf[self._at : self._at + size]
        self._at += size
        if self._at > 4096 and self._at * 2 > len(self._buf):
            self._buf, self._at = self._buf[self._at :], 0
        self._inflight = _Batch(self, text, final)
        return self._inflight

    def delivered(self, batch: _Batch, state: bytes | None, step: FilterStep, held: int) -> None:
        """A worker answered ``batch``."""
        self._inflight = None
        self.state = state
        self._tail = (self._tail + batch.text)[-held:] if held else ""
        self._sent += len(batch.text)
        self._out.append(step.text)
        if self._origin:
            shift = self._origin
            findings = [msgspec.structs.replace(f, start=f.start + shift, end=f.end + shift) for f in step.findings]
            self._findings.extend(findings)
        else:
            self._findings.extend(step.findings)
        if step.block is not None:
            self._block = step.block
        self._done = batch.final or step.block is not None

    def failed(self, batch: _Batch, reason: str) -> None:
        """``fail_open``: release what the filter held and the batch as they are, then start afresh."""
        self._inflight = None
        raw = self._tail + batch.text
        start = self._sent - len(self._tail)
        self._sent += len(batch.text)
        self._out.append(raw)
        self._findings.append(Finding("guard_workers", reason, "observe", start, start + len(raw)))
        self.state, self._tail, self._origin = None, "", self._sent
        self._done = batch.final
