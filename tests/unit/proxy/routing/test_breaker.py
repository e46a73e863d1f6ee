"""CircuitBreaker: consecutive and error-rate triggers, cooldown, one half-open probe, lost probes."""

from __future__ import annotations

import pytest

from proxy.routing.breaker import BreakerPolicy, CircuitBreaker, breaker_policy
from schemas.config import RetryConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def state(breaker: CircuitBreaker) -> str:
    # A function, not the property: mypy would narrow ``breaker.state`` across calls that change it.
    return breaker.state


def make(clock: Clock, **policy: float) -> CircuitBreaker:
    return CircuitBreaker(BreakerPolicy(**policy), clock=clock)  # type: ignore[arg-type]


def test_consecutive_failures_open_the_circuit(clock: Clock) -> None:
    breaker = make(clock, failures=3, min_requests=100)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert state(breaker) == "closed"
    breaker.record_failure()
    assert state(breaker) == "open"
    assert not breaker.allow()


def test_a_success_resets_the_streak(clock: Clock) -> None:
    breaker = make(clock, failures=3, min_requests=100)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert state(breaker) == "closed"


def test_half_open_after_cooldown_lets_exactly_one_probe_through(clock: Clock) -> None:
    breaker = make(clock, failures=1, cooldown_s=10)
    breaker.record_failure()
    clock.now += 9.9
    assert state(breaker) == "open"
    assert not breaker.allow()
    clock.now += 0.2
    assert state(breaker) == "half_open"
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()
    breaker.record_success()
    assert state(breaker) == "closed"
    assert breaker.allow()


def test_a_failed_probe_reopens_for_a_full_cooldown(clock: Clock) -> None:
    breaker = make(clock, failures=1, cooldown_s=10)
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert state(breaker) == "open"
    clock.now += 9
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()


def test_a_cancelled_probe_is_released_at_once(clock: Clock) -> None:
    breaker = make(clock, failures=1, cooldown_s=10)
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_a_lost_probe_is_replaced_after_another_cooldown(clock: Clock) -> None:
    breaker = make(clock, failures=1, cooldown_s=10)
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    clock.now += 9
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()


def test_late_failures_while_open_do_not_extend_the_cooldown(clock: Clock) -> None:
    breaker = make(clock, failures=1, cooldown_s=10)
    breaker.record_failure()
    clock.now += 8
    breaker.record_failure()  # a request that started before the circuit opened
    clock.now += 2
    assert state(breaker) == "half_open"


def test_late_successes_while_open_do_not_close_the_circuit(clock: Clock) -> None:
    breaker = make(clock, failures=1, cooldown_s=10)
    breaker.record_failure()
    breaker.record_success()
    assert state(breaker) == "open"
    assert not breaker.allow()


def test_release_while_closed_changes_nothing(clock: Clock) -> None:
    breaker = make(clock, failures=2)
    breaker.record_failure()
    breaker.release()
    breaker.record_failure()
    assert state(breaker) == "open"


def test_error_rate_over_the_window_opens_without_a_long_streak(clock: Clock) -> None:
    breaker = make(clock, failures=100, error_rate=0.5, window_s=10, min_requests=10)
    # Alternate: never two failures in a row, but half of all attempts fail.
    for _ in range(4):
        breaker.record_success()
        breaker.record_failure()
        clock.now += 0.5
    assert breaker.window() == (8, 4)
    assert state(breaker) == "closed"  # under min_requests
    breaker.record_success()
    breaker.record_failure()
    assert state(breaker) == "open"


def test_error_rate_below_the_threshold_keeps_the_circuit_closed(clock: Clock) -> None:
    breaker = make(clock, failures=100, error_rate=0.5, window_s=10, min_requests=10)
    for _ in range(20):
        breaker.record_success()
        breaker.record_success()
        breaker.record_failure()
    assert state(breaker) == "closed"


def test_old_outcomes_leave_the_window(clock: Clock) -> None:
    breaker = make(clock, failures=100, error_rate=0.5, window_s=10, min_requests=7)
    for _ in range(3):
        breaker.record_failure()
        breaker.record_success()
    assert breaker.window() == (6, 3)
    clock.now += 11
    assert breaker.window() == (0, 0)
    breaker.record_failure()
    assert state(breaker) == "closed"  # one failure in a fresh window is under min_requests


def test_policy_comes_from_retry_config() -> None:
    retry = RetryConfig(
        breaker_failures=7,
        breaker_error_rate=0.25,
        breaker_window_s=5,
        breaker_min_requests=3,
        breaker_cooldown_s=2,
    )
    assert breaker_policy(retry) == BreakerPolicy(failures=7, error_rate=0.25, window_s=5, min_requests=3, cooldown_s=2)
    assert breaker_policy(RetryConfig()) == BreakerPolicy()
