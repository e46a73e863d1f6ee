"""``bench/limits.py`` end to end, small: its round-trip count must come out exact (2 EVALSHA per request)."""

from __future__ import annotations

import pytest

from bench.limits import run

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.timeout(90)]


def test_bench_counts_one_round_trip_to_admit_and_one_to_settle() -> None:
    result = run(requests=30, warmup=5)
    print(f"\nbench.limits (30 requests): {result}")
    assert set(result["round_trips"]) == {"limits, unary", "limits, stream", "no limits, unary"}
    for case, row in result["round_trips"].items():
        assert row["evalsha"] == 60, case
        assert row["other_client_commands"] == {}, case
        assert row["client_commands_per_request"] == 2.0, case
        assert row["exact"], case
        # the scripts really ran (MONITOR saw their inner commands), and did more with limits than without
        assert row["lua_internal_commands_per_request"] > 0, case
    trips = result["round_trips"]
    assert (
        trips["limits, unary"]["lua_internal_commands_per_request"]
        > trips["no limits, unary"]["lua_internal_commands_per_request"]
    )
    assert set(result["latency"]) == {
        "direct upstream",
        "gateway, no limits (redis)",
        "gateway, limits on (redis)",
        "gateway, limits on (memory)",
    }
    assert all(row["p50_ms"] > 0 for row in result["latency"].values())
