"""``RequestTrace``: what one request did, recorded along the request path and read once at the end.

The request path only writes plain values here (monotonic timestamps, ids, counts), which
costs a few hundred nanoseconds per stage; spans, metrics and the access log line are all
made from this record after the fact, in ``Telemetry.finish``. That is what makes tracing
free when it is off (nothing is built), keeps the three outputs consistent with each
other, and means no span object has to be threaded through routing: attempt spans are
made from the ``AttemptRecord``\\ s with explicit start and end times.

Nothing that could carry a secret or request content is stored unless the operator asked
for prompts in the access log (``telemetry.log_prompts``): rule names, error codes, model
aliases from config and counts only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from proxy.pipeline.plan import FilterLike, StepLike
    from proxy.routing.attempts import AttemptRecord

__all__ = ["CacheStatus", "ObservedFilter", "Phase", "PhaseScope", "RequestTrace", "Verdict"]

CacheStatus = str
"""``hit``, ``miss``, ``bypass`` (not cacheable or cache off) or ``none`` (not consulted)."""

_BLOCKED_CODES = frozenset({"content_blocked", "prompt_injection_detected", "insufficient_scope"})


@dataclass(slots=True)
class Phase:
    """One timed stage of the request (a child span)."""

    name: str
    start_ns: int
    end_ns: int
    error_code: str | None = None


@dataclass(slots=True, frozen=True)
class Verdict:
    """A guard decision: ``stage`` (input/output), ``rule`` and ``action`` (block, redact, flag, ...)."""

    stage: str
    rule: str
    action: str
    entity: str = ""

    def label(self) -> str:
        """``stage:rule[:entity]:action`` for the span attribute."""
        entity = f":{self.entity}" if self.entity else ""
        return f"{self.stage}:{self.rule}{entity}:{self.action}"


class PhaseScope:
    """Context manager that appends a ``Phase``; an exception's error code is kept, never its message."""

    __slots__ = ("_name", "_start", "_trace")

    def __init__(self, trace: RequestTrace, name: str) -> None:
        self._trace = trace
        self._name = name
        self._start = 0

    def __enter__(self) -> None:
        self._start = time.perf_counter_ns()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        code = None if exc is None else str(getattr(exc, "error_code", "internal_error"))
        self._trace.phases.append(Phase(self._name, self._start, time.perf_counter_ns(), code))


@dataclass(slots=True)
class RequestTrace:
    """The record of one request (not thread-safe; one per request)."""

    request_id: str
    traceparent: str | None = None
    """The caller's W3C ``traceparent`` header: the root span continues the caller's trace."""
    wall_ns: int = field(default_factory=time.time_ns)
    start_ns: int = field(default_factory=time.perf_counter_ns)
    end_ns: int = 0
    tenant: str | None = None
    key_id: str | None = None
    model: str | None = None
    """The requested alias, set only once it is known to exist (unknown names never become labels)."""
    stream: bool = False
    phases: list[Phase] = field(default_factory=list)
    attempt_starts: list[int] = field(default_factory=list)
    """``perf_counter_ns`` at the start of each attempt, in attempt order."""
    records: Sequence[AttemptRecord] = ()
    first_token_ns: int | None = None
    cache_status: CacheStatus = "none"
    verdicts: list[Verdict] = field(default_factory=list)
    guard_ns: int = 0
    """Time spent inside output filters (CPU), summed over every chunk."""
    guard_first_ns: int = 0
    guard_last_ns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micro_usd: int = 0
    reserved_micro_usd: int = 0
    status: int = 200
    outcome: str = "ok"
    """``ok``, ``error``, ``blocked`` or ``cancelled``."""
    error_code: str | None = None
    prompt: str | None = None
    """Only with ``telemetry.log_prompts``: the request text, truncated, for the access log."""
    trace_id: str | None = None
    """Set once the spans are written (for the access log line)."""
    finished: bool = False

    def phase(self, name: str) -> PhaseScope:
        """Time a stage: ``with trace.phase("admission"): ...``."""
        return PhaseScope(self, name)

    def add_phase(self, name: str, start_ns: int, end_ns: int | None = None) -> None:
        """Record a stage timed by the caller (``end_ns`` defaults to now)."""
        self.phases.append(Phase(name, start_ns, end_ns if end_ns is not None else time.perf_counter_ns()))

    def identify(self, tenant: str, key_id: str) -> None:
        """The authenticated caller (tenant id and key id, both from config or the key store)."""
        self.tenant = tenant
        self.key_id = key_id

    def attempt_starting(self) -> None:
        """An upstream attempt starts now (called right before each attempt opens its request)."""
        self.attempt_starts.append(time.perf_counter_ns())

    def first_token(self) -> None:
        """The first content is ready for the client (time to first token)."""
        if self.first_token_ns is None:
            self.first_token_ns = time.perf_counter_ns()

    def cache(self, status: CacheStatus, start_ns: int | None = None) -> None:
        """The cache lookup's result; with ``start_ns`` it also becomes a ``cache`` phase."""
        self.cache_status = status
        if start_ns is not None:
            self.add_phase("cache", start_ns)

    def verdict(self, stage: str, rule: str, action: str, entity: str = "") -> None:
        """A guard fired (or observed)."""
        self.verdicts.append(Verdict(stage, rule, action, entity))

    def input_findings(self, rule_ids: Sequence[str]) -> None:
        """Input rules that fired without blocking (neutralize or observe)."""
        for rule in rule_ids:
            self.verdicts.append(Verdict("input", rule, "flag"))

    def charge(self, input_tokens: int, output_tokens: int, cost_micro_usd: int) -> None:
        """What settle charged for one reservation."""
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cost_micro_usd += cost_micro_usd

    def fail(self, exc: BaseException) -> None:
        """The request ended with ``exc`` (before or after the first byte)."""
        status = getattr(exc, "status", None)
        code = getattr(exc, "error_code", None)
        http_status = getattr(exc, "status_code", None)
        if isinstance(http_status, int) and status is None:
            # Litestar's own exceptions (413 body too large, ...): a code from a fixed table, never the detail.
            status, code = http_status, "request_too_large" if http_status == 413 else f"http_{http_status}"
        if isinstance(status, int) and isinstance(code, str):
            self.status, self.error_code = status, code
            self.outcome = "blocked" if code in _BLOCKED_CODES or code == "output_blocked" else "error"
        elif isinstance(exc, asyncio.CancelledError):
            # 499: nginx's "client closed request"; the client never saw a status.
            self.status, self.outcome, self.error_code = 499, "cancelled", "client_disconnected"
        else:
            self.status, self.outcome, self.error_code = 500, "error", "internal_error"

    def end_stream(self, outcome: str, error_code: str | None) -> None:
        """A streamed response ended: its status stays 200, the outcome is what the client saw in-band."""
        self.outcome = outcome
        if error_code is not None:
            self.error_code = error_code
        elif outcome == "cancelled":
            self.error_code = "client_disconnected"

    def blocked_input(self) -> Verdict | None:
        """The input guard block, if the input stage refused the request."""
        for phase in self.phases:
            if phase.name == "input_guards" and phase.error_code in _BLOCKED_CODES:
                return Verdict("input", phase.error_code, "block")
        return None

    def served(self) -> AttemptRecord | None:
        """The attempt that served the response (the last successful one), if any."""
        for record in reversed(self.records):
            if record.outcome == "ok":
                return record
        return None

    def observe_filter(self, inner: FilterLike) -> ObservedFilter:
        """Wrap an output filter so its time and findings are recorded."""
        return ObservedFilter(inner, self)


class ObservedFilter:
    """An output filter that records its CPU time and what it found (rule names, never text)."""

    __slots__ = ("_inner", "_trace")

    def __init__(self, inner: FilterLike, trace: RequestTrace) -> None:
        self._inner = inner
        self._trace = trace

    def feed(self, text: str) -> StepLike:
        """See ``FilterLike.feed``."""
        start = time.perf_counter_ns()
        step = self._inner.feed(text)
        self._note(step, start)
        return step

    def finish(self) -> StepLike:
        """See ``FilterLike.finish``."""
        start = time.perf_counter_ns()
        step = self._inner.finish()
        self._note(step, start)
        return step

    def _note(self, step: StepLike, start: int) -> None:
        trace = self._trace
        end = time.perf_counter_ns()
        trace.guard_ns += end - start
        if not trace.guard_first_ns:
            trace.guard_first_ns = start
        trace.guard_last_ns = end
        blocked = False
        for finding in getattr(step, "findings", ()):
            action = str(getattr(finding, "action", "flag"))
            blocked = blocked or action == "block"
            trace.verdict(
                "output", str(getattr(finding, "rule", "output")), action, str(getattr(finding, "entity", ""))
            )
        block = step.block
        if block is not None and not blocked:
            trace.verdict("output", str(getattr(block, "rule", "output")), "block")
