"""The cache contract runs over every store: memory, Redis and Redis Cluster."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from proxy.store import MemoryStore, RedisStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from proxy.store.base import Store


@dataclass
class CacheStoreUnderTest:
    """A store plus a way to let its clock move forward by at least ``ms``."""

    store: Store
    advance: Callable[[int], Awaitable[None]]
    kind: str


class _Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now

    async def advance(self, ms: int) -> None:
        self.now += ms


async def _sleep_ms(ms: int) -> None:
    await asyncio.sleep(ms / 1000 + 0.01)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=pytest.mark.cluster),
    ]
)
def cache_store(request: pytest.FixtureRequest) -> Iterator[CacheStoreUnderTest]:
    """The store under test; Redis-backed ones are flushed (and closed) by their client fixtures."""
    if request.param == "memory":
        clock = _Clock()
        yield CacheStoreUnderTest(MemoryStore(clock), clock.advance, "memory")
        return
    client = request.getfixturevalue("redis_client" if request.param == "redis" else "redis_cluster_client")
    yield CacheStoreUnderTest(RedisStore(client), _sleep_ms, request.param)
