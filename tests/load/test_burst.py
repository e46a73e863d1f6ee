"""Issue 3, checked under load: 4 gateway processes, one shared Redis (then a Redis Cluster), 1,000 requests at once.

Two tenants with small limits share the burst, 500 requests each, half of them streaming (with
``include_usage``), spread round-robin over the 4 replicas:

* ``rated``: 300 requests per minute is the limit that binds (its spend cap is far away). Every refusal must be
  ``rate_limit_exceeded``, and admissions must equal the bucket's capacity plus at most its refill over the run.
* ``capped``: a spend cap of $0.03 binds long before its 300 requests per minute. Every refusal must be
  ``budget_exceeded`` and the spend must never pass the cap.

For both, once every reservation is settled: nothing is left open, and the charged total equals, to the
micro-dollar, the cost of the usage the fake upstream reported for the requests it served.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from proxy.auth import digest_key
from tests.load.support import Burst, Shot, ShotResult, cost_micro_usd, fire_burst
from tests.support.procs import gateway_processes, http_request

if TYPE_CHECKING:
    from pathlib import Path

    from fakeupstream import RequestRecord
    from tests.support.fake_upstream import FakeUpstreamProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

REPLICAS = 4
PER_TENANT = 500
RPM = 300
TPM = 20_000
WORDS = 16
# gpt-4o's list price: $2.50 in, $10.00 out per million tokens -> integer µ$ per million tokens
PRICE = {"input_per_mtok_usd": 2.5, "output_per_mtok_usd": 10.0}
P_IN, P_OUT = 2_500_000, 10_000_000
CAPPED_USD = 0.03
CAP_MICRO = 30_000
RATED_USD = 1.0
ADMIN_KEY = "gw-admin-load-test-0123456789abcdef"
BURST_TIMEOUT_S = 60.0


def _upstream_model(tenant: str) -> str:
    # the tenant's name is the model segment the fake ignores: its records tell the tenants apart
    return f"{tenant};words={WORDS};delay_ms=2"


def _config(store: dict[str, Any], upstream_url: str, tenants: dict[str, str]) -> dict[str, Any]:
    limits = {
        "rated": {"requests_per_minute": RPM, "tokens_per_minute": TPM, "spend": {"usd": RATED_USD, "window": "1h"}},
        "capped": {"requests_per_minute": RPM, "tokens_per_minute": TPM, "spend": {"usd": CAPPED_USD, "window": "1h"}},
    }
    return {
        "store": store,
        "admin": {"key_digest": digest_key(ADMIN_KEY)},
        "providers": [{"name": "up", "kind": "openai", "base_url": upstream_url + "/v1"}],
        "models": [
            {
                "name": f"{role}-model",
                "deployments": [{"provider": "up", "model": _upstream_model(tenant)}],
                "price": PRICE,
                "max_output_tokens": 64,
            }
            for role, tenant in tenants.items()
        ],
        # the limits are under test, not the guards: no injection classifier (CPU per request on 2 cores)
        "guard_policies": {"default": {"input": {"injection": {"classifier": False}}}},
        "tenants": [
            {
                "id": tenant,
                "limits": limits[role],
                "keys": [{"id": f"{tenant}-key", "digest": digest_key(_key(tenant))}],
            }
            for role, tenant in tenants.items()
        ],
    }


def _key(tenant: str) -> str:
    return f"gw-load-{tenant}-0123456789abcdefghij"


def _shots(urls: list[str], tenants: dict[str, str]) -> list[Shot]:
    shots: list[Shot] = []
    for i in range(PER_TENANT):
        for role, tenant in tenants.items():
            shots.append(
                Shot(
                    base_url=urls[len(shots) % len(urls)],
                    key=_key(tenant),
                    tenant=tenant,
                    model=f"{role}-model",
                    stream=i % 2 == 0,
                    prompt=f"Load test request {i} for {role}: summarise the burst " + "please " * (i % 7),
                    # below and above WORDS, so some answers are cut by max_tokens and costs vary
                    max_tokens=8 + i % 17,
                )
            )
    return shots


def _usage_when_settled(url: str, tenant: str, timeout: float = 15.0) -> dict[str, Any]:
    """/admin/usage once no reservation is open (streams settle just after their last byte)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = http_request(f"{url}/admin/usage?tenant={tenant}", token=ADMIN_KEY)
        assert reply.status == 200, reply.body
        report: dict[str, Any] = reply.json()
        if report["open_reservations"] == 0 or time.monotonic() > deadline:
            return report
        time.sleep(0.05)


def _check_refusals(results: list[ShotResult], code: str, error_type: str) -> None:
    """Every refusal is a 429 with ``code``, rate-limit headers and a whole-second ``Retry-After``."""
    for r in results:
        if r.status != 429:
            continue
        assert (r.code, r.error_type) == (code, error_type), (r.code, r.error_type)
        assert "x-ratelimit-limit-requests" in r.headers, r.headers
        retry_after = r.headers.get("retry-after")
        assert retry_after is not None, (code, r.headers)
        assert retry_after.isdigit(), retry_after
        assert int(retry_after) >= 1


def _check_served(results: list[ShotResult], records: list[RequestRecord]) -> int:
    """Every 200 is complete and carries the usage the fake reported; returns the exact charge expected."""
    served = [r for r in results if r.status == 200]
    for r in served:
        assert r.done, r
        assert r.text, r
        assert r.usage is not None, r
        assert int(r.headers["x-ratelimit-limit-requests"]) == RPM
        assert int(r.headers["x-ratelimit-limit-tokens"]) == TPM
    # one upstream request per admission (no retries happened), each completed with usage on the wire
    assert len(records) == len(served)
    assert all(rec.outcome == "completed" and rec.usage is not None for rec in records), records
    reported = [(rec.usage.prompt_tokens, rec.usage.completion_tokens) for rec in records if rec.usage]
    # the client saw exactly the usage the provider reported (same multiset)
    assert Counter(reported) == Counter(r.usage for r in served)
    assert all(completion <= WORDS for _, completion in reported)
    return sum(cost_micro_usd(p, c, P_IN, P_OUT) for p, c in reported)


def _bucket_bound(burst: Burst) -> int:
    """Capacity plus refill over the run: every Redis TIME an admission read lies within the burst."""
    elapsed_ms = math.ceil(burst.elapsed_s * 1000) + 1  # +1: TIME is truncated to whole ms
    return RPM + RPM * elapsed_ms // 60_000


@pytest.mark.parametrize(
    "mode", [pytest.param("redis", marks=pytest.mark.redis), pytest.param("cluster", marks=pytest.mark.cluster)]
)
async def test_burst_across_replicas_is_exact(
    mode: str, request: pytest.FixtureRequest, upstream: FakeUpstreamProcess, tmp_path: Path
) -> None:
    server = request.getfixturevalue("redis_server" if mode == "redis" else "redis_cluster")
    store = {"kind": "redis", "url": server.url, "cluster": mode == "cluster"}
    tenants = {"rated": f"rated-{mode}-{time.time_ns()}", "capped": f"capped-{mode}-{time.time_ns()}"}
    config = _config(store, upstream.base_url, tenants)

    with gateway_processes(config, tmp_path, REPLICAS) as replicas:
        urls = [g.base_url for g in replicas]
        burst = await fire_burst(_shots(urls, tenants), timeout_s=BURST_TIMEOUT_S)
        reports = {role: _usage_when_settled(urls[i % REPLICAS], t) for i, (role, t) in enumerate(tenants.items())}
        assert all(g.alive for g in replicas)
    # The fake's own bookkeeping (outcome "completed") can trail the last byte a client read.
    deadline = time.monotonic() + 5
    records = upstream.stats().records
    while any(r.outcome == "open" for r in records) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        records = upstream.stats().records

    results = burst.results
    assert len(results) == 2 * PER_TENANT
    failures = [r.failure for r in results if r.failure]
    assert not failures, failures[:5]
    odd = [(r.status, r.code, r.shot.tenant, r.shot.stream) for r in results if r.status not in (200, 429)]
    assert not odd, (Counter(r.status for r in results), odd[:5], [g.log[-2000:] for g in replicas])
    by_role = {role: [r for r in results if r.shot.tenant == t] for role, t in tenants.items()}
    recs = {role: [x for x in records if x.model == _upstream_model(t)] for role, t in tenants.items()}

    rated, capped = by_role["rated"], by_role["capped"]
    admitted_rated = sum(r.status == 200 for r in rated)
    bound = _bucket_bound(burst)
    refused_rated = sum(r.status == 429 for r in rated)
    refused_capped = sum(r.status == 429 for r in capped)
    admitted_capped = sum(r.status == 200 for r in capped)
    _check_refusals(rated, "rate_limit_exceeded", "rate_limit_error")
    _check_refusals(capped, "budget_exceeded", "insufficient_quota")
    print(
        f"\n[{mode}] {len(results)} requests over {REPLICAS} replicas in {burst.elapsed_s:.2f}s; "
        f"rated: {admitted_rated} admitted (bound {bound}), {refused_rated} x 429 rate_limit_exceeded; "
        f"capped: {admitted_capped} admitted, {refused_capped} x 429 budget_exceeded; "
        f"streaming admitted: {sum(r.status == 200 and r.shot.stream for r in results)}"
    )

    # zero over-admission, and no under-admission either: the whole bucket was used
    assert RPM <= admitted_rated <= bound
    assert refused_rated == PER_TENANT - admitted_rated
    # the spend cap bit well before the request bucket could
    assert 0 < admitted_capped < RPM
    assert refused_capped == PER_TENANT - admitted_capped

    for role in tenants:
        report, expected = reports[role], _check_served(by_role[role], recs[role])
        print(
            f"[{mode}] {role}: charged {report['charged_total_micro_usd']} µ$ (fake usage costs {expected} µ$), "
            f"spent {report['spent_micro_usd']} µ$ of cap {report['cap_micro_usd']} µ$, "
            f"open {report['open_reservations']}, expired {report['expired_reservations']}"
        )
        assert report["open_reservations"] == 0
        assert report["open_micro_usd"] == 0
        assert report["concurrent_streams"] == 0
        assert report["expired_reservations"] == 0
        assert report["charged_total_micro_usd"] == expected
        assert report["spent_micro_usd"] == expected
        assert report["spent_micro_usd"] <= report["cap_micro_usd"]
    assert reports["capped"]["cap_micro_usd"] == CAP_MICRO
