"""Store fixtures for the contract tests (limits, keys, cache): the same tests run over memory, Redis and Cluster."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from proxy.store import MemoryStore, RedisStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from proxy.store.base import Store

__all__ = ["StoreUnderTest", "store"]


@dataclass
class StoreUnderTest:
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
    # Redis time is real time; a few ms of slack so the server's clock has surely passed the mark
    await asyncio.sleep(ms / 1000 + 0.01)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=pytest.mark.cluster),
    ]
)
def store(request: pytest.FixtureRequest) -> Iterator[StoreUnderTest]:
    """The store under test; Redis-backed ones are flushed by their client fixtures."""
    if request.param == "memory":
        clock = _Clock()
        yield StoreUnderTest(MemoryStore(clock), clock.advance, "memory")
        return
    client = request.getfixturevalue("redis_client" if request.param == "redis" else "redis_cluster_client")
    # the client fixture closes the client after flushing; the store must not close it first
    store = RedisStore(client)
    yield StoreUnderTest(store, _sleep_ms, request.param)
    store.detach()  # only the store's own script connection
