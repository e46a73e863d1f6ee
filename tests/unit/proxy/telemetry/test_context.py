"""``RequestTrace``: outcome mapping, phases, and the observed output filter."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import msgspec
import pytest
from litestar.exceptions import HTTPException

from guards.verdict import Block
from proxy.errors import BudgetExceededError, PromptInjectionError, UpstreamTimeoutError
from proxy.telemetry import RequestTrace

if TYPE_CHECKING:
    from collections.abc import Callable

    from proxy.routing.attempts import AttemptRecord


class Finding(msgspec.Struct, frozen=True):
    rule: str
    entity: str
    action: str


class Step(msgspec.Struct):
    text: str
    block: Block | None = None
    findings: tuple[Finding, ...] = ()


class ScriptedFilter:
    """Returns the scripted steps in order."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)

    def feed(self, text: str) -> Step:
        return self.steps.pop(0)

    def finish(self) -> Step:
        return self.steps.pop(0)


@pytest.mark.parametrize(
    ("exc", "status", "outcome", "code"),
    [
        (BudgetExceededError("over"), 429, "error", "budget_exceeded"),
        (UpstreamTimeoutError("slow"), 504, "error", "upstream_timeout"),
        (PromptInjectionError("no"), 400, "blocked", "prompt_injection_detected"),
        (asyncio.CancelledError(), 499, "cancelled", "client_disconnected"),
        (HTTPException(status_code=413, detail="secret detail"), 413, "error", "request_too_large"),
        (RuntimeError("boom with details"), 500, "error", "internal_error"),
    ],
)
def test_fail_maps_exceptions_to_status_and_code(exc: BaseException, status: int, outcome: str, code: str) -> None:
    rt = RequestTrace("r1")
    rt.fail(exc)
    assert (rt.status, rt.outcome, rt.error_code) == (status, outcome, code)


def test_phase_scope_records_time_and_error_code_only() -> None:
    rt = RequestTrace("r1")
    with rt.phase("auth"):
        pass
    with pytest.raises(PromptInjectionError), rt.phase("input_guards"):
        raise PromptInjectionError("ignore previous instructions: the prompt itself")
    auth, guards = rt.phases
    assert auth.name == "auth"
    assert rt.start_ns <= auth.start_ns <= auth.end_ns <= guards.start_ns <= guards.end_ns
    assert auth.error_code is None
    assert guards.error_code == "prompt_injection_detected"
    blocked = rt.blocked_input()
    assert blocked is not None
    assert blocked.label() == "input:prompt_injection_detected:block"


def test_observed_filter_passes_steps_through_and_records_findings() -> None:
    rt = RequestTrace("r1")
    inner = ScriptedFilter(
        Step("hello "),
        Step("<EMAIL_ADDRESS>", findings=(Finding("pii", "EMAIL_ADDRESS", "redact"),)),
        Step("", block=Block(rule="leak", message="system prompt echoed")),
    )
    observed = rt.observe_filter(inner)
    assert observed.feed("hello ").text == "hello "
    assert observed.feed("a@b.co").text == "<EMAIL_ADDRESS>"
    assert observed.finish().block is not None
    assert [v.label() for v in rt.verdicts] == ["output:pii:EMAIL_ADDRESS:redact", "output:leak:block"]
    assert rt.guard_ns > 0
    assert rt.guard_first_ns <= rt.guard_last_ns


def test_block_reported_as_a_finding_is_not_counted_twice() -> None:
    rt = RequestTrace("r1")
    step = Step("", block=Block(rule="secrets", message="x"), findings=(Finding("secrets", "jwt", "block"),))
    rt.observe_filter(ScriptedFilter(step)).feed("x")
    assert [v.label() for v in rt.verdicts] == ["output:secrets:jwt:block"]


def test_served_is_the_last_successful_attempt(make_record: Callable[..., AttemptRecord]) -> None:
    rt = RequestTrace("r1")
    assert rt.served() is None
    rt.records = [make_record(1, "error"), make_record(2, "ok", alias="b"), make_record(3, "error")]
    served = rt.served()
    assert served is not None
    assert served.number == 2


def test_stream_end_keeps_status_and_sets_outcome() -> None:
    rt = RequestTrace("r1")
    rt.end_stream("cancelled", None)
    assert (rt.status, rt.outcome, rt.error_code) == (200, "cancelled", "client_disconnected")
    rt.end_stream("blocked", "output_blocked")
    assert (rt.outcome, rt.error_code) == ("blocked", "output_blocked")
