"""The store contract: typed operations and the Protocols that the memory and Redis stores implement.

The policy layer (``proxy.limits``) turns tenant config into these plain operations; a store only executes
them atomically. Each limits operation is ONE call (one Lua script on Redis) so that admission across replicas
is exact. Both stores raise :class:`StoreUnavailableError` (and nothing else) when the backend cannot be reached;
the policy layer applies each limit's fail mode.

Units: money in integer micro-dollars (µ$), prices in integer µ$ per million tokens, times in milliseconds of
the *store's* clock (Redis ``TIME``), bucket capacities in requests or tokens per ``period_ms``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

import msgspec

if TYPE_CHECKING:
    from schemas.keys import KeyRecord

__all__ = [
    "SPEND_SUBWINDOWS",
    "AdmitOp",
    "AdmitOutcome",
    "AdmitResult",
    "BucketSpec",
    "BucketState",
    "CacheStore",
    "KeyStore",
    "LimitsStore",
    "SettleOp",
    "SpendSpec",
    "Store",
    "StoreUnavailableError",
    "UsageQuery",
    "UsageSnapshot",
]

SPEND_SUBWINDOWS = 60
"""A spend window of length W is kept as ``SPEND_SUBWINDOWS + 1`` sub-window counters of ``ceil(W / 60)`` ms.

A charge counts from the moment it is made until its sub-window is older than the newest 61, i.e. for at least W
and at most W + W/60. Erring long means the cap holds over *every* rolling window of length W (never an
overspend), at the price of a charge leaving the window up to W/60 late (24 minutes for a 24h window)."""

AdmitOutcome = Literal["ok", "rate", "concurrency", "budget", "too_large"]


class StoreUnavailableError(Exception):
    """The backing store could not be reached (connection refused, timeout, cluster down)."""


class BucketSpec(msgspec.Struct, frozen=True):
    """One token bucket: ``capacity`` units per ``period_ms``, refilled continuously, never above capacity."""

    field: str
    """Name of the bucket inside the tenant's state, e.g. ``t:rq`` or ``k:<key_id>:tk``."""
    capacity: int
    """Requests or tokens per period (also the burst size)."""
    kind: Literal["requests", "tokens"]
    """A request bucket costs 1 per admission; a token bucket costs prompt + max output tokens."""
    period_ms: int = 60_000


class BucketState(msgspec.Struct, frozen=True):
    """A bucket's level as seen by one operation (after its own take, if it took)."""

    field: str
    kind: Literal["requests", "tokens"]
    capacity: int
    remaining: int
    """Whole units available now (negative while the bucket is in debt after an overrun)."""
    reset_ms: int
    """Milliseconds until the bucket is full again."""


class SpendSpec(msgspec.Struct, frozen=True):
    """A rolling spend window; ``cap_micro_usd`` ``None`` tracks spend without capping it."""

    window_ms: int
    cap_micro_usd: int | None = None

    @property
    def slot_ms(self) -> int:
        """Sub-window length: ``ceil(window_ms / SPEND_SUBWINDOWS)``."""
        return -(-self.window_ms // SPEND_SUBWINDOWS)


class AdmitOp(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one admission checks and takes, all or nothing."""

    tenant: str
    key_id: str
    reservation_id: str
    lease_ms: int
    """After this long without a settle the reservation is closed and charged in full."""
    stream: bool
    max_concurrent_streams: int | None
    prompt_tokens: int
    max_output_tokens: int
    input_micro_per_mtok: int
    output_micro_per_mtok: int
    clamp: bool
    """Reduce ``max_output_tokens`` to what the tightest budget affords instead of refusing (never below 1)."""
    tenant_spend: SpendSpec
    key_spend: SpendSpec | None
    buckets: tuple[BucketSpec, ...]


class AdmitResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one admission; on refusal nothing was taken."""

    outcome: AdmitOutcome
    retry_after_ms: int
    """When a retry may succeed (0: unknown)."""
    max_output_tokens: int
    """Output tokens reserved (possibly clamped); 0 on refusal."""
    reserved_micro_usd: int
    buckets: tuple[BucketState, ...]
    failed: str = ""
    """Which limit refused: a bucket field, ``spend:tenant`` or ``spend:key``."""


class SettleOp(msgspec.Struct, frozen=True, kw_only=True):
    """Close a reservation: charge the actual cost, refund unused tokens to the token buckets."""

    tenant: str
    key_id: str
    reservation_id: str
    cost_micro_usd: int
    used_tokens: int
    """Input + output tokens actually used; the difference to the reserved tokens is refunded (or owed)."""
    token_buckets: tuple[BucketSpec, ...]


class UsageQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What /admin/usage reads for one tenant."""

    tenant: str
    tenant_spend: SpendSpec
    buckets: tuple[BucketSpec, ...]


class UsageSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's counters at one instant of the store's clock."""

    spent_micro_usd: int
    """Charged within the rolling window."""
    open_micro_usd: int
    """Reserved by requests still in flight."""
    open_reservations: int
    concurrent_streams: int
    charged_total_micro_usd: int
    """Everything ever charged (settled + expired leases), for reconciliation."""
    expired_reservations: int
    """Reservations closed by lease expiry (a replica died or never settled)."""
    buckets: tuple[BucketState, ...]


class LimitsStore(Protocol):
    """Atomic limit operations; every method is one round trip to the backend."""

    async def admit(self, op: AdmitOp) -> AdmitResult:
        """Refill and check every bucket, concurrency and spend window; take all or nothing.

        Idempotent per ``reservation_id``: repeating an admitted id returns the original reservation.
        """
        ...

    async def settle(self, op: SettleOp) -> bool:
        """Close the reservation; ``False`` if it was already settled, expired, or never existed."""
        ...

    async def usage(self, query: UsageQuery) -> UsageSnapshot:
        """Read a tenant's counters (expired leases are charged first)."""
        ...


class KeyStore(Protocol):
    """API key records, looked up by the SHA-256 digest of the secret."""

    async def put_key(self, record: KeyRecord) -> None:
        """Create or replace a key record."""
        ...

    async def get_key(self, digest: str) -> KeyRecord | None:
        """The record whose digest is ``digest`` (revoked records included), or ``None``."""
        ...

    async def revoke_key(self, key_id: str) -> bool:
        """Mark a key revoked; ``False`` if no such key."""
        ...

    async def list_keys(self, tenant: str | None = None) -> list[KeyRecord]:
        """Every key of ``tenant`` (of all tenants when ``None``), ordered by key id."""
        ...


class CacheStore(Protocol):
    """Response-cache entries and short coalescing locks, per tenant (the service layer is ``proxy.cache``).

    Values are opaque bytes; ``digest`` is the hex SHA-256 request key. On Redis every key carries the tenant's
    hash tag, so a tenant's entries live in the same Cluster slot as its limits. Like every store operation,
    these raise :class:`StoreUnavailableError` when the backend cannot be reached.
    """

    async def cache_get(self, tenant: str, digest: str) -> bytes | None:
        """The live entry stored under ``digest`` for ``tenant``, or ``None``."""
        ...

    async def cache_put(self, tenant: str, digest: str, value: bytes, ttl_ms: int) -> None:
        """Store (or replace) an entry that expires after ``ttl_ms``."""
        ...

    async def cache_lock(self, tenant: str, digest: str, token: str, ttl_ms: int) -> bool:
        """Take the fill lock of ``digest`` for ``ttl_ms`` unless someone holds it; ``True`` when taken."""
        ...

    async def cache_unlock(self, tenant: str, digest: str, token: str) -> None:
        """Release the fill lock if ``token`` still holds it (an expired lock taken by another is left alone)."""
        ...


class Store(LimitsStore, KeyStore, CacheStore, Protocol):
    """The whole shared store: limits, keys, health, lifecycle."""

    async def warm(self) -> None:
        """Connect and prepare ahead of traffic, best effort; never raises."""
        ...

    async def ping(self) -> bool:
        """``True`` when the backend answers (for /readyz); never raises."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
