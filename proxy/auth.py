"""API keys: minting, hashing, and resolving a presented key to a tenant and its scopes.

Keys are random (``gw-`` + 43 URL-safe characters, 256 bits), shown once, and stored only
as ``sha256:<hex>`` digests: in config for static keys, in the shared store for keys made
with ``gateway keys create`` or the admin API. A presented key is hashed and looked up by
digest; the matched digest is compared again in constant time.

Lookups are cached in-process for ``server.key_cache_ttl_s`` (at most one second), misses
included, so a burst of requests costs one store read per key per second, and a revocation
reaches every replica within that time. Static keys never touch the store.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from proxy.errors import AuthenticationError, ServiceUnavailableError
from proxy.store.base import StoreUnavailableError
from schemas.keys import KeyRecord

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from proxy.store.base import KeyStore
    from schemas.config import TenantConfig

__all__ = ["Authenticator", "Principal", "digest_key", "mint_key", "new_key", "presented_key"]

_KEY_PREFIX = "gw-"


def mint_key() -> str:
    """A new random API key (shown to its owner once, never stored)."""
    return _KEY_PREFIX + secrets.token_urlsafe(32)


def new_key(
    tenant: str,
    *,
    key_id: str | None = None,
    scopes: Iterable[str] = ("chat",),
    models: Iterable[str] = ("*",),
) -> tuple[str, KeyRecord]:
    """Mint a key for ``tenant``: the secret (shown once) and the record to store (its digest only).

    A default ``key_id`` is random, never derived from the key: ids appear in logs and listings.
    """
    key = mint_key()
    record = KeyRecord(
        key_id=key_id or f"{tenant}-{secrets.token_hex(4)}",
        tenant=tenant,
        digest=digest_key(key),
        scopes=tuple(scopes),
        models=tuple(models),
        created_at=int(time.time()),
    )
    return key, record


def digest_key(key: str) -> str:
    """The stored form of a key: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def presented_key(authorization: str | None, api_key_header: str | None) -> str | None:
    """The key from ``Authorization: Bearer <key>`` (OpenAI SDK) or ``x-api-key`` (Anthropic style)."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if api_key_header and api_key_header.strip():
        return api_key_header.strip()
    return None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, its tenant, and what it may do."""

    key_id: str
    tenant: TenantConfig
    scopes: frozenset[str]
    models: tuple[str, ...]

    def may_use(self, alias: str) -> bool:
        """Whether the key's model patterns admit ``alias``."""
        return any(pattern == "*" or fnmatch.fnmatchcase(alias, pattern) for pattern in self.models)

    def has_scope(self, scope: str) -> bool:
        """Whether the key holds ``scope``."""
        return scope in self.scopes


class Authenticator:
    """Resolves presented keys; one per process."""

    def __init__(
        self,
        tenants: Iterable[TenantConfig],
        store: KeyStore | None,
        *,
        cache_ttl_s: float = 1.0,
        extra_keys: Iterable[KeyRecord] = (),
    ) -> None:
        self._tenants: Mapping[str, TenantConfig] = {t.id: t for t in tenants}
        self._static: dict[str, KeyRecord] = {}
        for tenant in self._tenants.values():
            for key in tenant.keys:
                self._static[key.digest] = KeyRecord(
                    key_id=key.id, tenant=tenant.id, digest=key.digest, scopes=key.scopes, models=key.models
                )
        for record in extra_keys:
            self._static[record.digest] = record
        self._store = store
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}

    def tenant(self, tenant_id: str) -> TenantConfig | None:
        """A configured tenant."""
        return self._tenants.get(tenant_id)

    @property
    def static_keys(self) -> list[KeyRecord]:
        """Keys written in config."""
        return list(self._static.values())

    async def authenticate(self, key: str | None) -> Principal:
        """Resolve ``key``.

        Raises:
            AuthenticationError: missing, unknown or revoked key, or a key of an unknown tenant.
            ServiceUnavailableError: the key is not static and the store cannot be reached.
        """
        if not key:
            raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
        digest = digest_key(key)
        record = self._static.get(digest)
        if record is None:
            record = await self._lookup(digest)
        if record is None or record.revoked or not hmac.compare_digest(record.digest, digest):
            raise AuthenticationError("invalid or revoked API key")
        tenant = self._tenants.get(record.tenant)
        if tenant is None:
            raise AuthenticationError("invalid or revoked API key")
        return Principal(record.key_id, tenant, frozenset(record.scopes), record.models)

    def forget(self, digest: str | None = None) -> None:
        """Drop cached lookups (all, or one digest): used after a local revoke."""
        if digest is None:
            self._cache.clear()
        else:
            self._cache.pop(digest, None)

    async def _lookup(self, digest: str) -> KeyRecord | None:
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self._store is None:
            return None
        try:
            record = await self._store.get_key(digest)
        except StoreUnavailableError as exc:
            raise ServiceUnavailableError("the key store is unreachable; try again shortly") from exc
        if len(self._cache) > 100_000:
            # Bound memory under a flood of random keys: expired entries first, else start over.
            self._cache = {d: v for d, v in self._cache.items() if v[0] > now}
            if len(self._cache) > 100_000:
                self._cache.clear()
        self._cache[digest] = (now + self._ttl, record)
        return record
