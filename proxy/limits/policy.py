"""The limits policy: tenant config -> one atomic store operation per admission and per settle.

``Limits.admit`` builds one :class:`~proxy.store.base.AdmitOp` (every bucket of the tenant and the key, the
concurrency limit, the tenant and key spend windows, the price) and maps the store's answer onto the error
hierarchy. It waits in a bounded queue (``queue_ms``) instead of refusing when the tenant asks for it, polling
with jitter at the store's retry hint. ``Limits.settle`` charges an attempt's actual cost and never raises: if
the store is down, the reservation's lease expires and it is charged in full (over-count, never overspend).

Store outages follow each limit's fail mode (see :mod:`schemas.limits`): 503 if any applicable limit fails
closed, else an uncounted ``degraded`` admission.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import TYPE_CHECKING, NamedTuple

from proxy.errors import BudgetExceededError, ConcurrencyLimitError, RateLimitError, ServiceUnavailableError
from proxy.limits.headers import rate_limit_headers, retry_headers
from proxy.limits.pricing import MicroPrice, cost_micro_usd, micro_price
from proxy.limits.types import Admission, BucketReport, UsageReport
from proxy.store.base import AdmitOp, BucketSpec, SettleOp, SpendSpec, StoreUnavailableError, UsageQuery
from schemas.limits import TenantLimits

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from proxy.limits.types import AdmissionRequest, Usage
    from proxy.store.base import AdmitResult, LimitsStore
    from schemas.limits import KeyLimits, ModelPrice

__all__ = ["DEFAULT_LEASE_MS", "Limits"]

DEFAULT_LEASE_MS = 600_000
"""How long a reservation lives without a settle. Longer than any stream should last: a stream still running
when its lease expires is charged in full, and its own settle then changes nothing."""

_UNCAPPED_WINDOW_MS = 86_400_000  # spend is tracked (for /admin/usage) over 24h even without a cap
_MIN_POLL_S = 0.02
_log = logging.getLogger(__name__)


def _buckets(key_id: str, tenant: TenantLimits, key: KeyLimits | None) -> tuple[BucketSpec, ...]:
    out: list[BucketSpec] = []
    if tenant.requests_per_minute:
        out.append(BucketSpec("t:rq", tenant.requests_per_minute, "requests"))
    if tenant.tokens_per_minute:
        out.append(BucketSpec("t:tk", tenant.tokens_per_minute, "tokens"))
    if key is not None and key.requests_per_minute:
        out.append(BucketSpec(f"k:{key_id}:rq", key.requests_per_minute, "requests"))
    if key is not None and key.tokens_per_minute:
        out.append(BucketSpec(f"k:{key_id}:tk", key.tokens_per_minute, "tokens"))
    return tuple(out)


def _report_name(field: str) -> str:
    scope, _, rest = field.partition(":")
    kind = "requests" if field.endswith(":rq") else "tokens"
    return f"tenant.{kind}" if scope == "t" else f"key.{rest.rsplit(':', 1)[0]}.{kind}"


class _Static(NamedTuple):
    """The parts of an admission that depend only on config, per (tenant, key)."""

    clamp: bool
    tenant_spend: SpendSpec
    key_spend: SpendSpec | None
    buckets: tuple[BucketSpec, ...]


class Limits:
    """Admission, settlement and usage reporting for every tenant, over one :class:`LimitsStore`."""

    def __init__(
        self,
        store: LimitsStore,
        tenants: Mapping[str, TenantLimits],
        *,
        lease_ms: int = DEFAULT_LEASE_MS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Bind the store and the tenants' limits (an unknown tenant is unlimited but still metered).

        Args:
            store: the shared store (memory or Redis).
            tenants: limits by tenant id.
            lease_ms: reservation lease (see :data:`DEFAULT_LEASE_MS`).
            sleep: how queued admissions wait (injected by tests).
            monotonic: the clock bounding queued waits, in seconds (injected by tests).
        """
        self._store = store
        self._tenants = tenants
        self._lease_ms = lease_ms
        self._sleep = sleep
        self._monotonic = monotonic
        self._prices: dict[ModelPrice, MicroPrice] = {}
        self._statics: dict[tuple[str, str], _Static] = {}

    def _limits(self, tenant: str) -> TenantLimits:
        return self._tenants.get(tenant) or TenantLimits()

    def _price(self, price: ModelPrice) -> MicroPrice:
        cached = self._prices.get(price)
        if cached is None:
            cached = self._prices[price] = micro_price(price)
        return cached

    def _static(self, tenant_id: str, key_id: str) -> _Static:
        # Durations and caps are parsed from config (Decimal, regex): do it once per (tenant, key).
        cached = self._statics.get((tenant_id, key_id))
        if cached is None:
            tenant = self._limits(tenant_id)
            key = tenant.limits_for_key(key_id)
            spends = [s for s in (tenant.spend, key.spend if key else None) if s is not None]
            cached = _Static(
                clamp=bool(spends) and all(s.when_short == "clamp" for s in spends),
                tenant_spend=SpendSpec(tenant.spend.window_ms, tenant.spend.cap_micro_usd)
                if tenant.spend
                else SpendSpec(_UNCAPPED_WINDOW_MS),
                key_spend=SpendSpec(key.spend.window_ms, key.spend.cap_micro_usd) if key and key.spend else None,
                buckets=_buckets(key_id, tenant, key),
            )
            if len(self._statics) < 100_000:
                self._statics[(tenant_id, key_id)] = cached
        return cached

    def _op(self, req: AdmissionRequest, reservation_id: str) -> AdmitOp:
        tenant = self._limits(req.tenant)
        static = self._static(req.tenant, req.key_id)
        want = req.model_max_output_tokens
        if req.max_output_tokens is not None:
            want = max(1, min(req.max_output_tokens, want))
        price = self._price(req.price)
        return AdmitOp(
            tenant=req.tenant,
            key_id=req.key_id,
            reservation_id=reservation_id,
            lease_ms=self._lease_ms,
            stream=req.stream,
            max_concurrent_streams=tenant.max_concurrent_streams,
            prompt_tokens=req.prompt_tokens,
            max_output_tokens=want,
            input_micro_per_mtok=price.input,
            output_micro_per_mtok=price.output,
            # the stricter policy wins when the tenant and the key disagree
            clamp=static.clamp,
            tenant_spend=static.tenant_spend,
            key_spend=static.key_spend,
            buckets=static.buckets,
        )

    def _fails_closed(self, req: AdmissionRequest, op: AdmitOp) -> bool:
        tenant = self._limits(req.tenant)
        key = tenant.limits_for_key(req.key_id)
        spends = [s for s in (tenant.spend, key.spend if key else None) if s is not None]
        if any(s.on_store_error == "fail_closed" for s in spends):
            return True
        rated = bool(op.buckets) or tenant.max_concurrent_streams is not None
        return rated and tenant.on_store_error == "fail_closed"

    async def admit(self, req: AdmissionRequest) -> Admission:
        """Admit one upstream attempt or raise.

        Raises:
            RateLimitError: a request or token bucket is empty (or the request alone exceeds a token limit).
            ConcurrencyLimitError: the tenant has its maximum of streams open.
            BudgetExceededError: the spend window cannot afford the request (or one output token, when clamping).
            ServiceUnavailableError: the store is unreachable and a limit that applies fails closed.
        """
        op = self._op(req, req.reservation_id or os.urandom(16).hex())
        queue_ms = self._limits(req.tenant).queue_ms
        deadline = self._monotonic() + queue_ms / 1000
        while True:
            try:
                result = await self._store.admit(op)
            except StoreUnavailableError:
                if self._fails_closed(req, op):
                    raise ServiceUnavailableError(
                        "Limits cannot be checked: the gateway's shared store is unreachable. Retry shortly.",
                        retry_after=1.0,
                    ) from None
                _log.warning("store unreachable: admitting tenant %s uncounted (fail-open)", req.tenant)
                return self._admission(req, op, None)
            if result.outcome == "ok":
                return self._admission(req, op, result)
            left = deadline - self._monotonic()
            if result.outcome not in ("rate", "concurrency") or left <= 0:
                raise self._refusal(req, result)
            hint = max(result.retry_after_ms / 1000, _MIN_POLL_S)
            await self._sleep(min(left, hint * random.uniform(1.0, 1.5)))

    def _admission(self, req: AdmissionRequest, op: AdmitOp, result: AdmitResult | None) -> Admission:
        if result is None:
            return Admission(
                reservation_id="",
                tenant=req.tenant,
                key_id=req.key_id,
                price=req.price,
                max_tokens=op.max_output_tokens,
                clamped=False,
                prompt_tokens=req.prompt_tokens,
                reserved_micro_usd=0,
                headers={},
                degraded=True,
            )
        return Admission(
            reservation_id=op.reservation_id,
            tenant=req.tenant,
            key_id=req.key_id,
            price=req.price,
            max_tokens=result.max_output_tokens,
            clamped=result.max_output_tokens < op.max_output_tokens,
            prompt_tokens=req.prompt_tokens,
            reserved_micro_usd=result.reserved_micro_usd,
            headers=rate_limit_headers(result.buckets),
        )

    def _refusal(self, req: AdmissionRequest, result: AdmitResult) -> RateLimitError:
        headers = rate_limit_headers(result.buckets)
        if result.outcome == "budget":
            # With the budget held only by open reservations nobody knows when it frees up: say 1 s,
            # so clients back off instead of hammering (or giving up for lack of a header).
            retry_after, extra = retry_headers(result.retry_after_ms or 1000)
            scope = "API key" if result.failed == "spend:key" else "tenant"
            return BudgetExceededError(
                f"The {scope}'s spend limit for the current window cannot afford this request to {req.model!r}.",
                retry_after=retry_after,
                headers=headers | extra,
            )
        retry_after, extra = retry_headers(result.retry_after_ms)
        if result.outcome == "concurrency":
            return ConcurrencyLimitError(
                "Too many concurrent streaming requests for this tenant; retry when one has finished.",
                retry_after=1.0,
                headers=headers,
            )
        if result.outcome == "too_large":
            return RateLimitError(
                f"Request too large: prompt plus max_tokens exceeds the {_report_name(result.failed)} limit per "
                "minute. Lower max_tokens or shorten the prompt.",
                code="tokens_exceed_limit",
                headers=headers,
            )
        return RateLimitError(
            f"Rate limit reached ({_report_name(result.failed)} per minute). Retry after {retry_after:g}s.",
            retry_after=retry_after,
            headers=headers | extra,
        )

    async def settle(self, admission: Admission, usage: Usage) -> bool:
        """Charge the attempt's actual cost and refund unused tokens; idempotent per reservation.

        Never raises: when the store is unreachable the lease expires and the reservation is charged in full.

        Returns:
            ``True`` if this call closed the reservation.
        """
        if admission.degraded or not admission.reservation_id:
            return False
        buckets = self._static(admission.tenant, admission.key_id).buckets
        op = SettleOp(
            tenant=admission.tenant,
            key_id=admission.key_id,
            reservation_id=admission.reservation_id,
            cost_micro_usd=cost_micro_usd(usage, self._price(admission.price)),
            used_tokens=usage.input_tokens + usage.output_tokens,
            token_buckets=tuple(b for b in buckets if b.kind == "tokens"),
        )
        try:
            return await self._store.settle(op)
        except StoreUnavailableError:
            _log.warning("store unreachable: reservation of tenant %s will be charged in full", admission.tenant)
            return False

    async def usage(self, tenant: str) -> UsageReport:
        """Spend, open reservations and bucket levels of ``tenant`` (raises ``ServiceUnavailableError``)."""
        limits = self._limits(tenant)
        buckets = list(_buckets("", limits, None))
        for key_id, key in sorted(limits.keys.items()):
            buckets += _buckets(key_id, TenantLimits(), key)
        spend = limits.spend
        spec = SpendSpec(spend.window_ms, spend.cap_micro_usd) if spend else SpendSpec(_UNCAPPED_WINDOW_MS)
        try:
            snap = await self._store.usage(UsageQuery(tenant=tenant, tenant_spend=spec, buckets=tuple(buckets)))
        except StoreUnavailableError:
            raise ServiceUnavailableError("Usage cannot be read: the gateway's shared store is unreachable.") from None
        cap = spec.cap_micro_usd
        return UsageReport(
            tenant=tenant,
            window=spend.window if spend else "24h",
            spent_micro_usd=snap.spent_micro_usd,
            open_micro_usd=snap.open_micro_usd,
            cap_micro_usd=cap,
            remaining_micro_usd=None if cap is None else max(0, cap - snap.spent_micro_usd - snap.open_micro_usd),
            open_reservations=snap.open_reservations,
            concurrent_streams=snap.concurrent_streams,
            charged_total_micro_usd=snap.charged_total_micro_usd,
            expired_reservations=snap.expired_reservations,
            buckets=tuple(
                BucketReport(
                    name=_report_name(s.field), limit_per_minute=s.capacity, remaining=s.remaining, reset_ms=s.reset_ms
                )
                for s in snap.buckets
            ),
        )
