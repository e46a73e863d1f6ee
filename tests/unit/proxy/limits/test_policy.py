"""Limits over the memory store with an injected clock: error mapping, headers, clamp, queueing, fail modes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from proxy.errors import BudgetExceededError, ConcurrencyLimitError, RateLimitError, ServiceUnavailableError
from proxy.limits import AdmissionRequest, Limits, Usage
from proxy.store import MemoryStore, StoreUnavailableError
from schemas.limits import KeyLimits, ModelPrice, SpendConfig, TenantLimits

PRICE = ModelPrice(input_per_mtok_usd=0.15, output_per_mtok_usd=0.60, cached_input_per_mtok_usd=0.075)


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000
        self.slept: list[float] = []

    def __call__(self) -> int:
        return self.ms

    def monotonic(self) -> float:
        return self.ms / 1000

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.ms += int(seconds * 1000)


def make(tenants: dict[str, TenantLimits]) -> tuple[Limits, Clock]:
    clock = Clock()
    return Limits(MemoryStore(clock), tenants, sleep=clock.sleep, monotonic=clock.monotonic), clock


def req(**overrides: Any) -> AdmissionRequest:
    base = AdmissionRequest(
        tenant="acme",
        key_id="k1",
        model="gpt-4o-mini",
        prompt_tokens=100,
        max_output_tokens=400,
        price=PRICE,
        model_max_output_tokens=16_384,
        stream=False,
    )
    return msgspec.structs.replace(base, **overrides)


async def test_admission_carries_openai_rate_limit_headers() -> None:
    limits, _ = make({"acme": TenantLimits(requests_per_minute=60, tokens_per_minute=10_000)})
    admission = await limits.admit(req())
    assert admission.headers == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "10000",
        "x-ratelimit-remaining-tokens": "9500",
        "x-ratelimit-reset-tokens": "3s",
    }
    assert (admission.max_tokens, admission.clamped, admission.reserved_micro_usd) == (400, False, 255)


async def test_tighter_key_bucket_drives_headers_and_refusal() -> None:
    limits, _ = make({"acme": TenantLimits(requests_per_minute=60, keys={"k1": KeyLimits(requests_per_minute=1)})})
    first = await limits.admit(req())
    assert first.headers["x-ratelimit-limit-requests"] == "1"
    with pytest.raises(RateLimitError) as exc:
        await limits.admit(req())
    assert type(exc.value) is RateLimitError
    assert exc.value.error_code == "rate_limit_exceeded"
    assert exc.value.retry_after == 60.0
    assert exc.value.headers["retry-after-ms"] == "60000"
    assert exc.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert "key.k1.requests" in exc.value.message
    await limits.admit(req(key_id="k2"))  # other keys only share the tenant bucket


async def test_budget_reject_and_clamp() -> None:
    spend = SpendConfig(usd=0.0005, window="1h")  # 500 µ$
    limits, _ = make(
        {
            "acme": TenantLimits(spend=spend),
            "clamper": TenantLimits(spend=msgspec.structs.replace(spend, when_short="clamp")),
        }
    )
    with pytest.raises(BudgetExceededError) as exc:
        await limits.admit(req(max_output_tokens=1000))
    assert (exc.value.status, exc.value.type, exc.value.error_code) == (429, "insufficient_quota", "budget_exceeded")
    clamped = await limits.admit(req(tenant="clamper", max_output_tokens=1000))
    assert (clamped.max_tokens, clamped.clamped, clamped.reserved_micro_usd) == (808, True, 500)
    with pytest.raises(BudgetExceededError):
        await limits.admit(req(tenant="clamper"))


async def test_max_output_defaults_to_and_is_capped_by_the_model_maximum() -> None:
    limits, _ = make({})
    assert (await limits.admit(req(max_output_tokens=None))).max_tokens == 16_384
    assert (await limits.admit(req(max_output_tokens=99_999))).max_tokens == 16_384


async def test_concurrency_and_too_large_errors() -> None:
    limits, _ = make({"acme": TenantLimits(max_concurrent_streams=1, tokens_per_minute=1000)})
    await limits.admit(req(stream=True))
    with pytest.raises(ConcurrencyLimitError):
        await limits.admit(req(stream=True))
    with pytest.raises(RateLimitError) as exc:
        await limits.admit(req(max_output_tokens=5000))
    assert exc.value.error_code == "tokens_exceed_limit"
    assert exc.value.retry_after is None


async def test_queue_waits_for_refill_instead_of_refusing() -> None:
    limits, clock = make({"acme": TenantLimits(requests_per_minute=600, queue_ms=1000)})  # one per 100 ms
    for _ in range(600):
        await limits.admit(req())
    await limits.admit(req())
    assert clock.slept
    assert 0.1 <= sum(clock.slept) <= 0.15 + 0.01


async def test_queue_gives_up_at_its_deadline() -> None:
    limits, clock = make({"acme": TenantLimits(requests_per_minute=1, queue_ms=500)})
    await limits.admit(req())
    with pytest.raises(RateLimitError):
        await limits.admit(req())
    assert sum(clock.slept) == pytest.approx(0.5, abs=0.002)


async def test_settle_charges_actual_cost_once_and_reports_usage() -> None:
    limits, _ = make({"acme": TenantLimits(spend=SpendConfig(usd=1), tokens_per_minute=10_000)})
    admission = await limits.admit(req())
    # 60 uncached * 0.15 + 40 cached * 0.075 + 30 out * 0.60 $/Mtok = 9 + 3 + 18 = 30 µ$
    usage = Usage(input_tokens=100, output_tokens=30, cached_input_tokens=40)
    assert await limits.settle(admission, usage)
    assert not await limits.settle(admission, usage)
    report = await limits.usage("acme")
    assert (report.spent_micro_usd, report.charged_total_micro_usd, report.open_micro_usd) == (30, 30, 0)
    assert report.remaining_micro_usd == 1_000_000 - 30
    assert report.buckets[0].name == "tenant.tokens"
    assert report.buckets[0].remaining == 10_000 - 130


class DownStore(MemoryStore):
    async def admit(self, op: Any) -> Any:
        raise StoreUnavailableError("down")

    async def settle(self, op: Any) -> Any:
        raise StoreUnavailableError("down")


async def test_fail_modes_when_the_store_is_down() -> None:
    limits = Limits(
        DownStore(),
        {
            "spend": TenantLimits(spend=SpendConfig(usd=5)),
            "spend-open": TenantLimits(spend=SpendConfig(usd=5, on_store_error="fail_open")),
            "rate": TenantLimits(requests_per_minute=5),
            "rate-closed": TenantLimits(requests_per_minute=5, on_store_error="fail_closed"),
        },
    )
    for tenant in ("spend", "rate-closed"):
        with pytest.raises(ServiceUnavailableError):
            await limits.admit(req(tenant=tenant))
    for tenant in ("spend-open", "rate", "unlimited"):
        admission = await limits.admit(req(tenant=tenant))
        assert admission.degraded
        assert not await limits.settle(admission, Usage(input_tokens=1, output_tokens=1))
