"""Shared state: the limits operations, API-key records, and the two stores (memory, Redis) behind one contract.

Only this package imports redis. Callers use :func:`create_store` and the :class:`Store` protocol.
"""

from __future__ import annotations

from proxy.store.base import (
    AdmitOp,
    AdmitResult,
    BucketSpec,
    BucketState,
    CacheStore,
    KeyStore,
    LimitsStore,
    SettleOp,
    SpendSpec,
    Store,
    StoreUnavailableError,
    UsageQuery,
    UsageSnapshot,
)
from proxy.store.connection import create_redis
from proxy.store.factory import create_store
from proxy.store.memory import MemoryStore
from proxy.store.redis import RedisStore

__all__ = [
    "AdmitOp",
    "AdmitResult",
    "BucketSpec",
    "BucketState",
    "CacheStore",
    "KeyStore",
    "LimitsStore",
    "MemoryStore",
    "RedisStore",
    "SettleOp",
    "SpendSpec",
    "Store",
    "StoreUnavailableError",
    "UsageQuery",
    "UsageSnapshot",
    "create_redis",
    "create_store",
]
