"""Redis client construction and the one mapping from redis-py failures to :class:`StoreUnavailableError`.

The client is built once per process (the lifespan owns it) with short timeouts and few retries: a limit that
fails closed should answer 503 within about a second, not after redis-py's default of ten retries. The pool
reconnects by itself, so traffic resumes without a restart once Redis is back; EVALSHA after a restarted
(empty) script cache is reloaded by redis-py's ``Script`` wrapper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis import exceptions as redis_errors
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

if TYPE_CHECKING:
    from schemas.store import StoreConfig

__all__ = ["UNAVAILABLE_ERRORS", "RedisClient", "create_redis"]

RedisClient = Redis | RedisCluster
"""Either client: both expose the commands and ``register_script`` the stores use."""

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.ClusterError,
    redis_errors.TryAgainError,
    redis_errors.ReadOnlyError,
    redis_errors.RedisClusterException,
    OSError,
    TimeoutError,
)
"""Failures that mean "the store is not reachable right now" (as opposed to a bug in a script or a call)."""


def create_redis(config: StoreConfig) -> RedisClient:
    """Build the asyncio client described by ``config`` (no I/O until the first command).

    Args:
        config: the ``store:`` section; ``kind`` must be ``redis``.

    Returns:
        a ``redis.asyncio.Redis``, or a ``RedisCluster`` when ``config.cluster`` is set.
    """
    retry = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=config.retries)
    if config.cluster:
        return RedisCluster.from_url(
            config.url,
            retry=retry,
            socket_timeout=config.command_timeout_s,
            socket_connect_timeout=config.connect_timeout_s,
            max_connections=config.max_connections,
        )
    return Redis.from_url(
        config.url,
        retry=retry,
        socket_timeout=config.command_timeout_s,
        socket_connect_timeout=config.connect_timeout_s,
        max_connections=config.max_connections,
    )
