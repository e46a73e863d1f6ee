"""The cache store contract and the ResponseCache over memory, Redis and Redis Cluster; Redis outages fail open."""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING

import msgspec
import pytest

from proxy.cache import ResponseCache
from proxy.pipeline.decode import decode_chat_request
from proxy.store import RedisStore, create_redis
from schemas.chat import ChatCompletion, ChatCompletionRequest, Choice, ResponseMessage, Usage
from schemas.config import TenantConfig
from schemas.store import StoreConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from redis.asyncio import Redis

    from tests.support.redis import RedisServer
    from tests.support.stores import StoreUnderTest

DIGEST = hashlib.sha256(b"request").hexdigest()
ANSWER = ChatCompletion(
    id="c1",
    model="m",
    choices=[Choice(message=ResponseMessage(content="cached words"), finish_reason="stop")],
    usage=Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5),
)


def request() -> tuple[ChatCompletionRequest, dict[str, msgspec.Raw]]:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 7}
    return decode_chat_request(msgspec.json.encode(body))


def degraded(cache: ResponseCache) -> bool:
    # a function, so mypy does not keep the attribute narrowed across the outage
    return cache.stats.degraded


async def test_put_get_and_tenant_isolation(store: StoreUnderTest) -> None:
    s = store.store
    assert await s.cache_get("acme", DIGEST) is None
    await s.cache_put("acme", DIGEST, b"entry-1", 60_000)
    assert await s.cache_get("acme", DIGEST) == b"entry-1"
    assert await s.cache_get("globex", DIGEST) is None
    await s.cache_put("acme", DIGEST, b"entry-2", 60_000)
    assert await s.cache_get("acme", DIGEST) == b"entry-2"


async def test_entries_expire(store: StoreUnderTest) -> None:
    s = store.store
    await s.cache_put("acme", DIGEST, b"short", 40)
    assert await s.cache_get("acme", DIGEST) == b"short"
    await store.advance(60)
    assert await s.cache_get("acme", DIGEST) is None


async def test_fill_lock_is_exclusive_owned_and_expires(store: StoreUnderTest) -> None:
    s = store.store
    assert await s.cache_lock("acme", DIGEST, "one", 60_000)
    assert not await s.cache_lock("acme", DIGEST, "two", 60_000)
    assert await s.cache_lock("globex", DIGEST, "two", 60_000)  # another tenant's lock
    await s.cache_unlock("acme", DIGEST, "two")  # not the owner: no effect
    assert not await s.cache_lock("acme", DIGEST, "three", 60_000)
    await s.cache_unlock("acme", DIGEST, "one")
    assert await s.cache_lock("acme", DIGEST, "three", 40)
    await store.advance(60)
    assert await s.cache_lock("acme", DIGEST, "four", 60_000)


async def test_response_cache_round_trip(store: StoreUnderTest) -> None:
    cache = ResponseCache(store.store)
    acme, globex = TenantConfig(id="acme"), TenantConfig(id="globex")
    plan = cache.plan(acme, *request())
    assert await cache.lookup(plan) is None
    assert await cache.finish(plan, ANSWER, cost_micro_usd=11)
    hit = await cache.lookup(cache.plan(acme, *request()))
    assert hit is not None
    assert hit.completion == ANSWER
    assert hit.saved_micro_usd == 11
    other = cache.plan(globex, *request())
    assert await cache.lookup(other) is None
    await cache.finish(other, None)


@pytest.mark.redis
async def test_redis_keys_carry_the_tenant_hash_tag(redis_client: Redis) -> None:
    cache = ResponseCache(RedisStore(redis_client))
    plan = cache.plan(TenantConfig(id="acme"), *request())
    await cache.lookup(plan)
    await cache.finish(plan, ANSWER)
    keys = [k.decode() if isinstance(k, bytes) else k for k in await redis_client.keys("*")]
    assert keys == [f"gw:{{t:acme}}:cache:{plan.digest}"]
    ttl = await redis_client.pttl(keys[0])
    assert 3_500_000 < ttl <= 3_600_000


@pytest.mark.redis
async def test_redis_down_fails_open_and_recovers(redis_server_factory: Callable[[], RedisServer]) -> None:
    server = redis_server_factory()
    config = StoreConfig(kind="redis", url=server.url, connect_timeout_s=0.2, command_timeout_s=0.2)
    store = RedisStore(create_redis(config))
    now = [0.0]
    cache = ResponseCache(store, clock=lambda: now[0])
    acme = TenantConfig(id="acme")
    try:
        plan = cache.plan(acme, *request())
        await cache.lookup(plan)
        assert await cache.finish(plan, ANSWER)
        server.stop()
        loop = asyncio.get_running_loop()
        started = loop.time()
        plan = cache.plan(acme, *request())
        assert await cache.lookup(plan) is None  # fails open: the caller goes upstream
        assert not await cache.finish(plan, ANSWER)
        assert loop.time() - started < 3
        assert cache.stats.degraded
        assert cache.stats.store_errors >= 1
        server.start()  # same port, empty data
        now[0] += 2
        plan = cache.plan(acme, *request())
        assert await cache.lookup(plan) is None
        assert not degraded(cache)
        assert await cache.finish(plan, ANSWER)
        assert await cache.lookup(cache.plan(acme, *request())) is not None
    finally:
        await store.aclose()
