"""The Redis store: limits as three Lua scripts (one EVALSHA round trip each) and the API-key records.

On a standalone server over plain TCP the scripts run on their own pipelined connection
(``proxy.store.resp``: a quarter of redis-py's client-side CPU per call); everything else uses redis-py.

Scripts are loaded once per store (SCRIPT LOAD, on every primary of a cluster) and run with EVALSHA; a NOSCRIPT
reply (a restarted server has an empty script cache) reloads them once and retries. Both admission and
settlement are idempotent per reservation id, so redis-py retrying a call whose reply was lost cannot
double-count. Every redis-py failure that means "unreachable" becomes
:class:`~proxy.store.base.StoreUnavailableError` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

import msgspec
from redis.exceptions import NoScriptError

from proxy.store.base import (
    AdmitOp,
    AdmitOutcome,
    AdmitResult,
    BucketSpec,
    BucketState,
    SettleOp,
    StoreUnavailableError,
    UsageQuery,
    UsageSnapshot,
)
from proxy.store.connection import UNAVAILABLE_ERRORS
from proxy.store.naming import (
    KEYS_DIGEST_INDEX,
    KEYS_ID_INDEX,
    KEYS_TENANTS,
    cache_key,
    cache_lock_key,
    limit_keys,
    tenant_keys_hash,
)
from proxy.store.resp import lane_for
from proxy.store.scripts import LimitScripts, load_limit_scripts
from schemas.keys import KeyRecord

if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

    from proxy.store.connection import RedisClient

__all__ = ["RedisStore"]

_ADMIT, _SETTLE, _USAGE = range(3)
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
"""Compare-and-delete: a lock that expired and was taken by another replica is not released by the old owner."""
_OUTCOMES: dict[int, tuple[AdmitOutcome, str]] = {
    0: ("ok", ""),
    1: ("rate", ""),
    2: ("concurrency", "concurrency"),
    3: ("budget", "spend:tenant"),
    4: ("budget", "spend:key"),
    5: ("too_large", ""),
}


def _bucket_args(buckets: Sequence[BucketSpec], *, with_kind: bool) -> list[str | int]:
    args: list[str | int] = [len(buckets)]
    for b in buckets:
        args += [b.field, b.capacity, b.period_ms]
        if with_kind:
            args.append(1 if b.kind == "tokens" else 0)
    return args


def _states(buckets: Sequence[BucketSpec], flat: Sequence[int]) -> tuple[BucketState, ...]:
    return tuple(
        BucketState(b.field, b.kind, b.capacity, int(flat[2 * i]), int(flat[2 * i + 1])) for i, b in enumerate(buckets)
    )


class RedisStore:
    """:class:`~proxy.store.base.Store` over a standalone Redis or a Redis Cluster client."""

    def __init__(self, client: RedisClient, *, max_in_flight: int = 64) -> None:
        """Wrap ``client``; the store owns it from now on (``aclose`` closes it).

        Args:
            client: from :func:`~proxy.store.connection.create_redis`.
            max_in_flight: at most this many commands at once; set it to the pool size. redis-py's asyncio
                pools raise ``MaxConnectionsError`` instead of waiting when exhausted, which under a burst would
                look like an outage (and fail closed); queueing here makes a burst wait for a connection instead.
        """
        self._client = client
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._scripts = load_limit_scripts()
        self._shas = LimitScripts(
            *(hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest() for text in self._scripts)
        )
        self._load_lock = asyncio.Lock()
        self._loaded = False
        self._lane = lane_for(client)
        """The limit scripts' own connection (``proxy.store.resp``) when the client is plain TCP, standalone."""

    async def _load_scripts(self, *, stale: bool) -> None:
        # One coroutine loads, the others wait: a burst of NOSCRIPT replies (first use, or a restarted server
        # with an empty script cache) must not become a burst of SCRIPT LOADs, which trips redis-py's cluster
        # client into dropping healthy connections.
        async with self._load_lock:
            if self._loaded and not stale:
                return
            for text in self._scripts:
                await self._client.script_load(text)
            self._loaded = True

    async def _run(self, index: int, keys: list[str], args: list[str | int]) -> Any:
        """EVALSHA script ``index`` (loading it first when needed): one round trip in the steady state."""
        try:
            if not self._loaded:
                await self._load_scripts(stale=False)
            async with self._in_flight:
                try:
                    return await self._evalsha(index, keys, args)
                except NoScriptError:
                    pass
            self._loaded = False
            await self._load_scripts(stale=False)
            async with self._in_flight:
                return await self._evalsha(index, keys, args)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailableError(f"store unreachable: {type(exc).__name__}") from exc

    async def _evalsha(self, index: int, keys: list[str], args: list[str | int]) -> Any:
        if self._lane is not None:
            return await self._lane.evalsha(self._shas[index], keys, args)
        return await self._client.evalsha(self._shas[index], len(keys), *keys, *args)

    async def _call(self, awaitable: Awaitable[Any]) -> Any:
        try:
            async with self._in_flight:
                return await awaitable
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailableError(f"store unreachable: {type(exc).__name__}") from exc

    async def admit(self, op: AdmitOp) -> AdmitResult:
        """See :meth:`proxy.store.base.LimitsStore.admit`."""
        tenant_cap = -1 if op.tenant_spend.cap_micro_usd is None else op.tenant_spend.cap_micro_usd
        key_cap, key_slot = -1, 0
        if op.key_spend is not None:
            key_cap = -1 if op.key_spend.cap_micro_usd is None else op.key_spend.cap_micro_usd
            key_slot = op.key_spend.slot_ms
        args: list[str | int] = [
            op.reservation_id,
            op.lease_ms,
            int(op.stream),
            op.max_concurrent_streams or 0,
            op.prompt_tokens,
            op.max_output_tokens,
            op.input_micro_per_mtok,
            op.output_micro_per_mtok,
            tenant_cap,
            op.tenant_spend.slot_ms,
            key_cap,
            key_slot,
            int(op.clamp),
            op.key_id,
            *_bucket_args(op.buckets, with_kind=True),
        ]
        raw = await self._run(_ADMIT, limit_keys(op.tenant, op.key_id), args)
        code, retry, max_out, usd, failed_index = (int(x) for x in raw[:5])
        outcome, failed = _OUTCOMES[code]
        if failed_index:
            failed = op.buckets[failed_index - 1].field
        return AdmitResult(
            outcome=outcome,
            retry_after_ms=retry,
            max_output_tokens=max_out,
            reserved_micro_usd=usd,
            buckets=_states(op.buckets, raw[5:]),
            failed=failed,
        )

    async def settle(self, op: SettleOp) -> bool:
        """See :meth:`proxy.store.base.LimitsStore.settle`."""
        args: list[str | int] = [
            op.reservation_id,
            op.cost_micro_usd,
            op.used_tokens,
            *_bucket_args(op.token_buckets, with_kind=False),
        ]
        raw = await self._run(_SETTLE, limit_keys(op.tenant, op.key_id), args)
        return int(raw) == 1

    async def usage(self, query: UsageQuery) -> UsageSnapshot:
        """See :meth:`proxy.store.base.LimitsStore.usage`."""
        args: list[str | int] = [query.tenant_spend.slot_ms, *_bucket_args(query.buckets, with_kind=False)]
        raw = await self._run(_USAGE, limit_keys(query.tenant, ""), args)
        spent, open_usd, n_open, conc, charged, expired = (int(x) for x in raw[:6])
        return UsageSnapshot(
            spent_micro_usd=spent,
            open_micro_usd=open_usd,
            open_reservations=n_open,
            concurrent_streams=conc,
            charged_total_micro_usd=charged,
            expired_reservations=expired,
            buckets=_states(query.buckets, raw[6:]),
        )

    async def put_key(self, record: KeyRecord) -> None:
        """See :meth:`proxy.store.base.KeyStore.put_key`.

        Not atomic across the tenant's slot and the index slot; the record is written before the indexes point
        at it, so a concurrent lookup sees the old key or the new one, never a dangling index entry.
        """
        old = await self._get_by_id(record.key_id)
        await self._call(self._client.hset(tenant_keys_hash(record.tenant), record.key_id, msgspec.json.encode(record)))
        await self._call(self._client.hset(KEYS_ID_INDEX, record.key_id, record.tenant))
        await self._call(self._client.hset(KEYS_DIGEST_INDEX, record.digest, f"{record.tenant}\n{record.key_id}"))
        await self._call(self._client.sadd(KEYS_TENANTS, record.tenant))
        if old is not None and old.digest != record.digest:
            await self._call(self._client.hdel(KEYS_DIGEST_INDEX, old.digest))
        if old is not None and old.tenant != record.tenant:
            await self._call(self._client.hdel(tenant_keys_hash(old.tenant), record.key_id))

    async def _get_by_id(self, key_id: str) -> KeyRecord | None:
        tenant = await self._call(self._client.hget(KEYS_ID_INDEX, key_id))
        if tenant is None:
            return None
        raw = await self._call(self._client.hget(tenant_keys_hash(tenant.decode()), key_id))
        return None if raw is None else msgspec.json.decode(raw, type=KeyRecord)

    async def get_key(self, digest: str) -> KeyRecord | None:
        """See :meth:`proxy.store.base.KeyStore.get_key`."""
        ref = await self._call(self._client.hget(KEYS_DIGEST_INDEX, digest))
        if ref is None:
            return None
        tenant, _, key_id = ref.decode().partition("\n")
        raw = await self._call(self._client.hget(tenant_keys_hash(tenant), key_id))
        if raw is None:
            return None
        record = msgspec.json.decode(raw, type=KeyRecord)
        return record if record.digest == digest else None

    async def revoke_key(self, key_id: str) -> bool:
        """See :meth:`proxy.store.base.KeyStore.revoke_key`."""
        record = await self._get_by_id(key_id)
        if record is None:
            return False
        revoked = msgspec.structs.replace(record, revoked=True)
        await self._call(self._client.hset(tenant_keys_hash(record.tenant), key_id, msgspec.json.encode(revoked)))
        return True

    async def list_keys(self, tenant: str | None = None) -> list[KeyRecord]:
        """See :meth:`proxy.store.base.KeyStore.list_keys`."""
        if tenant is None:
            tenants = sorted(t.decode() for t in await self._call(self._client.smembers(KEYS_TENANTS)))
        else:
            tenants = [tenant]
        records: list[KeyRecord] = []
        for name in tenants:
            raw = await self._call(self._client.hvals(tenant_keys_hash(name)))
            records += (msgspec.json.decode(v, type=KeyRecord) for v in raw)
        return sorted(records, key=lambda r: r.key_id)

    async def warm(self) -> None:
        """Connect (discovering a cluster's nodes) and load the scripts now, best effort.

        Called at startup so the first burst of traffic does not pay for discovery and script
        loading on a busy event loop (where the connect timeout could expire and a limit that
        fails closed would refuse requests). Errors are ignored: the request path retries.
        """
        try:
            await self.ping()
            await self._load_scripts(stale=False)
        except UNAVAILABLE_ERRORS:
            return

    async def ping(self) -> bool:
        """See :meth:`proxy.store.base.Store.ping`."""
        try:
            async with self._in_flight:
                return bool(await self._client.ping())
        except UNAVAILABLE_ERRORS:
            return False

    async def aclose(self) -> None:
        """Close the client and its connection pool(s)."""
        self.detach()
        await self._client.aclose()

    def detach(self) -> None:
        """Close only the store's own script connection, leaving the client open (its creator closes it)."""
        if self._lane is not None:
            self._lane.close()

    async def cache_get(self, tenant: str, digest: str) -> bytes | None:
        """See :meth:`proxy.store.base.CacheStore.cache_get`."""
        value = await self._call(self._client.get(cache_key(tenant, digest)))
        return None if value is None else bytes(value)

    async def cache_put(self, tenant: str, digest: str, value: bytes, ttl_ms: int) -> None:
        """See :meth:`proxy.store.base.CacheStore.cache_put`."""
        await self._call(self._client.set(cache_key(tenant, digest), value, px=ttl_ms))

    async def cache_lock(self, tenant: str, digest: str, token: str, ttl_ms: int) -> bool:
        """See :meth:`proxy.store.base.CacheStore.cache_lock`."""
        return bool(await self._call(self._client.set(cache_lock_key(tenant, digest), token, px=ttl_ms, nx=True)))

    async def cache_unlock(self, tenant: str, digest: str, token: str) -> None:
        """See :meth:`proxy.store.base.CacheStore.cache_unlock`."""
        # Plain EVAL: an unlock happens once per cross-replica miss, not worth a script cache entry per node.
        await self._call(self._client.eval(_UNLOCK, 1, cache_lock_key(tenant, digest), token))
