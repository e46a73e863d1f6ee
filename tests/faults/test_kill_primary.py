"""Kill the primary: SIGKILL the primary provider's process while 200 requests are in flight or queued.

The primary fake upstream runs in its own process with slow streams (10 words, 100 ms apart);
the fallback alias is served by an in-thread fake. 200 requests (4 in 5 streaming) go out
through the async openai SDK, 40 at a time; the primary is killed 0.3 s after its 60th request
arrived, with a wave of streams mid-content. Then:

* every request started after the kill succeeds, through the fallback, complete;
* every stream either completes (all its words and ``finish_reason=stop``) or ends with the
  ``stream_interrupted`` error event: never a silent truncation the SDK reports as success;
* every non-streaming request succeeds (it can switch deployments at any point);
* no request outlives the deadline; the primary's breaker is open; no reservation is left open.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import openai
import pytest

from fakeupstream import FakeUpstream
from tests.support.fake_upstream import FakeUpstreamProcess
from tests.support.gateway import GatewayServer, make_key

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

ADMIN = "admin-key-for-kill-tests-0123456789"
REQUESTS = 200
CONCURRENCY = 40
KILL_AT_REQUEST = 60
"""The primary has received this many requests (so the second wave of 40 is in flight) when it is killed."""
DEADLINE_S = 5.0
PRIMARY = "fake;words=10;delay_ms=100"
BACKUP = "fake;words=10;delay_ms=5"
FULL = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do"


@dataclass
class Result:
    index: int
    stream: bool
    started: float
    ended: float = 0.0
    text: str = ""
    finish: str | None = None
    model: str = ""
    fallback: str | None = None
    error: openai.APIError | None = None


def config(primary_url: str, backup_url: str) -> dict[str, Any]:
    price = {"input_per_mtok_usd": 1, "output_per_mtok_usd": 2}
    timeouts = {"connect": 0.5, "first_byte": 1.0, "idle": 1.0}
    return {
        "store": {"kind": "memory"},
        "admin": {"key_env": "ADMIN_KEY"},
        "retry": {
            "attempts": 2,
            "backoff_base_ms": 50,
            "backoff_max_ms": 200,
            "deadline_s": DEADLINE_S,
            "breaker_failures": 5,
            "breaker_cooldown_s": 1.0,
        },
        "providers": [
            {"name": "primary", "kind": "openai", "base_url": primary_url + "/v1", "timeouts": timeouts},
            {"name": "backup", "kind": "openai", "base_url": backup_url + "/v1", "timeouts": timeouts},
        ],
        "models": [
            {
                "name": "main",
                "deployments": [{"provider": "primary", "model": PRIMARY}],
                "fallbacks": ["spare"],
                "price": price,
            },
            {"name": "spare", "deployments": [{"provider": "backup", "model": BACKUP}], "price": price},
        ],
        "tenants": [{"id": "acme", "limits": {"spend": {"usd": 100, "window": "24h"}}}],
    }


async def one(sdk: openai.AsyncOpenAI, gate: asyncio.Semaphore, index: int) -> Result:
    async with gate:
        result = Result(index, stream=index % 5 != 0, started=time.monotonic())
        messages: Any = [{"role": "user", "content": f"request {index}"}]
        try:
            if result.stream:
                raw = await sdk.chat.completions.with_raw_response.create(model="main", messages=messages, stream=True)
                result.model, result.fallback = raw.headers["x-gateway-model"], raw.headers.get("x-gateway-fallback")
                async for chunk in raw.parse():
                    if chunk.choices:
                        result.text += chunk.choices[0].delta.content or ""
                        result.finish = chunk.choices[0].finish_reason or result.finish
            else:
                unary = await sdk.chat.completions.with_raw_response.create(model="main", messages=messages)
                result.model, result.fallback = (
                    unary.headers["x-gateway-model"],
                    unary.headers.get("x-gateway-fallback"),
                )
                completion = unary.parse()
                result.text = completion.choices[0].message.content or ""
                result.finish = completion.choices[0].finish_reason
        except openai.APIError as exc:
            result.error = exc
        result.ended = time.monotonic()
        return result


async def test_killing_the_primary_mid_load(tmp_path: Path) -> None:
    key, record = make_key("acme")
    with FakeUpstreamProcess() as primary, FakeUpstream() as backup:
        server = GatewayServer(
            config(primary.base_url, backup.base_url), tmp_path, extra_keys=(record,), environ={"ADMIN_KEY": ADMIN}
        )
        server.start()
        try:
            gate = asyncio.Semaphore(CONCURRENCY)
            began = time.monotonic()
            async with openai.AsyncOpenAI(
                base_url=server.base_url + "/v1", api_key=key, max_retries=0, timeout=30
            ) as sdk:
                tasks = [asyncio.create_task(one(sdk, gate, i)) for i in range(REQUESTS)]
                await asyncio.to_thread(_kill_when_busy, primary)
                killed_at = time.monotonic()
                results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=45)
            total = time.monotonic() - began
            usage, breakers = await asyncio.to_thread(_admin_after, server.base_url)
        finally:
            await asyncio.to_thread(server.stop)
    _check(results, killed_at, total, usage, breakers)


def _kill_when_busy(primary: FakeUpstreamProcess) -> None:
    """SIGKILL once the second wave of streams is well under way (past priming, mid-content)."""
    deadline = time.monotonic() + 20
    while primary.stats().total < KILL_AT_REQUEST:
        assert time.monotonic() < deadline, "the primary never got busy"
        time.sleep(0.05)
    time.sleep(0.3)
    primary.kill()


def _admin_after(base_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    headers = {"authorization": f"Bearer {ADMIN}"}
    deadline = time.monotonic() + 5
    while True:
        usage: dict[str, Any] = httpx.get(
            base_url + "/admin/usage", params={"tenant": "acme"}, headers=headers, timeout=5
        ).json()
        if usage["open_reservations"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    breakers: dict[str, Any] = httpx.get(base_url + "/admin/breakers", headers=headers, timeout=5).json()
    return usage, breakers


def _check(
    results: list[Result], killed_at: float, total: float, usage: dict[str, Any], breakers: dict[str, Any]
) -> None:
    after = [r for r in results if r.started > killed_at]
    streams = [r for r in results if r.stream]
    unary = [r for r in results if not r.stream]
    interrupted = [r for r in streams if r.error is not None]
    by_primary = [r for r in results if r.error is None and r.fallback is None]
    walls = sorted(r.ended - r.started for r in results)
    print(
        f"\nkill primary: {REQUESTS} requests in {total:.1f} s; {len(by_primary)} served by the primary, "
        f"{len(results) - len(by_primary) - len(interrupted)} by the fallback, {len(interrupted)} streams "
        f"interrupted; {len(after)} started after the kill; wall p50 {walls[len(walls) // 2]:.2f} s, "
        f"max {walls[-1]:.2f} s; spent {usage['spent_micro_usd']} µ$"
    )
    # Every request started after the kill succeeds, complete, through the fallback.
    assert len(after) >= 50
    for r in after:
        assert r.error is None, (r.index, r.error)
        assert r.fallback == "spare"
        assert r.model == f"backup/{BACKUP}"
        assert (r.text, r.finish) == (FULL, "stop")
    # A stream is complete, or it ends with the error event: never cut short and reported as success.
    for r in streams:
        if r.error is None:
            assert (r.text, r.finish) == (FULL, "stop"), r.index
        else:
            assert r.error.code == "stream_interrupted", (r.index, r.error)
            assert r.finish is None
            assert r.model == f"primary/{PRIMARY}"
            assert FULL.startswith(r.text)
            assert r.text != FULL
    # A non-streaming request can switch at any point before it answers: it always succeeds.
    for r in unary:
        assert r.error is None, (r.index, r.error)
        assert (r.text, r.finish) == (FULL, "stop")
    assert interrupted, "the kill hit no stream in flight: the test proved nothing"
    assert by_primary, "the primary served nothing before the kill"
    # Nothing hangs: the slowest request is bounded by the deadline (plus one primary stream of ~1 s).
    assert walls[-1] < DEADLINE_S + 1.5
    assert total < 60
    state = breakers["data"][f"primary/{PRIMARY}"]
    assert state in ("open", "half_open")
    assert usage["open_reservations"] == 0
    assert usage["spent_micro_usd"] > 0
