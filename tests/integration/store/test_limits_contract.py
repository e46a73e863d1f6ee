"""The limits contract, run unchanged against the memory store, a Redis server and a Redis Cluster."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec

from proxy.store.base import AdmitOp, BucketSpec, SettleOp, SpendSpec, UsageQuery

if TYPE_CHECKING:
    from proxy.store.base import AdmitResult, UsageSnapshot
    from tests.support.stores import StoreUnderTest

HOUR_1000 = 3_600_000_000  # a period so long that refill during a test is nil: levels stay exact in real time
DAY = 86_400_000


def op(rid: str, **overrides: Any) -> AdmitOp:
    base = AdmitOp(
        tenant="acme",
        key_id="k1",
        reservation_id=rid,
        lease_ms=60_000,
        stream=False,
        max_concurrent_streams=None,
        prompt_tokens=100,
        max_output_tokens=400,
        input_micro_per_mtok=150_000,
        output_micro_per_mtok=600_000,
        clamp=False,
        tenant_spend=SpendSpec(DAY),
        key_spend=None,
        buckets=(),
    )
    return msgspec.structs.replace(base, **overrides)


def settle(rid: str, cost: int, used: int, buckets: tuple[BucketSpec, ...] = (), key_id: str = "k1") -> SettleOp:
    return SettleOp(
        tenant="acme", key_id=key_id, reservation_id=rid, cost_micro_usd=cost, used_tokens=used, token_buckets=buckets
    )


async def usage(
    s: StoreUnderTest, buckets: tuple[BucketSpec, ...] = (), spend: SpendSpec | None = None
) -> UsageSnapshot:
    return await s.store.usage(UsageQuery(tenant="acme", tenant_spend=spend or SpendSpec(DAY), buckets=buckets))


async def test_request_bucket_admits_exactly_its_capacity_and_refusals_take_nothing(store: StoreUnderTest) -> None:
    rq = (BucketSpec("t:rq", 5, "requests", HOUR_1000),)
    results = [await store.store.admit(op(f"r{i}", buckets=rq)) for i in range(7)]
    assert [r.outcome for r in results] == ["ok"] * 5 + ["rate"] * 2
    assert [r.buckets[0].remaining for r in results] == [4, 3, 2, 1, 0, 0, 0]
    assert results[5].failed == "t:rq"
    # one request's worth of refill, minus the few ms that passed on a real clock
    assert HOUR_1000 // 5 - 1_000 < results[5].retry_after_ms <= HOUR_1000 // 5
    assert results[5].reserved_micro_usd == 0
    snap = await usage(store, rq)
    assert snap.open_reservations == 5
    assert snap.buckets[0].remaining == 0


async def test_concurrent_burst_admits_exactly_capacity(store: StoreUnderTest) -> None:
    rq = (BucketSpec("t:rq", 37, "requests", HOUR_1000),)
    results = await asyncio.gather(*(store.store.admit(op(f"b{i}", buckets=rq)) for i in range(500)))
    assert sum(r.outcome == "ok" for r in results) == 37
    assert sum(r.outcome == "rate" for r in results) == 463
    assert (await usage(store, rq)).open_reservations == 37


async def test_refill_after_the_reported_retry_after(store: StoreUnderTest) -> None:
    rq = (BucketSpec("t:rq", 4, "requests", 400),)  # one request per 100 ms
    assert [(await store.store.admit(op(f"r{i}", buckets=rq))).outcome for i in range(4)] == ["ok"] * 4
    refused = await store.store.admit(op("r4", buckets=rq))
    assert refused.outcome == "rate"
    assert 0 < refused.retry_after_ms <= 100
    await store.advance(refused.retry_after_ms)
    assert (await store.store.admit(op("r4", buckets=rq))).outcome == "ok"


async def test_token_bucket_takes_prompt_plus_max_output_and_settle_refunds_unused(store: StoreUnderTest) -> None:
    tk = (BucketSpec("t:tk", 1000, "tokens", HOUR_1000),)
    admitted = await store.store.admit(op("r1", buckets=tk))
    assert admitted.outcome == "ok"
    assert admitted.buckets[0].remaining == 500  # 100 prompt + 400 max output
    assert (await store.store.admit(op("r2", buckets=tk, prompt_tokens=200))).outcome == "rate"
    assert await store.store.settle(settle("r1", cost=50, used=150, buckets=tk))
    assert (await usage(store, tk)).buckets[0].remaining == 850  # 350 unused tokens refunded


async def test_request_larger_than_a_token_bucket_is_refused_as_too_large(store: StoreUnderTest) -> None:
    tk = (BucketSpec("t:tk", 400, "tokens", HOUR_1000),)
    result = await store.store.admit(op("r1", buckets=tk))
    assert (result.outcome, result.failed) == ("too_large", "t:tk")
    assert (await usage(store, tk)).buckets[0].remaining == 400


async def test_concurrent_streams_are_capped_and_released_by_settle(store: StoreUnderTest) -> None:
    def stream(rid: str, on: bool = True) -> AdmitOp:
        return op(rid, stream=on, max_concurrent_streams=2)

    assert (await store.store.admit(stream("s1"))).outcome == "ok"
    assert (await store.store.admit(stream("s2"))).outcome == "ok"
    assert (await store.store.admit(stream("s3"))).outcome == "concurrency"
    assert (await store.store.admit(stream("n1", on=False))).outcome == "ok"  # only streams count
    assert (await usage(store)).concurrent_streams == 2
    assert await store.store.settle(settle("s1", 10, 100))
    assert (await store.store.admit(stream("s3"))).outcome == "ok"


async def test_budget_rejects_without_taking_anything(store: StoreUnderTest) -> None:
    rq = (BucketSpec("t:rq", 10, "requests", HOUR_1000),)
    # reserve = ceil((100 * 150_000 + 400 * 600_000) / 1e6) = 255 µ$
    capped = SpendSpec(DAY, 254)
    result = await store.store.admit(op("r1", tenant_spend=capped, buckets=rq))
    assert (result.outcome, result.failed, result.retry_after_ms) == ("budget", "spend:tenant", 0)
    snap = await usage(store, rq, capped)
    assert (snap.open_reservations, snap.open_micro_usd, snap.buckets[0].remaining) == (0, 0, 10)
    ok = await store.store.admit(op("r2", tenant_spend=SpendSpec(DAY, 255), buckets=rq))
    assert (ok.outcome, ok.reserved_micro_usd, ok.max_output_tokens) == ("ok", 255, 400)


async def test_clamp_reduces_max_output_to_what_the_budget_affords(store: StoreUnderTest) -> None:
    capped = SpendSpec(DAY, 500)
    first = await store.store.admit(op("r1", tenant_spend=capped, clamp=True, max_output_tokens=1000))
    # 485 µ$ left after the 15 µ$ prompt: floor(485e6 / 600_000) = 808 output tokens, costing exactly 500 µ$
    assert (first.outcome, first.max_output_tokens, first.reserved_micro_usd) == ("ok", 808, 500)
    second = await store.store.admit(op("r2", tenant_spend=capped, clamp=True, max_output_tokens=1000))
    assert second.outcome == "budget"  # affords less than one output token


async def test_open_reservations_count_against_the_cap_until_settled(store: StoreUnderTest) -> None:
    capped = SpendSpec(DAY, 400)
    assert (await store.store.admit(op("r1", tenant_spend=capped))).reserved_micro_usd == 255
    assert (await store.store.admit(op("r2", tenant_spend=capped))).outcome == "budget"  # 255 + 255 > 400
    assert await store.store.settle(settle("r1", cost=100, used=300))
    assert (await store.store.admit(op("r2", tenant_spend=capped))).outcome == "ok"  # 100 + 255 <= 400
    snap = await usage(store, spend=capped)
    assert (snap.spent_micro_usd, snap.open_micro_usd, snap.charged_total_micro_usd) == (100, 255, 100)


async def test_settle_is_idempotent(store: StoreUnderTest) -> None:
    assert (await store.store.admit(op("r1"))).outcome == "ok"
    assert await store.store.settle(settle("r1", cost=77, used=120))
    assert not await store.store.settle(settle("r1", cost=77, used=120))
    assert not await store.store.settle(settle("never-admitted", cost=5, used=1))
    snap = await usage(store)
    assert (snap.charged_total_micro_usd, snap.spent_micro_usd, snap.open_reservations) == (77, 77, 0)


async def test_admit_is_idempotent_per_reservation_id(store: StoreUnderTest) -> None:
    rq = (BucketSpec("t:rq", 10, "requests", HOUR_1000),)
    first: AdmitResult = await store.store.admit(op("same", buckets=rq, tenant_spend=SpendSpec(DAY, 300)))
    again = await store.store.admit(op("same", buckets=rq, tenant_spend=SpendSpec(DAY, 300)))
    assert (again.outcome, again.reserved_micro_usd, again.max_output_tokens) == ("ok", 255, 400)
    assert first.buckets[0].remaining == again.buckets[0].remaining == 9
    snap = await usage(store, rq)
    assert (snap.open_reservations, snap.open_micro_usd) == (1, 255)


async def test_expired_lease_is_charged_in_full_and_late_settle_is_ignored(store: StoreUnderTest) -> None:
    leased = op("r1", lease_ms=50, stream=True, max_concurrent_streams=1)
    assert (await store.store.admit(leased)).reserved_micro_usd == 255
    await store.advance(60)
    snap = await usage(store)
    assert (snap.open_reservations, snap.open_micro_usd, snap.concurrent_streams) == (0, 0, 0)
    assert (snap.charged_total_micro_usd, snap.spent_micro_usd, snap.expired_reservations) == (255, 255, 1)
    assert not await store.store.settle(settle("r1", cost=10, used=10))
    assert (await usage(store)).charged_total_micro_usd == 255


async def test_expired_lease_is_swept_by_the_next_admission(store: StoreUnderTest) -> None:
    capped = SpendSpec(DAY, 300)
    assert (await store.store.admit(op("crashed", lease_ms=50, tenant_spend=capped))).outcome == "ok"
    await store.advance(60)
    # the crashed reservation is now spent (255 µ$): the next one no longer fits
    assert (await store.store.admit(op("next", tenant_spend=capped))).outcome == "budget"


async def test_spend_leaves_the_rolling_window_after_the_window(store: StoreUnderTest) -> None:
    window = SpendSpec(600, 1_000)  # 10 ms sub-windows
    assert (await store.store.admit(op("r1", tenant_spend=window))).outcome == "ok"
    assert await store.store.settle(settle("r1", cost=900, used=500))
    refused = await store.store.admit(op("r2", tenant_spend=window))
    assert refused.outcome == "budget"
    assert 0 < refused.retry_after_ms <= 600 + 10
    await store.advance(540)
    assert (await usage(store, spend=window)).spent_micro_usd == 900  # still inside the window
    await store.advance(90)
    assert (await usage(store, spend=window)).spent_micro_usd == 0
    assert (await store.store.admit(op("r2", tenant_spend=window))).outcome == "ok"


async def test_key_buckets_and_key_spend_apply_per_key(store: StoreUnderTest) -> None:
    def for_key(rid: str, key: str) -> AdmitOp:
        buckets = (
            BucketSpec("t:rq", 10, "requests", HOUR_1000),
            BucketSpec(f"k:{key}:rq", 2, "requests", HOUR_1000),
        )
        return op(rid, key_id=key, buckets=buckets)

    assert [(await store.store.admit(for_key(f"a{i}", "k1"))).outcome for i in range(3)] == ["ok", "ok", "rate"]
    refused = await store.store.admit(for_key("a3", "k1"))
    assert refused.failed == "k:k1:rq"
    assert (await store.store.admit(op("b0", key_id="k2", key_spend=SpendSpec(DAY, 600)))).outcome == "ok"
    assert (await store.store.admit(op("b1", key_id="k2", key_spend=SpendSpec(DAY, 600)))).outcome == "ok"
    # k2's own spend cap: 255 + 255 open, a third reservation would pass 600
    third = await store.store.admit(op("b2", key_id="k2", key_spend=SpendSpec(DAY, 600)))
    assert (third.outcome, third.failed) == ("budget", "spend:key")
    assert await store.store.settle(settle("b0", cost=30, used=130, key_id="k2"))
    assert (await store.store.admit(op("b2", key_id="k2", key_spend=SpendSpec(DAY, 600)))).outcome == "ok"
    assert (await usage(store)).spent_micro_usd == 30  # the tenant window sees key spend too
