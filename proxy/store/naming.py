"""Redis key names. Every key of a tenant carries the hash tag ``{t:<tenant>}`` so that one script call touches
one Redis Cluster slot; the API-key indexes (digest -> tenant, key id -> tenant) live under their own tag
``{keys}`` because a lookup by digest does not know the tenant yet.
"""

from __future__ import annotations

__all__ = [
    "KEYS_DIGEST_INDEX",
    "KEYS_ID_INDEX",
    "KEYS_TENANTS",
    "cache_key",
    "cache_lock_key",
    "limit_keys",
    "tenant_keys_hash",
]

KEYS_DIGEST_INDEX = "gw:{keys}:digest"
"""Hash: ``sha256:<hex>`` -> ``<tenant>\\n<key_id>``."""
KEYS_ID_INDEX = "gw:{keys}:id"
"""Hash: key id -> tenant."""
KEYS_TENANTS = "gw:{keys}:tenants"
"""Set of tenants that have at least one key."""


def _prefix(tenant: str) -> str:
    return f"gw:{{t:{tenant}}}:"


def limit_keys(tenant: str, key_id: str) -> list[str]:
    """The six keys of the limit scripts, in the order ``lib.lua`` documents."""
    p = _prefix(tenant)
    return [p + "b", p + "r", p + "l", p + "m", p + "s", f"{p}s:k:{key_id}"]


def tenant_keys_hash(tenant: str) -> str:
    """Hash of the tenant's key records: key id -> encoded :class:`~schemas.keys.KeyRecord`."""
    return _prefix(tenant) + "keys"


def cache_key(tenant: str, digest: str) -> str:
    """A response-cache entry: ``gw:{t:<tenant>}:cache:<hex sha-256>``."""
    return f"{_prefix(tenant)}cache:{digest}"


def cache_lock_key(tenant: str, digest: str) -> str:
    """The cross-replica fill lock of one cache entry (same slot as the entry)."""
    return f"{_prefix(tenant)}cache-lock:{digest}"
