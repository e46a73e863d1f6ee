"""The attempt loop without I/O: a scripted in-process provider per deployment."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import TYPE_CHECKING

import msgspec
import pytest

from proxy.errors import (
    BudgetExceededError,
    GatewayError,
    InvalidRequestError,
    UpstreamProtocolError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.pipeline.decode import decode_chat_request
from proxy.pipeline.plan import StreamPlan
from proxy.providers.base import UpstreamCall, UpstreamRequest
from proxy.providers.chunks import OpenAIChunkTranslator
from proxy.routing.attempts import AttemptRecord, run_attempts
from proxy.routing.breaker import BreakerPolicy
from proxy.routing.table import RouteTable
from proxy.upstream import UpstreamClient
from schemas.config import Deployment, ModelConfig, RetryConfig
from schemas.providers import Timeouts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from proxy.routing.attempts import Served
    from proxy.routing.table import Candidate

Step = tuple[str, object]


def sse(*texts: str) -> list[bytes]:
    def event(delta: dict[str, str], finish: str | None = None) -> bytes:
        body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        return b"data: " + msgspec.json.encode(body) + b"\n\n"

    return [
        event({"role": "assistant"}),
        *(event({"content": t}) for t in texts),
        event({}, "stop"),
        b"data: [DONE]\n\n",
    ]


class Response:
    def __init__(self, status: int, body: list[bytes], *, fail_after: int | None = None, hang: bool = False) -> None:
        self.status = status
        self.headers: Mapping[str, str] = {"content-type": "text/event-stream" if status == 200 else "application/json"}
        self._body = body
        self._fail_after = fail_after
        self._hang = hang
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        for i, part in enumerate(self._body):
            if self._fail_after is not None and i >= self._fail_after:
                raise UpstreamProtocolError("upstream closed the connection mid-stream")
            yield part
        if self._hang:
            await asyncio.sleep(3600)

    async def read(self, limit: int = 65536) -> bytes:
        return b"{}"

    async def aclose(self) -> None:
        self.closed = True


class Scripted:
    """A local provider: each call takes the next step of its script."""

    def __init__(self, name: str, steps: list[Step]) -> None:
        self.name = name
        self.steps = steps
        self.calls = 0
        self.opened: list[Response] = []

    def build_request(self, call: UpstreamCall) -> UpstreamRequest:
        return UpstreamRequest(url="local:", headers=(("authorization", "Bearer sk-secret-123456789"),), body=b"")

    def new_translator(self, call: UpstreamCall, response_id: str, model: str) -> OpenAIChunkTranslator:
        return OpenAIChunkTranslator(model)

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> GatewayError:
        if status == 429:
            return UpstreamRateLimitError("limited", retry_after=self._retry_after)
        if status == 400:
            return InvalidRequestError("bad request")
        return UpstreamStatusError(f"upstream answered {status}", upstream_status=status)

    def open_local(self, call: UpstreamCall) -> Response:
        kind, arg = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        if kind == "raise":
            assert isinstance(arg, GatewayError)
            raise arg
        if kind == "status":
            assert isinstance(arg, tuple)
            status, retry_after = arg
            self._retry_after = None if retry_after is None else float(retry_after)
            response = Response(status, [])
        elif kind == "cut":
            response = Response(200, sse("one", "two", "three"), fail_after=int(str(arg)))
        elif kind == "hang":
            response = Response(200, sse("x")[:1], hang=True)
        else:
            words = str(arg).split()
            response = Response(200, sse(words[0], *(" " + w for w in words[1:])))
        self.opened.append(response)
        return response

    _retry_after: float | None = None


RETRY = RetryConfig(attempts=2, backoff_base_ms=1, backoff_max_ms=5, retry_after_cap_s=0.5, deadline_s=2)
REQUEST, RAW = decode_chat_request(b'{"model": "x", "messages": [{"role": "user", "content": "hi"}]}')


def routes(*providers: Scripted, policy: BreakerPolicy | None = None) -> RouteTable:
    models = [ModelConfig(name=p.name, deployments=[Deployment(provider=p.name, model="m")]) for p in providers]
    models = [
        msgspec.structs.replace(m, fallbacks=[p.name for p in providers[i + 1 :]][:1]) for i, m in enumerate(models)
    ]
    table = {p.name: (p, Timeouts()) for p in providers}
    return RouteTable(models, table, breaker=policy or BreakerPolicy())


async def prepare(candidate: Candidate) -> UpstreamCall:
    return UpstreamCall(request=REQUEST, raw=RAW, messages=REQUEST.messages, upstream_model=candidate.deployment.model)


def make_plan(candidate: Candidate, call: UpstreamCall) -> StreamPlan:
    return StreamPlan(candidate.provider.new_translator(call, "", candidate.alias), include_usage=False)


async def attempt(
    table: RouteTable, records: list[AttemptRecord], *, collect: bool = True, retry: RetryConfig = RETRY, **kw: object
) -> Served:
    return await run_attempts(
        table.candidates(table.aliases[0]),
        prepare=kw.get("prepare", prepare),  # type: ignore[arg-type]
        make_plan=make_plan,
        client=UpstreamClient(),
        retry=retry,
        collect=collect,
        records=records,
        rng=random.Random(0),
    )


def text(served: Served) -> str:
    return "".join(c.choices[0].delta.content or "" for c in served.pending if c.choices)


def summary(records: list[AttemptRecord]) -> list[tuple[int, str, str, str | None]]:
    return [(r.number, r.candidate.alias, r.outcome, r.error_code) for r in records]


async def test_success_is_one_attempt_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    a = Scripted("a", [("ok", "hello world")])
    records: list[AttemptRecord] = []
    with caplog.at_level(logging.DEBUG, logger="gateway.routing"):
        served = await attempt(routes(a), records)
    assert text(served) == "hello world"
    assert served.ended
    assert summary(records) == [(1, "a", "ok", None)]
    assert records[0].latency_ms >= 0
    lines = [r for r in caplog.records if r.name == "gateway.routing"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.DEBUG
    assert "attempt=1 alias=a deployment=a/m outcome=ok" in lines[0].getMessage()
    assert lines[0].__dict__["deployment"] == "a/m"
    assert "sk-secret" not in caplog.text


async def test_5xx_is_retried_then_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    a = Scripted("a", [("status", (500, None))])
    b = Scripted("b", [("ok", "from b")])
    records: list[AttemptRecord] = []
    with caplog.at_level(logging.DEBUG, logger="gateway.routing"):
        served = await attempt(routes(a, b), records)
    assert text(served) == "from b"
    assert (a.calls, b.calls) == (2, 1)
    assert summary(records) == [
        (1, "a", "error", "upstream_status"),
        (2, "a", "error", "upstream_status"),
        (3, "b", "ok", None),
    ]
    assert len([r for r in caplog.records if r.name == "gateway.routing"]) == 3


async def test_429_waits_for_retry_after_within_the_cap() -> None:
    a = Scripted("a", [("status", (429, 0.2)), ("ok", "later")])
    records: list[AttemptRecord] = []
    started = time.monotonic()
    served = await attempt(routes(a), records)
    assert time.monotonic() - started >= 0.2
    assert text(served) == "later"
    assert a.calls == 2


async def test_429_over_the_cap_falls_back_at_once() -> None:
    a = Scripted("a", [("status", (429, 30))])
    b = Scripted("b", [("ok", "b")])
    records: list[AttemptRecord] = []
    started = time.monotonic()
    await attempt(routes(a, b), records)
    assert time.monotonic() - started < 0.1
    assert (a.calls, b.calls) == (1, 1)


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_deployment_errors_fall_back_without_retry(status: int) -> None:
    a = Scripted("a", [("status", (status, None))])
    b = Scripted("b", [("ok", "b")])
    await attempt(routes(a, b), [])
    assert (a.calls, b.calls) == (1, 1)


async def test_client_error_goes_straight_to_the_client() -> None:
    a = Scripted("a", [("status", (400, None))])
    b = Scripted("b", [("ok", "b")])
    table = routes(a, b, policy=BreakerPolicy(failures=1))
    records: list[AttemptRecord] = []
    with pytest.raises(InvalidRequestError) as caught:
        await attempt(table, records)
    assert (a.calls, b.calls) == (1, 0)
    assert caught.value.headers["x-gateway-attempts"] == "1"
    assert table.breakers()["a/m"] == "closed"


async def test_everything_failing_raises_the_last_error_with_the_attempt_count() -> None:
    a = Scripted("a", [("raise", UpstreamUnavailableError("refused"))])
    b = Scripted("b", [("status", (503, None))])
    records: list[AttemptRecord] = []
    with pytest.raises(UpstreamStatusError) as caught:
        await attempt(routes(a, b), records)
    assert caught.value.headers["x-gateway-attempts"] == "4"
    assert [r.error_code for r in records] == ["upstream_unavailable"] * 2 + ["upstream_status"] * 2


async def test_open_circuit_is_skipped_without_an_attempt() -> None:
    a = Scripted("a", [("raise", UpstreamUnavailableError("refused"))])
    b = Scripted("b", [("ok", "b")])
    table = routes(a, b, policy=BreakerPolicy(failures=2, cooldown_s=60))
    await attempt(table, [])
    assert table.breakers()["a/m"] == "open"
    records: list[AttemptRecord] = []
    await attempt(table, records)
    assert a.calls == 2
    assert summary(records) == [(1, "b", "ok", None)]


async def test_only_open_circuits_left_means_unavailable() -> None:
    a = Scripted("a", [("raise", UpstreamUnavailableError("refused"))])
    table = routes(a, policy=BreakerPolicy(failures=1, cooldown_s=60))
    with pytest.raises(UpstreamUnavailableError):
        await attempt(table, [])
    with pytest.raises(UpstreamUnavailableError, match="circuit open") as caught:
        await attempt(table, [])
    assert caught.value.headers["x-gateway-attempts"] == "0"


async def test_the_deadline_bounds_every_attempt() -> None:
    a = Scripted("a", [("hang", None)])
    b = Scripted("b", [("ok", "never")])
    records: list[AttemptRecord] = []
    started = time.monotonic()
    with pytest.raises(UpstreamTimeoutError):
        await attempt(routes(a, b), records, retry=msgspec.structs.replace(RETRY, deadline_s=0.3))
    assert 0.3 <= time.monotonic() - started < 0.5
    assert b.calls == 0
    assert a.opened[0].closed


async def test_a_stream_is_handed_over_at_its_first_content() -> None:
    a = Scripted("a", [("cut", 3)])  # role, "one", "two", then the connection breaks
    served = await attempt(routes(a), [], collect=False)
    assert text(served) == "one"
    assert not served.ended
    with pytest.raises(UpstreamProtocolError):
        async for _ in served.body:
            pass


async def test_a_collected_stream_that_breaks_is_retried() -> None:
    a = Scripted("a", [("cut", 3), ("ok", "whole")])
    records: list[AttemptRecord] = []
    served = await attempt(routes(a), records)
    assert text(served) == "whole"
    assert records[0].plan is not None  # the broken attempt got a 200: settle charges it
    assert a.opened[0].closed


async def test_cancelling_a_probe_releases_it() -> None:
    a = Scripted("a", [("raise", UpstreamUnavailableError("refused")), ("hang", None)])
    table = routes(a, policy=BreakerPolicy(failures=1, cooldown_s=0.05))
    with pytest.raises(UpstreamUnavailableError):
        await attempt(table, [], retry=msgspec.structs.replace(RETRY, attempts=1))
    await asyncio.sleep(0.06)
    records: list[AttemptRecord] = []
    task = asyncio.create_task(attempt(table, records))
    await asyncio.sleep(0.05)
    assert table.breakers()["a/m"] == "half_open"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert records[0].outcome == "cancelled"
    breaker = table.breaker("a/m")
    assert breaker is not None
    assert breaker.allow()  # the probe slot is free again


async def test_an_admission_refusal_is_not_an_attempt() -> None:
    a = Scripted("a", [("ok", "x")])

    async def refuse(candidate: Candidate) -> UpstreamCall:
        raise BudgetExceededError("over budget")

    records: list[AttemptRecord] = []
    with pytest.raises(BudgetExceededError) as caught:
        await attempt(routes(a), records, prepare=refuse)
    assert records == []
    assert a.calls == 0
    assert caught.value.headers["x-gateway-attempts"] == "0"
