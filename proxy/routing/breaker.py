"""A circuit breaker per deployment: stop sending traffic to a provider that keeps failing.

```
closed --(failures in a row, or error rate over a window)--> open --(cooldown)--> half_open
half_open --(the probe succeeds)--> closed        half_open --(the probe fails)--> open
```

Two triggers open a closed circuit, whichever comes first:

* ``failures`` consecutive failed attempts (a hard outage: refused connections, timeouts);
* an error rate of at least ``error_rate`` among the attempts of the last ``window_s``
  seconds, once at least ``min_requests`` were made (a flapping provider that fails one
  request in two never reaches a long streak).

After ``cooldown_s`` the circuit is half-open: exactly one request (the probe) is let
through and everyone else still skips the deployment. The probe's outcome closes or
re-opens the circuit. A probe that never reports (its request was cancelled) is released
at once by ``release()``; one that hangs is replaced after another cooldown, so a lost
probe cannot keep a deployment out of rotation for ever.

State is per process on purpose: it reflects what this replica sees, costs no round trip,
and every replica converges on its own within a cooldown. Failures reported while the
circuit is already open (requests that started before it opened) neither extend the cooldown
nor close the circuit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

    from schemas.config import RetryConfig

__all__ = ["BreakerPolicy", "CircuitBreaker", "State", "breaker_policy"]

State = Literal["closed", "open", "half_open"]

_BUCKETS = 10
"""The error-rate window is kept as this many time buckets: O(1) memory whatever the traffic."""


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """Thresholds of every breaker of a route table."""

    failures: int = 5
    """Consecutive failures that open the circuit."""
    error_rate: float = 0.5
    """Failure fraction over the window that opens the circuit (``> 1`` disables the trigger)."""
    window_s: float = 30.0
    min_requests: int = 20
    """Attempts the window must hold before the error rate is judged."""
    cooldown_s: float = 30.0
    """How long an open circuit rejects traffic before it lets one probe through."""


def breaker_policy(retry: RetryConfig) -> BreakerPolicy:
    """The breaker thresholds configured in ``retry`` (``breaker_*`` fields)."""
    return BreakerPolicy(
        failures=retry.breaker_failures,
        error_rate=retry.breaker_error_rate,
        window_s=retry.breaker_window_s,
        min_requests=retry.breaker_min_requests,
        cooldown_s=retry.breaker_cooldown_s,
    )


class CircuitBreaker:
    """One deployment's breaker. Not thread-safe; the event loop is single-threaded."""

    def __init__(self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy or BreakerPolicy()
        self._clock = clock
        self._streak = 0
        self._state: State = "closed"
        self._opened_at = 0.0
        self._probe_at: float | None = None
        """When the half-open probe was let through; ``None`` while no probe is out."""
        self._span = self._policy.window_s / _BUCKETS
        self._slots = [0] * _BUCKETS
        """The bucket number (time // span) each slot currently counts, to expire stale slots."""
        self._ok = [0] * _BUCKETS
        self._failed = [0] * _BUCKETS

    @property
    def policy(self) -> BreakerPolicy:
        """This breaker's thresholds."""
        return self._policy

    @property
    def state(self) -> State:
        """The current state (an open circuit whose cooldown passed reports ``half_open``)."""
        if self._state == "open" and self._clock() - self._opened_at >= self._policy.cooldown_s:
            return "half_open"
        return self._state

    def allow(self) -> bool:
        """Whether an attempt may go to this deployment now; claims the probe when half-open.

        A caller that got ``True`` must report the attempt with ``record_success``,
        ``record_failure`` or ``release``.
        """
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        now = self._clock()
        if self._probe_at is not None and now - self._probe_at < self._policy.cooldown_s:
            return False
        self._state = "half_open"
        self._probe_at = now
        return True

    def record_success(self) -> None:
        """An attempt succeeded (or the provider answered and judged the request); a probe's success closes.

        A success reported while the circuit is open (a request that started before it opened)
        is ignored: only the probe decides, or a flapping provider would keep its circuit closed.
        """
        if self._state == "open":
            return
        self._streak = 0
        if self._state == "half_open":
            self._state = "closed"
            self._probe_at = None
            self._reset_window()
        self._count(ok=True)

    def record_failure(self) -> None:
        """An attempt failed on the provider's side: open at a threshold, or on a failed probe."""
        if self._state == "open":
            return
        if self._state == "half_open":
            self._open()
            return
        self._streak += 1
        self._count(ok=False)
        if self._streak >= self._policy.failures or self._rate_exceeded():
            self._open()

    def release(self) -> None:
        """An attempt ended without a verdict (cancelled): free the probe slot if it held it."""
        if self._state == "half_open":
            self._probe_at = None

    def window(self) -> tuple[int, int]:
        """``(attempts, failures)`` in the error-rate window, for /admin and tests."""
        current = int(self._clock() // self._span)
        total = failed = 0
        for i in range(_BUCKETS):
            if current - self._slots[i] < _BUCKETS:
                total += self._ok[i] + self._failed[i]
                failed += self._failed[i]
        return total, failed

    def _open(self) -> None:
        self._state = "open"
        self._opened_at = self._clock()
        self._probe_at = None
        self._streak = 0
        self._reset_window()

    def _count(self, *, ok: bool) -> None:
        bucket = int(self._clock() // self._span)
        i = bucket % _BUCKETS
        if self._slots[i] != bucket:
            self._slots[i] = bucket
            self._ok[i] = self._failed[i] = 0
        if ok:
            self._ok[i] += 1
        else:
            self._failed[i] += 1

    def _rate_exceeded(self) -> bool:
        total, failed = self.window()
        return total >= self._policy.min_requests and failed >= self._policy.error_rate * total

    def _reset_window(self) -> None:
        self._slots = [0] * _BUCKETS
        self._ok = [0] * _BUCKETS
        self._failed = [0] * _BUCKETS
