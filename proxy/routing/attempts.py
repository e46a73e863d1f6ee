"""The attempt loop: retries with backoff, fallback across deployments, a deadline, breakers.

An attempt is *committed* once it has produced content (or a tool call) for the client;
until then a failure may switch to a retry or the next deployment, because the client has
seen nothing. The loop therefore primes each stream: it reads until the plan produced
content or the stream ended, and hands the primed stream to the relay. A non-streaming
request collects its whole stream inside the attempt, so it can switch at any point.

Which failures are retried, fallen back from or counted by the breakers is
``proxy.routing.policy`` (its docstring has the table). Time is bounded three ways: the
provider's per-attempt ``connect``/``first_byte``/``idle`` timeouts (``proxy.upstream``),
and ``retry.deadline_s`` over every attempt and backoff of the request until it is
committed (a backoff that would cross it is skipped in favour of the next deployment).

Every attempt is appended to ``records`` (attempt number, deployment, outcome, latency,
error code) and logged as one ``gateway.routing`` debug line. The number of attempts is
also put on the final error (``x-gateway-attempts``) when every candidate failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from proxy.errors import GatewayError, UpstreamError, UpstreamProtocolError, UpstreamTimeoutError
from proxy.errors import UpstreamUnavailableError as _Unavailable
from proxy.providers.base import LocalProvider
from proxy.routing.policy import backoff_delay, is_health_failure, retry_same

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from proxy.pipeline.plan import StreamPlan
    from proxy.providers.base import UpstreamCall, UpstreamResponse
    from proxy.routing.table import Candidate
    from proxy.upstream import UpstreamClient
    from schemas.chat import ChatCompletionChunk
    from schemas.config import RetryConfig

__all__ = ["ATTEMPTS_HEADER", "AttemptRecord", "Served", "run_attempts"]

ATTEMPTS_HEADER = "x-gateway-attempts"

_log = logging.getLogger("gateway.routing")


@dataclass(slots=True)
class AttemptRecord:
    """One attempt, for headers, spans, metrics and settle."""

    number: int
    candidate: Candidate
    outcome: str = "pending"
    """``pending``, then ``ok``, ``error`` or ``cancelled``."""
    latency_ms: float = 0.0
    """Until the stream was primed (streaming) or fully collected (non-streaming), or failed."""
    error_code: str | None = None
    plan: StreamPlan | None = None
    """The attempt's plan once the upstream answered 200 (its usage is charged)."""


@dataclass(slots=True)
class Served:
    """A primed (or, for non-streaming, fully collected) stream."""

    record: AttemptRecord
    plan: StreamPlan
    response: UpstreamResponse
    body: AsyncIterator[bytes]
    pending: list[ChatCompletionChunk] = field(default_factory=list)
    ended: bool = False


_LOCAL_KINDS: dict[type, bool] = {}


def _is_local(provider: object) -> bool:
    # isinstance() against a runtime-checkable Protocol inspects the class on every call: once per class.
    kind = type(provider)
    local = _LOCAL_KINDS.get(kind)
    if local is None:
        local = _LOCAL_KINDS[kind] = isinstance(provider, LocalProvider)
    return local


async def _open(candidate: Candidate, call: UpstreamCall, client: UpstreamClient) -> UpstreamResponse:
    provider = candidate.provider
    if _is_local(provider):
        response = cast("LocalProvider", provider).open_local(call)
    else:
        response = await client.open(provider.build_request(call), candidate.timeouts)
    if response.status != 200:
        try:
            body = await response.read()
        finally:
            await response.aclose()
        raise provider.map_error(response.status, response.headers, body)
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("text/event-stream"):
        await response.aclose()
        raise UpstreamProtocolError(f"upstream answered with content type {content_type.split(';')[0]!r}")
    return response


async def _prime(record: AttemptRecord, plan: StreamPlan, response: UpstreamResponse, *, collect: bool) -> Served:
    body = response.chunks()
    served = Served(record, plan, response, body)
    async for raw in body:
        served.pending.extend(plan.feed(raw))
        await _run_work(plan, served)
        if plan.started and not collect:
            return served
    served.pending.extend(plan.finish())
    await _run_work(plan, served)
    served.ended = True
    return served


async def _run_work(plan: StreamPlan, served: Served) -> None:
    """Run the filter work the plan handed out (output guards in worker processes) and keep what it released."""
    while (work := plan.next_work()) is not None:
        await work.run()
        served.pending.extend(plan.resume())


async def run_attempts(
    candidates: list[Candidate],
    *,
    prepare: Callable[[Candidate], Awaitable[UpstreamCall]],
    make_plan: Callable[[Candidate, UpstreamCall], StreamPlan],
    client: UpstreamClient,
    retry: RetryConfig,
    collect: bool,
    records: list[AttemptRecord],
    rng: random.Random | None = None,
) -> Served:
    """Try the candidates in order until one serves; every attempt is appended to ``records``.

    Raises:
        GatewayError: the last upstream failure when every candidate failed, a client error
            (400-class) at once, or ``UpstreamTimeoutError`` when the deadline passed; it
            carries the ``x-gateway-attempts`` header.
    """
    try:
        return await _loop(candidates, prepare, make_plan, client, retry, collect, records, rng or random.Random())
    except GatewayError as error:
        error.headers[ATTEMPTS_HEADER] = str(len(records))
        raise


async def _loop(
    candidates: list[Candidate],
    prepare: Callable[[Candidate], Awaitable[UpstreamCall]],
    make_plan: Callable[[Candidate, UpstreamCall], StreamPlan],
    client: UpstreamClient,
    retry: RetryConfig,
    collect: bool,
    records: list[AttemptRecord],
    jitter: random.Random,
) -> Served:
    deadline = time.monotonic() + retry.deadline_s
    last: GatewayError | None = None
    skipped: GatewayError = _Unavailable("no deployment is available for this model")
    for candidate in candidates:
        for retry_number in range(retry.attempts):
            if retry_number:
                assert last is not None
                if not retry_same(last):
                    break
                delay = backoff_delay(retry_number - 1, retry, last, jitter)
                if delay is None or time.monotonic() + delay >= deadline:
                    break
                await asyncio.sleep(delay)
            if time.monotonic() >= deadline:
                raise UpstreamTimeoutError(
                    f"the request deadline ({retry.deadline_s:g} s) passed before any deployment answered"
                )
            # Asked last, right before the attempt: a half-open breaker hands out its one probe here.
            if not candidate.breaker.allow():
                skipped = _Unavailable(f"deployment {candidate.label} is unavailable (circuit open)")
                break
            call = await _prepare(prepare, candidate, deadline)
            record = AttemptRecord(len(records) + 1, candidate)
            records.append(record)
            try:
                return await _attempt(record, call, deadline, make_plan, client, collect=collect)
            except UpstreamError as error:
                last = error
    raise last or skipped


async def _prepare(
    prepare: Callable[[Candidate], Awaitable[UpstreamCall]], candidate: Candidate, deadline: float
) -> UpstreamCall:
    """Admission and request building: not an attempt (nothing was sent), but within the deadline.

    A refusal here (a fallback alias over budget) goes to the client as it is. The breaker
    probe, if this request holds it, is released: the deployment was not tried.
    """
    try:
        async with asyncio.timeout(deadline - time.monotonic()):
            return await prepare(candidate)
    except BaseException as exc:
        candidate.breaker.release()
        if isinstance(exc, TimeoutError):
            raise UpstreamTimeoutError("the request deadline passed during admission") from exc
        raise


async def _attempt(
    record: AttemptRecord,
    call: UpstreamCall,
    deadline: float,
    make_plan: Callable[[Candidate, UpstreamCall], StreamPlan],
    client: UpstreamClient,
    *,
    collect: bool,
) -> Served:
    """One attempt, bounded by what is left of the deadline; records, logs and reports its outcome."""
    candidate = record.candidate
    started = time.perf_counter()
    response: UpstreamResponse | None = None
    try:
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                response = await _open(candidate, call, client)
                record.plan = make_plan(candidate, call)
                served = await _prime(record, record.plan, response, collect=collect)
        except TimeoutError as exc:
            raise UpstreamTimeoutError("the request deadline passed during an attempt") from exc
    except BaseException as exc:
        record.latency_ms = (time.perf_counter() - started) * 1000
        if response is not None:
            await response.aclose()
        _judge(record, exc)
        _log_attempt(record)
        raise
    record.outcome = "ok"
    record.latency_ms = (time.perf_counter() - started) * 1000
    candidate.breaker.record_success()
    _log_attempt(record)
    if served.ended:
        await response.aclose()
    return served


def _judge(record: AttemptRecord, exc: BaseException) -> None:
    """Set a failed attempt's outcome and report it to the deployment's breaker."""
    breaker = record.candidate.breaker
    if not isinstance(exc, GatewayError):
        # Cancelled (client gone, server shutting down) or a bug: no verdict on the provider.
        record.outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
        record.error_code = None if record.outcome == "cancelled" else "internal_error"
        breaker.release()
        return
    record.outcome = "error"
    record.error_code = exc.error_code
    if is_health_failure(exc):
        breaker.record_failure()
    else:
        # The upstream answered and judged the request (or the output): it is alive.
        breaker.record_success()


def _log_attempt(record: AttemptRecord) -> None:
    # Labels are provider/model names from config; no URL, header or key ever reaches this line.
    _log.debug(
        "attempt=%d alias=%s deployment=%s outcome=%s latency_ms=%.1f error=%s",
        record.number,
        record.candidate.alias,
        record.candidate.label,
        record.outcome,
        record.latency_ms,
        record.error_code or "-",
        extra={
            "attempt": record.number,
            "alias": record.candidate.alias,
            "deployment": record.candidate.label,
            "outcome": record.outcome,
            "latency_ms": round(record.latency_ms, 1),
            "error_code": record.error_code,
        },
    )
