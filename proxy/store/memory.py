"""The in-memory store: the embedded default (one process) with the same contract as the Redis scripts.

Each operation runs to completion without awaiting, so it is atomic with respect to other coroutines on the event
loop, just as a Lua script is atomic on Redis. The arithmetic mirrors ``lua/*.lua`` line for line (bucket levels
in token*ms units, 61 spend sub-windows, full charge on lease expiry), and the same contract tests run against
both. The clock is injected (milliseconds) so tests can move time without sleeping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from proxy.store.base import (
    SPEND_SUBWINDOWS,
    AdmitOp,
    AdmitOutcome,
    AdmitResult,
    BucketSpec,
    BucketState,
    SettleOp,
    UsageQuery,
    UsageSnapshot,
)
from proxy.store.memory_cache import MemoryCacheTable

if TYPE_CHECKING:
    from collections.abc import Callable

    from schemas.keys import KeyRecord

__all__ = ["MemoryStore", "wall_clock_ms"]

_N = SPEND_SUBWINDOWS


def wall_clock_ms() -> int:
    """Milliseconds since the epoch (the default clock; tests inject their own)."""
    return time.time_ns() // 1_000_000


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class _Reservation:
    usd: int
    tokens: int
    stream: bool
    tenant_slot_ms: int
    key_slot_ms: int
    max_out: int
    key_id: str
    expires_ms: int


@dataclass
class _TenantState:
    buckets: dict[str, tuple[int, int]] = field(default_factory=dict)
    reservations: dict[str, _Reservation] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    rings: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)

    def add(self, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta

    def level(self, b: BucketSpec, now: int) -> int:
        full = b.capacity * b.period_ms
        stored = self.buckets.get(b.field)
        if stored is None:
            return full
        level, ts = stored
        if now > ts:
            level += (now - ts) * b.capacity
        return min(level, full)

    def spent(self, ring: str, slot_ms: int, now: int) -> tuple[int, int | None]:
        cur = now // slot_ms
        live = [(s, a) for s, a in self.rings.get(ring, {}).values() if s >= cur - _N and a > 0]
        return sum(a for _, a in live), min((s for s, _ in live), default=None)

    def charge(self, ring: str, slot_ms: int, amount: int, now: int) -> None:
        if amount <= 0 or slot_ms <= 0:
            return
        slot = now // slot_ms
        cells = self.rings.setdefault(ring, {})
        prev_slot, prev = cells.get(slot % (_N + 1), (slot, 0))
        cells[slot % (_N + 1)] = (slot, (prev if prev_slot == slot else 0) + amount)

    def close(self, rid: str, r: _Reservation, cost: int, now: int) -> None:
        del self.reservations[rid]
        self.add("open", -r.usd)
        self.add("charged", cost)
        if r.stream:
            self.add("conc", -1)
        self.charge("t", r.tenant_slot_ms, cost, now)
        if r.key_slot_ms > 0:
            self.add(f"open:k:{r.key_id}", -r.usd)
            self.charge(f"k:{r.key_id}", r.key_slot_ms, cost, now)

    def sweep(self, now: int) -> None:
        expired = sorted((r.expires_ms, rid) for rid, r in self.reservations.items() if r.expires_ms <= now)
        for _, rid in expired:
            r = self.reservations[rid]
            self.close(rid, r, r.usd, now)
            self.add("expired", 1)


def _view(b: BucketSpec, level: int) -> BucketState:
    full = b.capacity * b.period_ms
    return BucketState(b.field, b.kind, b.capacity, level // b.period_ms, _ceil_div(full - level, b.capacity))


def _affordable(avail: int, prompt_units: int, p_out: int, want: int) -> int:
    if avail * 1_000_000 < prompt_units:
        return -1
    if p_out == 0:
        return want
    return (avail * 1_000_000 - prompt_units) // p_out


class MemoryStore:
    """:class:`~proxy.store.base.Store` held in this process's memory."""

    def __init__(self, clock: Callable[[], int] = wall_clock_ms) -> None:
        """Start empty; ``clock`` returns the current time in milliseconds."""
        self._clock = clock
        self._tenants: dict[str, _TenantState] = {}
        self._keys: dict[str, KeyRecord] = {}
        self._by_digest: dict[str, str] = {}
        self._cache = MemoryCacheTable(clock)

    def _tenant(self, name: str) -> _TenantState:
        return self._tenants.setdefault(name, _TenantState())

    async def admit(self, op: AdmitOp) -> AdmitResult:  # noqa: C901 - one straight-line mirror of admit.lua
        """See :meth:`proxy.store.base.LimitsStore.admit`."""
        now = self._clock()
        st = self._tenant(op.tenant)
        st.sweep(now)
        levels = [st.level(b, now) for b in op.buckets]

        def reply(
            outcome: AdmitOutcome, retry: int = 0, failed: str = "", max_out: int = 0, usd: int = 0
        ) -> AdmitResult:
            states = tuple(_view(b, lv) for b, lv in zip(op.buckets, levels, strict=True))
            return AdmitResult(
                outcome=outcome,
                retry_after_ms=retry,
                max_output_tokens=max_out,
                reserved_micro_usd=usd,
                buckets=states,
                failed=failed,
            )

        existing = st.reservations.get(op.reservation_id)
        if existing is not None:
            return reply("ok", max_out=existing.max_out, usd=existing.usd)

        prompt_units = op.prompt_tokens * op.input_micro_per_mtok
        max_out = op.max_output_tokens
        scopes = [("t", op.tenant_spend, "open", "spend:tenant")]
        if op.key_spend is not None:
            scopes.append((f"k:{op.key_id}", op.key_spend, f"open:k:{op.key_id}", "spend:key"))
        for ring, spec, open_field, name in scopes:
            if spec.cap_micro_usd is None:
                continue
            spent, oldest = st.spent(ring, spec.slot_ms, now)
            avail = spec.cap_micro_usd - spent - st.counters.get(open_field, 0)
            fit = _affordable(avail, prompt_units, op.output_micro_per_mtok, op.max_output_tokens)
            if fit >= max_out:
                continue
            if op.clamp and fit >= 1:
                max_out = fit
                continue
            retry = 0 if oldest is None else (oldest + _N + 1) * spec.slot_ms - now
            return reply("budget", retry, name)

        tokens = op.prompt_tokens + max_out
        costs = [(1 if b.kind == "requests" else tokens) for b in op.buckets]
        worst, worst_wait = "", -1
        for b, level, cost in zip(op.buckets, levels, costs, strict=True):
            if cost > b.capacity:
                return reply("too_large", failed=b.field)
            if level < cost * b.period_ms:
                wait = _ceil_div(cost * b.period_ms - level, b.capacity)
                if wait > worst_wait:
                    worst, worst_wait = b.field, wait
        if worst:
            return reply("rate", worst_wait, worst)
        limit = op.max_concurrent_streams
        if op.stream and limit and st.counters.get("conc", 0) >= limit:
            return reply("concurrency", failed="concurrency")

        usd = _ceil_div(prompt_units + max_out * op.output_micro_per_mtok, 1_000_000)
        for i, (b, cost) in enumerate(zip(op.buckets, costs, strict=True)):
            levels[i] -= cost * b.period_ms
            st.buckets[b.field] = (levels[i], now)
        key_slot = 0
        if op.key_spend is not None and op.key_spend.cap_micro_usd is not None:
            key_slot = op.key_spend.slot_ms
            st.add(f"open:k:{op.key_id}", usd)
        st.reservations[op.reservation_id] = _Reservation(
            usd, tokens, op.stream, op.tenant_spend.slot_ms, key_slot, max_out, op.key_id, now + op.lease_ms
        )
        st.add("open", usd)
        if op.stream:
            st.add("conc", 1)
        return reply("ok", max_out=max_out, usd=usd)

    async def settle(self, op: SettleOp) -> bool:
        """See :meth:`proxy.store.base.LimitsStore.settle`."""
        now = self._clock()
        st = self._tenant(op.tenant)
        st.sweep(now)
        r = st.reservations.get(op.reservation_id)
        if r is None:
            return False
        st.close(op.reservation_id, r, op.cost_micro_usd, now)
        delta = r.tokens - op.used_tokens
        if delta:
            for b in op.token_buckets:
                level = min(st.level(b, now) + delta * b.period_ms, b.capacity * b.period_ms)
                st.buckets[b.field] = (level, now)
        return True

    async def usage(self, query: UsageQuery) -> UsageSnapshot:
        """See :meth:`proxy.store.base.LimitsStore.usage`."""
        now = self._clock()
        st = self._tenant(query.tenant)
        st.sweep(now)
        c = st.counters
        return UsageSnapshot(
            spent_micro_usd=st.spent("t", query.tenant_spend.slot_ms, now)[0],
            open_micro_usd=c.get("open", 0),
            open_reservations=len(st.reservations),
            concurrent_streams=c.get("conc", 0),
            charged_total_micro_usd=c.get("charged", 0),
            expired_reservations=c.get("expired", 0),
            buckets=tuple(_view(b, st.level(b, now)) for b in query.buckets),
        )

    async def put_key(self, record: KeyRecord) -> None:
        """See :meth:`proxy.store.base.KeyStore.put_key`."""
        old = self._keys.get(record.key_id)
        if old is not None:
            self._by_digest.pop(old.digest, None)
        self._keys[record.key_id] = record
        self._by_digest[record.digest] = record.key_id

    async def get_key(self, digest: str) -> KeyRecord | None:
        """See :meth:`proxy.store.base.KeyStore.get_key`."""
        key_id = self._by_digest.get(digest)
        return None if key_id is None else self._keys[key_id]

    async def revoke_key(self, key_id: str) -> bool:
        """See :meth:`proxy.store.base.KeyStore.revoke_key`."""
        record = self._keys.get(key_id)
        if record is None:
            return False
        self._keys[key_id] = msgspec.structs.replace(record, revoked=True)
        return True

    async def list_keys(self, tenant: str | None = None) -> list[KeyRecord]:
        """See :meth:`proxy.store.base.KeyStore.list_keys`."""
        return sorted((r for r in self._keys.values() if tenant in (None, r.tenant)), key=lambda r: r.key_id)

    async def warm(self) -> None:
        """Nothing to connect."""

    async def ping(self) -> bool:
        """Always ``True``: the memory store is this process."""
        return True

    async def aclose(self) -> None:
        """Nothing to release."""

    async def cache_get(self, tenant: str, digest: str) -> bytes | None:
        """See :meth:`proxy.store.base.CacheStore.cache_get`."""
        return self._cache.get(tenant, digest)

    async def cache_put(self, tenant: str, digest: str, value: bytes, ttl_ms: int) -> None:
        """See :meth:`proxy.store.base.CacheStore.cache_put`."""
        self._cache.put(tenant, digest, value, ttl_ms)

    async def cache_lock(self, tenant: str, digest: str, token: str, ttl_ms: int) -> bool:
        """See :meth:`proxy.store.base.CacheStore.cache_lock`."""
        return self._cache.lock(tenant, digest, token, ttl_ms)

    async def cache_unlock(self, tenant: str, digest: str, token: str) -> None:
        """See :meth:`proxy.store.base.CacheStore.cache_unlock`."""
        self._cache.unlock(tenant, digest, token)
