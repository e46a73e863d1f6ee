"""A circuit breaker per deployment: stop sending traffic to a provider that keeps failing.

closed --(``failure_threshold`` consecutive failures)--> open --(``cooldown_s``)--> half-open
half-open lets exactly one probe through: success closes the circuit, failure re-opens it.
State is per process on purpose: it reflects what this replica sees, costs no round trip,
and every replica converges on its own within a cooldown.
"""

from __future__ import annotations

import time
from typing import Literal

__all__ = ["CircuitBreaker", "State"]

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """One deployment's breaker. Not thread-safe; the event loop is single-threaded."""

    def __init__(self, *, failure_threshold: int = 5, cooldown_s: float = 30.0) -> None:
        self._threshold = failure_threshold
        self._cooldown = cooldown_s
        self._failures = 0
        self._opened_at = 0.0
        self._state: State = "closed"
        self._probing = False

    @property
    def state(self) -> State:
        """The current state (an open circuit whose cooldown passed reports half_open)."""
        if self._state == "open" and time.monotonic() - self._opened_at >= self._cooldown:
            return "half_open"
        return self._state

    def allow(self) -> bool:
        """Whether an attempt may go to this deployment now (claims the probe when half-open)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._state = "half_open"
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        """An attempt succeeded: close the circuit."""
        self._failures = 0
        self._state = "closed"
        self._probing = False

    def record_failure(self) -> None:
        """An attempt failed on the provider's side: count it; open at the threshold or on a failed probe."""
        self._failures += 1
        if self._state == "half_open" or self._failures >= self._threshold:
            self._state = "open"
            self._opened_at = time.monotonic()
            self._probing = False
