"""``GuardWorkers``: the app's guard worker pool (one per app, started and stopped in the lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from proxy.guard_workers.worker import filter_batch, init_worker, policy_key, warm

if TYPE_CHECKING:
    from collections.abc import Iterable

    from guards.output import StreamContext
    from proxy.guard_workers.worker import BatchResult
    from schemas.output_guard_config import OutputPolicy

__all__ = ["GuardWorkers", "WorkerFailedError"]

_log = logging.getLogger("gateway.guard_workers")

_PRELOAD = ["proxy.guard_workers.worker", "presidio_analyzer"]
"""Imported once by the fork server, so a (re)started worker does not pay for them."""
_STOP_GRACE_S = 5.0


class WorkerFailedError(Exception):
    """A batch did not come back: ``reason`` is ``timeout``, ``crash`` or ``error``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GuardWorkers:
    """The app's worker pool (one per app); idle and free when no policy uses process mode."""

    def __init__(self, policies: Iterable[OutputPolicy]) -> None:
        pooled = [p for p in policies if p.workers.mode == "process"]
        self._policies = tuple(dict.fromkeys(policy_key(p) for p in pooled))
        self._processes = max((p.workers.processes for p in pooled), default=2)
        self._executor: ProcessPoolExecutor | None = None

    @property
    def enabled(self) -> bool:
        """Whether a policy asked for process mode at startup (the pool is then started eagerly)."""
        return bool(self._policies)

    async def start(self) -> None:
        """Start the pool and wait until its workers are up (lifespan start)."""
        if self.enabled:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in self._spawn()))

    async def aclose(self) -> None:
        """Stop the pool: queued batches are cancelled, running ones get a grace period."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        executor.shutdown(wait=False, cancel_futures=True)
        try:
            async with asyncio.timeout(_STOP_GRACE_S):
                await asyncio.to_thread(executor.shutdown, True)
        except TimeoutError:
            _kill(executor)

    def _spawn(self) -> list[Any]:
        """A new executor with its workers starting now (one warm-up task each)."""
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        executor = ProcessPoolExecutor(
            self._processes, mp_context=context, initializer=init_worker, initargs=(self._policies,)
        )
        self._executor = executor
        return [executor.submit(warm) for _ in range(self._processes)]

    async def run(
        self,
        policy_json: bytes,
        ctx: StreamContext | None,
        state: bytes | None,
        text: str,
        final: bool,
        timeout_s: float,
    ) -> BatchResult:
        """Run one batch in a worker (see ``filter_batch``).

        Raises:
            WorkerFailedError: the batch timed out, the pool broke (it is replaced), or the worker raised.
        """
        if self._executor is None:
            self._spawn()  # process mode turned on by a reload, or the pool was just replaced
        executor = self._executor
        assert executor is not None
        try:
            future = executor.submit(filter_batch, policy_json, ctx, state, text, final)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._replace(executor)
            raise WorkerFailedError("crash") from exc
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.wrap_future(future)
        except TimeoutError as exc:
            future.cancel()
            raise WorkerFailedError("timeout") from exc
        except BrokenProcessPool as exc:
            self._replace(executor)
            raise WorkerFailedError("crash") from exc
        except Exception as exc:  # a guard bug in a worker: the policy's fail mode decides
            _log.exception("an output guard raised in a worker process")
            raise WorkerFailedError("error") from exc

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self._executor is broken:
            _log.error("a guard worker process died; restarting the pool")
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = None
            self._spawn()


def _kill(executor: ProcessPoolExecutor) -> None:
    # The executor has no public way to stop a worker stuck in a batch.
    processes: dict[int, Any] = getattr(executor, "_processes", None) or {}
    for process in processes.values():
        with contextlib.suppress(Exception):
            process.terminate()
