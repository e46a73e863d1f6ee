"""Guard workers: the output chain of a ``workers: {mode: process}`` policy, run in a process pool.

Why: the output chain is pure Python (regexes, Presidio, n-grams). Inline, a long response
holds the event loop for as long as it is scanned, and every other stream on the replica
waits. In process mode the scanning runs in a ``ProcessPoolExecutor`` and the event loop
only moves bytes.

Decisions:

* **One pool per app**, started and stopped in the lifespan (``GuardWorkers.start``/``aclose``),
  sized by the largest ``processes`` among the policies. ``forkserver`` context: no event-loop
  state, thread or socket of the gateway is ever forked, and the fork server preloads this
  module and Presidio once, so a worker (re)starts in milliseconds. The initializer builds the
  chain of every process-mode policy, so Presidio is set up once per worker, not per batch.
* **Batches, not chunks**: the text of a choice is cut at the last sentence end (``.``, ``!``,
  ``?``, ``;``, ``:`` before whitespace, or a newline) within ``batch_chars``, or at
  ``batch_chars`` when no sentence ends. One round trip per token would cost more than the
  scan. The price is latency: text reaches the client a sentence at a time (measured by
  ``bench/guard_workers.py`` at one 4-character delta per 5 ms: first content after ~67 ms
  against ~12 ms inline; a response that arrives in one piece holds the event loop 2.6 ms
  instead of 234 ms for 200,000 characters). A batch is only cut when no batch of that choice is in flight,
  so a fast upstream's text piles up and is sent in full batches.
* **The filter state travels with the batch**: a worker gets (policy, state, text) and
  returns (new state, ``FilterStep``, held characters). Any worker can take any batch. The
  state is pickled *in the worker* against the worker's own chain: the chain's immutable
  objects (detectors, compiled patterns, the Presidio engine) are written as persistent ids,
  so a state is a few KB (the request's canary and system-prompt matchers are most of it)
  and never carries Presidio. The ids are positions in a
  deterministic walk of the chain, checked by a fingerprint. The gateway process holds the
  state as opaque bytes and never unpickles it.
* **Chains are keyed by content** (the policy's JSON without ``workers``), so a reload that
  changes a policy gets a new chain (built by a worker on first use) and an unchanged one
  keeps its chain.
* **The plan stays synchronous**: ``PooledFilter.feed``/``finish`` return a ``DeferredStep``
  holding the batch to run; the relay (or the attempt loop's priming) awaits ``run()`` and
  the plan polls the filter again (``proxy.pipeline.plan`` has the protocol). Inline mode
  never goes through this module.
* **Failures**: each batch has ``timeout_ms`` (waiting for a worker included). On a timeout,
  a worker crash (the pool is replaced) or an exception in a worker: ``fail_closed`` raises
  ``GuardUnavailableError`` (503 before the first byte, one SSE error event after it);
  ``fail_open`` releases the text the filter held plus the batch unfiltered, reports a
  ``guard_workers`` finding (``observe``, entity ``timeout``/``crash``/``error``) and goes on
  with a fresh filter state. A batch that times out while running keeps its worker busy
  until it ends (nothing kills it).

The output does not depend on the batching: the filter's output is independent of how its
text is split, and batching is only another split (``tests/unit/proxy/test_guard_workers.py``).

Modules: ``worker`` (what runs in the worker processes), ``pool`` (``GuardWorkers``, the app's
pool) and ``filter`` (``PooledFilter``, the per-choice filter the plan drives).
"""

from __future__ import annotations

from proxy.guard_workers.filter import PooledFilter
from proxy.guard_workers.pool import GuardWorkers, WorkerFailedError
from proxy.guard_workers.worker import BatchResult, filter_batch, policy_key

__all__ = ["BatchResult", "GuardWorkers", "PooledFilter", "WorkerFailedError", "filter_batch", "policy_key"]
