"""ResponseCache: modes, Cache-Control, what is stored, single-flight coalescing, failing open."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from proxy.cache import CacheEntry, ResponseCache
from proxy.pipeline.decode import decode_chat_request
from proxy.store import MemoryStore, StoreUnavailableError
from schemas.cache import CacheConfig
from schemas.chat import ChatCompletion, ChatCompletionRequest, Choice, ResponseMessage, Usage
from schemas.config import TenantConfig

ACME = TenantConfig(id="acme")


def tenant(**cache: Any) -> TenantConfig:
    return TenantConfig(id="acme", cache=msgspec.convert(cache, CacheConfig))


def req(**fields: Any) -> tuple[ChatCompletionRequest, dict[str, msgspec.Raw]]:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0, **fields}
    return decode_chat_request(msgspec.json.encode({k: v for k, v in body.items() if v is not None}))


def answer(finish: str = "stop", *, usage: bool = True, text: str = "hello there") -> ChatCompletion:
    return ChatCompletion(
        id="c1",
        model="m",
        choices=[Choice(message=ResponseMessage(content=text), finish_reason=finish)],
        usage=Usage(prompt_tokens=5, completion_tokens=2, total_tokens=7) if usage else None,
    )


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def cache_get(self, tenant: str, digest: str) -> bytes | None:
        self.calls.append("get")
        return await super().cache_get(tenant, digest)

    async def cache_put(self, tenant: str, digest: str, value: bytes, ttl_ms: int) -> None:
        self.calls.append("put")
        await super().cache_put(tenant, digest, value, ttl_ms)


class DownStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.calls = 0

    async def cache_get(self, tenant: str, digest: str) -> bytes | None:
        self.calls += 1
        if self.down:
            raise StoreUnavailableError("store unreachable: ConnectionError")
        return await super().cache_get(tenant, digest)

    async def cache_put(self, tenant: str, digest: str, value: bytes, ttl_ms: int) -> None:
        self.calls += 1
        if self.down:
            raise StoreUnavailableError("store unreachable: ConnectionError")
        await super().cache_put(tenant, digest, value, ttl_ms)


def degraded(cache: ResponseCache) -> bool:
    # a function, so mypy does not keep the attribute narrowed across the outage
    return cache.stats.degraded


async def test_a_miss_then_a_hit_that_reports_the_saved_cost() -> None:
    cache = ResponseCache(MemoryStore())
    plan = cache.plan(ACME, *req())
    assert plan.status == "miss"
    assert await cache.lookup(plan) is None
    assert await cache.finish(plan, answer(), cost_micro_usd=42)
    again = cache.plan(ACME, *req(stream=True, user="someone-else"))
    hit = await cache.lookup(again)
    assert hit is not None
    assert again.status == "hit"
    assert hit.completion == answer()
    assert hit.saved_micro_usd == 42
    assert not hit.coalesced
    assert (cache.stats.hits, cache.stats.misses, cache.stats.saved_micro_usd) == (1, 1, 42)


async def test_non_deterministic_requests_bypass_without_touching_the_store() -> None:
    store = CountingStore()
    cache = ResponseCache(store)
    plan = cache.plan(ACME, *req(temperature=0.7))
    assert plan.status == "bypass"
    assert plan.digest is None
    assert await cache.lookup(plan) is None
    assert not await cache.finish(plan, answer())
    assert store.calls == []
    assert cache.plan(ACME, *req(temperature=0.7, seed=1)).status == "miss"


@pytest.mark.parametrize(
    ("mode", "temperature", "status"),
    [("always", 0.9, "miss"), ("never", 0, "bypass"), ("auto", 0, "miss"), ("auto", None, "bypass")],
)
def test_tenant_mode_forces_caching_on_or_off(mode: str, temperature: float | None, status: str) -> None:
    cache = ResponseCache(MemoryStore())
    assert cache.plan(tenant(mode=mode), *req(temperature=temperature)).status == status


async def test_no_store_neither_reads_nor_writes_and_no_cache_refreshes() -> None:
    store = CountingStore()
    cache = ResponseCache(store)
    first = cache.plan(ACME, *req())
    await cache.lookup(first)
    await cache.finish(first, answer(text="old"))
    store.calls.clear()

    no_store = cache.plan(ACME, *req(), "no-store")
    assert no_store.status == "bypass"
    assert await cache.lookup(no_store) is None
    assert not await cache.finish(no_store, answer(text="ignored"))
    assert store.calls == []

    no_cache = cache.plan(ACME, *req(), "max-age=0, No-Cache")
    assert no_cache.status == "bypass"
    assert await cache.lookup(no_cache) is None
    assert store.calls == []
    assert await cache.finish(no_cache, answer(text="fresh"))
    hit = await cache.lookup(cache.plan(ACME, *req()))
    assert hit is not None
    assert hit.completion.choices[0].message.content == "fresh"


@pytest.mark.parametrize(
    "completion",
    [None, answer("length"), answer("content_filter"), answer(usage=False), answer(text="x" * 5000)],
    ids=["failed", "truncated", "filtered", "no-usage", "too-large"],
)
async def test_only_complete_successful_answers_within_the_size_limit_are_stored(
    completion: ChatCompletion | None,
) -> None:
    cache = ResponseCache(MemoryStore())
    config = tenant(max_entry_bytes=4096)
    plan = cache.plan(config, *req())
    assert await cache.lookup(plan) is None
    assert not await cache.finish(plan, completion)
    assert await cache.lookup(cache.plan(config, *req())) is None


async def test_entries_expire_after_their_ttl() -> None:
    now = [1_000_000]
    cache = ResponseCache(MemoryStore(clock=lambda: now[0]))
    config = tenant(ttl_s=5)
    plan = cache.plan(config, *req())
    await cache.lookup(plan)
    await cache.finish(plan, answer())
    now[0] += 4_999
    assert await cache.lookup(cache.plan(config, *req())) is not None
    now[0] += 1
    assert await cache.lookup(cache.plan(config, *req())) is None


async def test_fifty_identical_concurrent_misses_make_one_leader() -> None:
    store = CountingStore()
    cache = ResponseCache(store)
    upstream = asyncio.Event()
    upstream_calls = 0

    async def handle() -> tuple[bool, Any]:
        nonlocal upstream_calls
        plan = cache.plan(ACME, *req())
        hit = await cache.lookup(plan)
        if hit is not None:
            return False, hit
        upstream_calls += 1
        await upstream.wait()  # a slow upstream: every other request arrives meanwhile
        await cache.finish(plan, answer(), cost_micro_usd=3)
        return True, None

    requests = [asyncio.ensure_future(handle()) for _ in range(50)]
    await asyncio.sleep(0.01)
    assert upstream_calls == 1
    assert store.calls.count("get") == 1  # the waiters did not even read the store
    upstream.set()
    results = await asyncio.gather(*requests)
    hits = [hit for led, hit in results if not led]
    assert len(hits) == 49
    assert all(h.coalesced and h.saved_micro_usd == 3 and h.completion == answer() for h in hits)
    assert cache.stats.coalesced == 49
    assert upstream_calls == 1


async def test_waiters_go_upstream_when_the_leader_fails_or_is_too_slow() -> None:
    cache = ResponseCache(MemoryStore())
    leader = cache.plan(tenant(coalesce_wait_ms=5000), *req())
    assert await cache.lookup(leader) is None
    waiter = asyncio.ensure_future(cache.lookup(cache.plan(tenant(coalesce_wait_ms=5000), *req())))
    await asyncio.sleep(0.01)
    await cache.finish(leader, None)
    assert await asyncio.wait_for(waiter, 1) is None

    slow = cache.plan(tenant(coalesce_wait_ms=50), *req())
    assert await cache.lookup(slow) is None
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await cache.lookup(cache.plan(tenant(coalesce_wait_ms=50), *req())) is None
    assert 0.03 < loop.time() - started < 0.5
    # the abandoned flight no longer stalls anyone
    started = loop.time()
    assert await cache.lookup(cache.plan(tenant(coalesce_wait_ms=50), *req())) is None
    assert loop.time() - started < 0.5


async def test_a_leader_whose_task_ends_without_finishing_releases_its_waiters() -> None:
    cache = ResponseCache(MemoryStore())
    config = tenant(coalesce_wait_ms=10_000)

    async def leader_that_raises() -> None:
        assert await cache.lookup(cache.plan(config, *req())) is None
        raise RuntimeError("failed before reaching the upstream")

    leader = asyncio.ensure_future(leader_that_raises())
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(cache.lookup(cache.plan(config, *req())))
    with pytest.raises(RuntimeError):
        await leader
    assert await asyncio.wait_for(waiter, 1) is None
    # nothing stays in flight: the next identical request leads at once
    started = asyncio.get_running_loop().time()
    assert await cache.lookup(cache.plan(config, *req())) is None
    assert asyncio.get_running_loop().time() - started < 0.5


async def test_a_cancelled_waiter_does_not_cancel_the_leader_or_other_waiters() -> None:
    cache = ResponseCache(MemoryStore())
    leader = cache.plan(ACME, *req())
    await cache.lookup(leader)
    gone = asyncio.ensure_future(cache.lookup(cache.plan(ACME, *req())))
    stays = asyncio.ensure_future(cache.lookup(cache.plan(ACME, *req())))
    await asyncio.sleep(0.01)
    gone.cancel()
    await cache.finish(leader, answer())
    assert (await stays) is not None


async def test_store_outage_fails_open_and_backs_off() -> None:
    now = [100.0]
    store = DownStore()
    cache = ResponseCache(store, clock=lambda: now[0])
    plan = cache.plan(ACME, *req())
    assert await cache.lookup(plan) is None
    assert cache.stats.degraded
    assert cache.stats.store_errors == 1
    assert not await cache.finish(plan, answer())  # skipped during the back-off: no second timeout
    assert store.calls == 1
    now[0] += 1.5
    store.down = False
    plan = cache.plan(ACME, *req())
    assert await cache.lookup(plan) is None
    assert not degraded(cache)
    assert await cache.finish(plan, answer())
    assert await cache.lookup(cache.plan(ACME, *req())) is not None


async def test_an_entry_recorded_for_another_tenant_is_never_served() -> None:
    store = MemoryStore()
    cache = ResponseCache(store)
    plan = cache.plan(ACME, *req())
    assert plan.digest is not None
    forged = CacheEntry(v=1, tenant="globex", alias="m", cost_micro_usd=1, completion=answer())
    await store.cache_put("acme", plan.digest, msgspec.json.encode(forged), 60_000)
    assert await cache.lookup(plan) is None
    await cache.finish(plan, None)
    await store.cache_put("acme", plan.digest, b"not json", 60_000)
    plan = cache.plan(ACME, *req())
    assert await cache.lookup(plan) is None
    assert plan.flight is not None  # it leads the fill, like any miss


async def test_cross_replica_coalescing_waits_for_the_lock_holders_entry() -> None:
    shared = MemoryStore()  # one store, two processes' caches
    config = tenant(coalesce_across_replicas=True, coalesce_wait_ms=2000)
    one, two = ResponseCache(shared), ResponseCache(shared)
    leader = one.plan(config, *req())
    assert await one.lookup(leader) is None
    assert leader.lock_token is not None
    other = asyncio.ensure_future(two.lookup(two.plan(config, *req())))
    await asyncio.sleep(0.05)
    assert not other.done()
    await one.finish(leader, answer(), cost_micro_usd=9)
    hit = await asyncio.wait_for(other, 1)
    assert hit is not None
    assert hit.coalesced
    assert hit.saved_micro_usd == 9


async def test_cross_replica_waiter_takes_over_when_the_holder_fails() -> None:
    shared = MemoryStore()
    config = tenant(coalesce_across_replicas=True, coalesce_wait_ms=2000)
    one, two = ResponseCache(shared), ResponseCache(shared)
    leader = one.plan(config, *req())
    await one.lookup(leader)
    follower = two.plan(config, *req())
    other = asyncio.ensure_future(two.lookup(follower))
    await asyncio.sleep(0.03)
    await one.finish(leader, None)  # releases the lock without an entry
    assert await asyncio.wait_for(other, 1) is None
    assert follower.lock_token is not None
