"""Build the configured store (the lifespan calls this once per process and closes it on shutdown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxy.store.connection import create_redis
from proxy.store.memory import MemoryStore
from proxy.store.redis import RedisStore

if TYPE_CHECKING:
    from proxy.store.base import Store
    from schemas.store import StoreConfig

__all__ = ["create_store"]


def create_store(config: StoreConfig) -> Store:
    """A :class:`MemoryStore` for ``kind: memory``, else a :class:`RedisStore` over :func:`create_redis`."""
    if config.kind == "memory":
        return MemoryStore()
    return RedisStore(create_redis(config), max_in_flight=config.max_connections)
