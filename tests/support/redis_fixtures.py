"""pytest fixtures over :mod:`tests.support.redis`: session-scoped private servers, per-test clients.

Enable with ``pytest_plugins = ["tests.support.redis_fixtures"]`` in ``tests/conftest.py``. Clients are
function-scoped (each test's event loop gets its own) and flush the whole server or cluster at teardown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio import RedisCluster as ClusterClient

from proxy.store import create_redis
from schemas.store import StoreConfig
from tests.support.redis import RedisCluster, RedisServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from pathlib import Path

__all__ = [
    "redis_client",
    "redis_cluster",
    "redis_cluster_client",
    "redis_server",
    "redis_server_factory",
]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private standalone redis-server for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """One private 3-master Redis Cluster for the whole session."""
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Start throwaway servers a test may stop and restart (fault tests); all are stopped afterwards."""
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(tmp_path / f"redis{len(servers)}")
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


_SEMANTIC_TIMEOUT_S = 3.0
"""These clients test what the store computes, not how fast: the production 0.5 s command timeout
made a cluster contract test fail once when both cores were saturated by other jobs. Timeout
behaviour has its own tests (``test_store_faults.py``, ``test_script_lane.py``) with their own clients."""


@pytest_asyncio.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A client of the session server built like production (``create_redis``); FLUSHALL at teardown."""
    client = create_redis(
        StoreConfig(
            kind="redis",
            url=redis_server.url,
            connect_timeout_s=_SEMANTIC_TIMEOUT_S,
            command_timeout_s=_SEMANTIC_TIMEOUT_S,
        )
    )
    assert isinstance(client, Redis)
    yield client
    await client.flushall()
    await client.aclose()


@pytest_asyncio.fixture
async def redis_cluster_client(redis_cluster: RedisCluster) -> AsyncIterator[ClusterClient]:
    """A cluster client built like production; FLUSHALL on every primary at teardown."""
    client = create_redis(
        StoreConfig(
            kind="redis",
            url=redis_cluster.url,
            cluster=True,
            connect_timeout_s=_SEMANTIC_TIMEOUT_S,
            command_timeout_s=_SEMANTIC_TIMEOUT_S,
        )
    )
    assert isinstance(client, ClusterClient)
    yield client
    await client.flushall(target_nodes=ClusterClient.PRIMARIES)
    await client.aclose()
