"""The per-tenant response cache: keys, the service the chat path calls, and streaming replay.

See :mod:`proxy.cache.service` for the decisions (what is cacheable and stored, coalescing, limits, outages).
"""

from __future__ import annotations

from proxy.cache.key import config_fingerprint, is_deterministic, request_key
from proxy.cache.replay import replay_chunks, replay_stream
from proxy.cache.service import CACHE_HEADER, ResponseCache
from proxy.cache.types import CacheEntry, CacheHit, CachePlan, CacheStats, CacheStatus

__all__ = [
    "CACHE_HEADER",
    "CacheEntry",
    "CacheHit",
    "CachePlan",
    "CacheStats",
    "CacheStatus",
    "ResponseCache",
    "config_fingerprint",
    "is_deterministic",
    "replay_chunks",
    "replay_stream",
    "request_key",
]
