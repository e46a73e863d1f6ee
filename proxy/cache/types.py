"""The cache's data: the stored entry, the per-request plan, a hit, and the counters metrics read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import msgspec

from schemas.chat import ChatCompletion

if TYPE_CHECKING:
    import asyncio

    from schemas.cache import CacheConfig

__all__ = ["CacheEntry", "CacheHit", "CachePlan", "CacheStats", "CacheStatus", "Found"]

CacheStatus = Literal["hit", "miss", "bypass"]

Found = tuple[ChatCompletion, int]
"""A cached answer and what it originally cost (µ$)."""


class CacheEntry(msgspec.Struct, kw_only=True):
    """What one cache entry holds (msgspec JSON in the store)."""

    v: int
    tenant: str
    alias: str
    cost_micro_usd: int
    """What the original answer cost: what every hit saves."""
    completion: ChatCompletion


@dataclass(slots=True)
class CachePlan:
    """The cache's decision for one request, and its progress (not shared between requests)."""

    status: CacheStatus
    """``bypass`` (not looked up), ``miss``, or ``hit`` once :meth:`ResponseCache.lookup` found it."""
    tenant: str
    alias: str
    digest: str | None = None
    """The hex request key; ``None`` when the cache is not involved at all."""
    read: bool = False
    write: bool = False
    config: CacheConfig | None = None
    flight: asyncio.Future[Found | None] | None = None
    """Set when this request leads a single-flight: its waiters get what :meth:`ResponseCache.finish` gets."""
    lock_token: str | None = None
    finished: bool = False


@dataclass(slots=True, frozen=True)
class CacheHit:
    """A cached answer for the request."""

    completion: ChatCompletion
    saved_micro_usd: int
    coalesced: bool = False
    """Served from a concurrent identical request's answer rather than read from the store."""


@dataclass(slots=True)
class CacheStats:
    """Counters since start (the metrics layer reads them)."""

    hits: int = 0
    coalesced: int = 0
    """Hits served by waiting for an identical in-flight request (included in ``hits``)."""
    misses: int = 0
    bypasses: int = 0
    stored: int = 0
    not_stored: int = 0
    """Complete answers that were not stored: too large, truncated, blocked or failed."""
    store_errors: int = 0
    saved_micro_usd: int = 0
    degraded: bool = False
    """The store failed recently: the cache is failing open."""
