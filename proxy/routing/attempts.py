"""The attempt loop: retries with backoff, fallback across deployments, a deadline, breakers.

An attempt is *committed* once it has produced content (or a tool call) for the client;
until then a failure may switch to a retry or the next deployment, because the client has
seen nothing. The loop therefore primes each stream: it reads until the plan produced
content or the stream ended, and hands the primed stream to the relay. A non-streaming
request collects its whole stream inside the attempt, so it can switch at any point.

Retry policy (same deployment): connect errors, timeouts, malformed streams, 429 (waiting
for Retry-After up to a cap) and 5xx, with exponential backoff and full jitter. Never a
4xx the client caused. Any upstream failure falls back to the next deployment.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from proxy.errors import (
    GatewayError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.providers.base import LocalProvider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from proxy.pipeline.plan import StreamPlan
    from proxy.providers.base import UpstreamCall, UpstreamResponse
    from proxy.routing.table import Candidate
    from proxy.upstream import UpstreamClient
    from schemas.chat import ChatCompletionChunk
    from schemas.config import RetryConfig

__all__ = ["AttemptRecord", "Served", "run_attempts"]


@dataclass(slots=True)
class AttemptRecord:
    """One attempt, for headers, spans, metrics and settle."""

    number: int
    candidate: Candidate
    outcome: str = "pending"
    latency_ms: float = 0.0
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


def _retry_same(error: GatewayError) -> bool:
    if isinstance(error, UpstreamStatusError):
        return (error.upstream_status or 500) >= 500
    return isinstance(error, UpstreamTimeoutError | UpstreamUnavailableError | UpstreamProtocolError)


async def _open(candidate: Candidate, call: UpstreamCall, client: UpstreamClient) -> UpstreamResponse:
    provider = candidate.provider
    if isinstance(provider, LocalProvider):
        response = provider.open_local(call)
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
        if plan.started and not collect:
            return served
    served.pending.extend(plan.finish())
    served.ended = True
    return served


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
        GatewayError: the last failure when every candidate failed, a client error at once,
            or ``UpstreamTimeoutError`` when the deadline passed.
    """
    jitter = rng or random.Random()
    deadline = time.monotonic() + retry.deadline_s
    last: GatewayError = UpstreamUnavailableError("no deployment is available for this model")
    for candidate in candidates:
        if not candidate.breaker.allow():
            last = UpstreamUnavailableError(f"deployment {candidate.label} is unavailable (circuit open)")
            continue
        for attempt in range(retry.attempts):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamTimeoutError("the request deadline passed before any deployment answered")
            record = AttemptRecord(len(records) + 1, candidate)
            records.append(record)
            try:
                return await _attempt(record, remaining, prepare, make_plan, client, collect=collect)
            except UpstreamError as error:
                candidate.breaker.record_failure()
                last = error
            if attempt + 1 >= retry.attempts or not _retry_same(last) or not candidate.breaker.allow():
                break
            delay = _backoff(attempt, retry, last, jitter)
            if delay is None or time.monotonic() + delay >= deadline:
                break
            await asyncio.sleep(delay)
    raise last


async def _attempt(
    record: AttemptRecord,
    remaining: float,
    prepare: Callable[[Candidate], Awaitable[UpstreamCall]],
    make_plan: Callable[[Candidate, UpstreamCall], StreamPlan],
    client: UpstreamClient,
    *,
    collect: bool,
) -> Served:
    """One attempt, bounded by what is left of the deadline; records its outcome."""
    candidate = record.candidate
    started = time.perf_counter()
    response: UpstreamResponse | None = None
    try:
        async with asyncio.timeout(remaining):
            call = await prepare(candidate)
            response = await _open(candidate, call, client)
            record.plan = make_plan(candidate, call)
            served = await _prime(record, record.plan, response, collect=collect)
    except BaseException as exc:
        record.latency_ms = (time.perf_counter() - started) * 1000
        record.outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
        if response is not None:
            await response.aclose()
        if isinstance(exc, TimeoutError):
            record.error_code = UpstreamTimeoutError.code
            raise UpstreamTimeoutError("the request deadline passed") from exc
        if isinstance(exc, GatewayError):
            record.error_code = exc.error_code
            if not isinstance(exc, UpstreamError):
                # The upstream is alive (it judged the request): release a half-open probe.
                candidate.breaker.record_success()
        raise
    record.outcome = "ok"
    record.latency_ms = (time.perf_counter() - started) * 1000
    candidate.breaker.record_success()
    if served.ended:
        await response.aclose()
    return served


def _backoff(attempt: int, retry: RetryConfig, error: GatewayError, rng: random.Random) -> float | None:
    """Full-jitter exponential backoff; a Retry-After over the cap means: do not wait, fall back."""
    if isinstance(error, UpstreamRateLimitError) and error.retry_after is not None:
        return error.retry_after if error.retry_after <= retry.retry_after_cap_s else None
    ceiling = min(retry.backoff_max_ms, retry.backoff_base_ms * (2**attempt)) / 1000
    return rng.uniform(0, ceiling)
