"""The response cache through real servers: coalescing, streaming replay read by the openai SDK, tenants."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import openai
import pytest

from fakeupstream import FakeUpstream
from tests.support.gateway import GatewayServer, make_key

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MESSAGES: list[Any] = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
def gateway(fake: FakeUpstream, tmp_path: Path) -> Iterator[tuple[GatewayServer, dict[str, str]]]:
    keys: dict[str, str] = {}
    records = []
    for tenant in ("acme", "globex"):
        key, record = make_key(tenant, key_id=f"{tenant}-key")
        keys[tenant] = key
        records.append(record)
    config = {
        "store": {"kind": "memory"},
        "providers": [{"name": "up", "kind": "openai", "base_url": fake.base_url + "/v1", "api_key_env": "UP_KEY"}],
        "models": [
            {
                "name": "slow",
                "deployments": [{"provider": "up", "model": "fake;words=12;delay_ms=40"}],
                "price": {"input_per_mtok_usd": 1, "output_per_mtok_usd": 2},
            },
            {"name": "cut", "deployments": [{"provider": "up", "model": "fake;words=20;fault=drop_after:5"}]},
        ],
        "tenants": [{"id": "acme"}, {"id": "globex"}],
    }
    server = GatewayServer(config, tmp_path, extra_keys=tuple(records), environ={"UP_KEY": "sk-up"})
    server.start()
    yield server, keys
    server.stop()


def upstream_calls(fake: FakeUpstream) -> int:
    return fake.stats().total


async def test_fifty_concurrent_identical_requests_make_one_upstream_call(
    fake: FakeUpstream, gateway: tuple[GatewayServer, dict[str, str]]
) -> None:
    server, keys = gateway
    body = {"model": "slow", "messages": MESSAGES, "temperature": 0}
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"authorization": f"Bearer {keys['acme']}"}, timeout=30
    ) as client:
        responses = await asyncio.gather(*(client.post("/v1/chat/completions", json=body) for _ in range(50)))
    assert all(r.status_code == 200 for r in responses)
    assert upstream_calls(fake) == 1
    statuses = sorted(r.headers["x-gateway-cache"] for r in responses)
    assert statuses == ["hit"] * 49 + ["miss"]
    contents = {r.json()["choices"][0]["message"]["content"] for r in responses}
    assert len(contents) == 1
    assert len(contents.pop().split()) == 12
    stats = server.state.cache.stats
    assert stats.coalesced == 49
    usage = responses[0].json()["usage"]
    # $1 / $2 per million tokens: one answer cost prompt + 2 * completion micro-dollars; each hit saved that
    assert stats.saved_micro_usd == 49 * (usage["prompt_tokens"] + 2 * usage["completion_tokens"])
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        exposition = (await client.get("/metrics")).text
    assert f"gateway_cache_saved_micro_usd {float(stats.saved_micro_usd)}" in exposition
    assert "gateway_cache_degraded 0.0" in exposition


def test_a_replayed_stream_reads_like_the_original_in_the_openai_sdk(
    fake: FakeUpstream, gateway: tuple[GatewayServer, dict[str, str]]
) -> None:
    server, keys = gateway
    sdk = openai.OpenAI(base_url=server.base_url + "/v1", api_key=keys["acme"], max_retries=0)

    def stream_once() -> tuple[str, str, str | None, Any]:
        raw = sdk.chat.completions.with_raw_response.create(
            model="slow", messages=MESSAGES, seed=42, stream=True, stream_options={"include_usage": True}
        )
        text, finish, usage = [], None, None
        for chunk in raw.parse():
            if chunk.choices:
                text.append(chunk.choices[0].delta.content or "")
                finish = chunk.choices[0].finish_reason or finish
            if chunk.usage is not None:
                usage = chunk.usage
        return raw.headers["x-gateway-cache"], "".join(text), finish, usage

    first = stream_once()
    second = stream_once()
    assert first[0] == "miss"
    assert second[0] == "hit"
    assert second[1:] == first[1:]
    assert len(first[1].split()) == 12
    assert first[2] == "stop"
    assert second[3] is not None
    assert second[3].completion_tokens == first[3].completion_tokens
    assert upstream_calls(fake) == 1
    # a non-streaming request with the same content is the same request: a JSON hit
    raw = sdk.chat.completions.with_raw_response.create(model="slow", messages=MESSAGES, seed=42)
    assert raw.headers["x-gateway-cache"] == "hit"
    assert raw.parse().choices[0].message.content == first[1]
    assert upstream_calls(fake) == 1


def test_tenants_never_share_answers_and_headers_are_honoured(
    fake: FakeUpstream, gateway: tuple[GatewayServer, dict[str, str]]
) -> None:
    server, keys = gateway
    body = {"model": "slow", "messages": MESSAGES, "temperature": 0}

    def post(tenant: str, payload: dict[str, Any] = body, cache_control: str | None = None) -> httpx.Response:
        headers = {"cache-control": cache_control} if cache_control else {}
        return httpx.post(
            server.base_url + "/v1/chat/completions",
            json=payload,
            headers={"authorization": f"Bearer {keys[tenant]}", **headers},
            timeout=30,
        )

    assert post("acme").headers["x-gateway-cache"] == "miss"
    assert post("acme").headers["x-gateway-cache"] == "hit"
    assert post("globex").headers["x-gateway-cache"] == "miss"
    assert upstream_calls(fake) == 2
    assert post("acme", cache_control="no-store").headers["x-gateway-cache"] == "bypass"
    assert post("acme", cache_control="no-cache").headers["x-gateway-cache"] == "bypass"
    assert upstream_calls(fake) == 4
    sampled = post("acme", {**body, "temperature": 0.8})
    assert sampled.headers["x-gateway-cache"] == "bypass"
    assert upstream_calls(fake) == 5


def test_a_stream_cut_mid_way_is_never_cached(
    fake: FakeUpstream, gateway: tuple[GatewayServer, dict[str, str]]
) -> None:
    server, keys = gateway
    body = {"model": "cut", "messages": MESSAGES, "temperature": 0, "stream": True}
    for _ in range(2):
        response = httpx.post(
            server.base_url + "/v1/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {keys['acme']}"},
            timeout=30,
        )
        assert response.headers["x-gateway-cache"] == "miss"
        assert '"stream_interrupted"' in response.text
    assert upstream_calls(fake) == 2
