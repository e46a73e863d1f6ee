"""Redis outages and round trips: fail-closed / fail-open, recovery without a new client, one call per operation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from redis.asyncio import Redis

from proxy.errors import ServiceUnavailableError
from proxy.limits import AdmissionRequest, Limits, Usage
from proxy.store import RedisStore, create_redis
from proxy.store.resp import ScriptLane
from schemas.limits import ModelPrice, SpendConfig, TenantLimits
from schemas.store import StoreConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.redis import RedisServer

pytestmark = pytest.mark.redis

PRICE = ModelPrice(input_per_mtok_usd=0.15, output_per_mtok_usd=0.60)
TENANTS = {
    "spender": TenantLimits(requests_per_minute=100, spend=SpendConfig(usd=1)),  # spend fails closed
    "rated": TenantLimits(requests_per_minute=100),  # buckets fail open by default
    "strict": TenantLimits(requests_per_minute=100, on_store_error="fail_closed"),
}


def request(tenant: str) -> AdmissionRequest:
    return AdmissionRequest(
        tenant=tenant,
        key_id="k1",
        model="gpt-4o-mini",
        prompt_tokens=50,
        max_output_tokens=100,
        price=PRICE,
        model_max_output_tokens=4096,
        stream=True,
    )


async def test_store_down_fails_closed_for_spend_open_for_rates_and_recovers(
    redis_server_factory: Callable[[], RedisServer],
) -> None:
    server = redis_server_factory()
    config = StoreConfig(kind="redis", url=server.url, connect_timeout_s=0.2, command_timeout_s=0.2)
    store = RedisStore(create_redis(config))
    limits = Limits(store, TENANTS)
    try:
        admission = await limits.admit(request("spender"))
        assert not admission.degraded
        assert await limits.settle(admission, Usage(input_tokens=50, output_tokens=10))

        server.stop()
        assert not await store.ping()
        with pytest.raises(ServiceUnavailableError) as refused:
            await limits.admit(request("spender"))
        assert refused.value.status == 503
        with pytest.raises(ServiceUnavailableError):
            await limits.admit(request("strict"))
        degraded = await limits.admit(request("rated"))
        assert degraded.degraded
        assert degraded.max_tokens == 100
        assert not await limits.settle(degraded, Usage(input_tokens=1, output_tokens=1))
        with pytest.raises(ServiceUnavailableError):
            await limits.usage("spender")

        server.start()  # same port, empty data and script cache; the same client must recover by itself
        assert await store.ping()
        back = await limits.admit(request("spender"))
        assert not back.degraded
        assert await limits.settle(back, Usage(input_tokens=50, output_tokens=100))
        report = await limits.usage("spender")
        assert report.charged_total_micro_usd == 68  # ceil((50 * 150_000 + 100 * 600_000) / 1e6)
        assert report.open_reservations == 0
    finally:
        await store.aclose()


async def _evalsha_calls(admin: Redis) -> int:
    # commandstats also counts the commands a script runs; the top-level call is what crosses the network
    return int((await admin.info("commandstats"))["cmdstat_evalsha"]["calls"])


async def test_admit_and_settle_are_one_round_trip_each(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = Redis.from_url(redis_server.url)
    client = create_redis(StoreConfig(kind="redis", url=redis_server.url))
    sent: list[str] = []
    execute = client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await execute(*args, **options)

    client.execute_command = counting  # type: ignore[method-assign]
    # The limit scripts' own lane (plain TCP, standalone) sends EVALSHA without redis-py: count it too.
    lane_evalsha = ScriptLane.evalsha

    async def counting_lane(self: ScriptLane, sha: str, keys: Any, args: Any) -> Any:
        sent.append("EVALSHA")
        return await lane_evalsha(self, sha, keys, args)

    monkeypatch.setattr(ScriptLane, "evalsha", counting_lane)
    store = RedisStore(client)
    limits = Limits(store, {"acme": TenantLimits(requests_per_minute=10, tokens_per_minute=10_000)})
    try:
        warm = await limits.admit(request("acme"))  # first use loads the scripts
        await limits.settle(warm, Usage(input_tokens=50, output_tokens=5))

        sent.clear()
        await admin.config_resetstat()
        admission = await limits.admit(request("acme"))
        assert sent == ["EVALSHA"]
        assert await _evalsha_calls(admin) == 1

        sent.clear()
        await admin.config_resetstat()
        assert await limits.settle(admission, Usage(input_tokens=50, output_tokens=5))
        assert sent == ["EVALSHA"]
        assert await _evalsha_calls(admin) == 1
    finally:
        await admin.flushall()
        await admin.aclose()
        await store.aclose()
