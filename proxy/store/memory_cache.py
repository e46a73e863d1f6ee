"""The memory store's response-cache table: TTL entries, fill locks, and a byte budget with LRU eviction.

The embedded default has no ``maxmemory`` policy to lean on, so the table bounds itself: once the stored
bytes exceed ``max_bytes`` the least recently used entries go first (Redis deployments should set
``maxmemory-policy volatile-lru`` or ``allkeys-lru`` for the same effect). Every operation completes without
awaiting, so it is atomic with respect to other coroutines, as the Redis commands are.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DEFAULT_CACHE_MAX_BYTES", "MemoryCacheTable"]

DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024
"""The memory store keeps at most this many bytes of cached responses."""


class MemoryCacheTable:
    """Cache entries and locks of every tenant of one :class:`~proxy.store.memory.MemoryStore`."""

    def __init__(self, clock: Callable[[], int], max_bytes: int = DEFAULT_CACHE_MAX_BYTES) -> None:
        """``clock`` returns milliseconds (the store's clock)."""
        self._clock = clock
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[tuple[str, str], tuple[bytes, int]] = OrderedDict()
        self._locks: dict[tuple[str, str], tuple[str, int]] = {}

    @property
    def stored_bytes(self) -> int:
        """Bytes held by live and not yet evicted entries."""
        return self._bytes

    def get(self, tenant: str, digest: str) -> bytes | None:
        """See :meth:`proxy.store.base.CacheStore.cache_get`."""
        slot = (tenant, digest)
        found = self._entries.get(slot)
        if found is None:
            return None
        value, expires = found
        if expires <= self._clock():
            self._drop(slot)
            return None
        self._entries.move_to_end(slot)
        return value

    def put(self, tenant: str, digest: str, value: bytes, ttl_ms: int) -> None:
        """See :meth:`proxy.store.base.CacheStore.cache_put`."""
        slot = (tenant, digest)
        if slot in self._entries:
            self._drop(slot)
        if len(value) > self._max_bytes:
            return
        self._entries[slot] = (value, self._clock() + ttl_ms)
        self._bytes += len(value)
        now = self._clock()
        while self._bytes > self._max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
        # Expired entries are otherwise only dropped when read: sweep a few from the cold end on each write.
        for _ in range(4):
            if not self._entries:
                break
            oldest = next(iter(self._entries))
            if self._entries[oldest][1] > now:
                break
            self._drop(oldest)

    def lock(self, tenant: str, digest: str, token: str, ttl_ms: int) -> bool:
        """See :meth:`proxy.store.base.CacheStore.cache_lock`."""
        slot = (tenant, digest)
        now = self._clock()
        held = self._locks.get(slot)
        if held is not None and held[1] > now:
            return False
        self._locks[slot] = (token, now + ttl_ms)
        return True

    def unlock(self, tenant: str, digest: str, token: str) -> None:
        """See :meth:`proxy.store.base.CacheStore.cache_unlock`."""
        slot = (tenant, digest)
        held = self._locks.get(slot)
        if held is not None and held[0] == token:
            del self._locks[slot]

    def _drop(self, slot: tuple[str, str]) -> None:
        value, _ = self._entries.pop(slot)
        self._bytes -= len(value)
