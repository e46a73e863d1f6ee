"""Per-tenant response cache configuration (the ``cache:`` section of a tenant).

``mode`` decides which requests are cacheable: ``auto`` (the default) caches only requests whose answer is
deterministic (``temperature: 0`` or a ``seed``), ``always`` caches every request, ``never`` none. A client
can still opt out per request with ``Cache-Control: no-cache`` (do not read, refresh the entry) or
``no-store`` (neither read nor write).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import ConfigStruct

__all__ = ["CacheConfig", "CacheMode"]

CacheMode = Literal["auto", "always", "never"]


class CacheConfig(ConfigStruct, kw_only=True):
    """How one tenant's responses are cached."""

    mode: CacheMode = "auto"
    """``auto``: only deterministic requests (temperature 0 or a seed); ``always``; ``never``."""
    ttl_s: Annotated[int, msgspec.Meta(ge=1, le=30 * 86_400)] = 3600
    """How long an entry lives."""
    max_entry_bytes: Annotated[int, msgspec.Meta(ge=1024, le=16 * 1024 * 1024)] = 256 * 1024
    """Larger responses (encoded) are served but not stored."""
    coalesce_wait_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 30_000
    """How long identical concurrent misses wait for the first one's answer before going upstream themselves
    (0: never wait)."""
    coalesce_across_replicas: bool = False
    """Also coalesce across replicas with a short store lock: one extra round trip per miss, and waiters on
    other replicas poll the entry. Off by default: in-process coalescing removes most duplicates already."""
