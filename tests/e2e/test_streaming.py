"""Streaming through real servers on loopback: incremental delivery, disconnects, provider adapters."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import openai
import pytest

from fakeupstream import FakeUpstream
from tests.support.gateway import GatewayServer, make_key

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


def config_for(fake: FakeUpstream, *models: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "store": {"kind": "memory"},
        "providers": [
            {"name": "up", "kind": "openai", "base_url": fake.base_url + "/v1", "api_key_env": "UP_KEY"},
            {"name": "claude", "kind": "anthropic", "base_url": fake.base_url, "api_key_env": "UP_KEY"},
        ],
        "models": [
            {"name": name, "deployments": [{"provider": provider, "model": model}]} for name, provider, model in models
        ],
        "tenants": [{"id": "acme"}],
    }


def served(fake: FakeUpstream, tmp_path: Path, *models: tuple[str, str, str]) -> tuple[GatewayServer, str]:
    key, record = make_key("acme", scopes=("chat", "system"))
    server = GatewayServer(config_for(fake, *models), tmp_path, extra_keys=(record,), environ={"UP_KEY": "sk-up"})
    server.start()
    return server, key


def test_chunks_reach_the_client_as_they_are_produced(fake: FakeUpstream, tmp_path: Path) -> None:
    server, key = served(fake, tmp_path, ("slow", "up", "fake;words=8;delay_ms=120"))
    try:
        sdk = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
        started = time.monotonic()
        arrivals: list[float] = []
        text = []
        for chunk in sdk.chat.completions.create(
            model="slow", messages=[{"role": "user", "content": "go"}], stream=True
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.monotonic() - started)
                text.append(chunk.choices[0].delta.content)
        total = time.monotonic() - started
        assert len(text) == 8
        # One chunk every ~120 ms upstream: the first must arrive long before the last.
        assert arrivals[0] < total / 3
        assert arrivals[-1] - arrivals[0] > 0.5
    finally:
        server.stop()


def test_usage_and_content_match_what_the_provider_sent(fake: FakeUpstream, tmp_path: Path) -> None:
    server, key = served(fake, tmp_path, ("m", "up", "fake;words=12"))
    try:
        sdk = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
        response = sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "a b c"}])
        record = fake.stats().records[-1]
        assert record.usage is not None
        assert response.usage is not None
        assert response.usage.completion_tokens == record.usage.completion_tokens
        assert response.usage.prompt_tokens == record.usage.prompt_tokens
        assert len((response.choices[0].message.content or "").split()) == 12
        # The gateway always streams upstream and asks for usage.
        assert record.stream is True
        assert record.body is not None
        assert record.body["stream_options"] == {"include_usage": True}  # type: ignore[index]
        assert record.body["model"] == "fake;words=12"  # type: ignore[index]
    finally:
        server.stop()


def test_client_disconnect_closes_the_upstream_within_one_second(fake: FakeUpstream, tmp_path: Path) -> None:
    server, key = served(fake, tmp_path, ("long", "up", "fake;words=2000;delay_ms=50"))
    try:
        with (
            httpx.Client(timeout=10) as client,
            client.stream(
                "POST",
                server.base_url + "/v1/chat/completions",
                json={"model": "long", "messages": [{"role": "user", "content": "x"}], "stream": True},
                headers={"authorization": f"Bearer {key}"},
            ) as response,
        ):
            assert response.status_code == 200
            lines = response.iter_lines()
            seen = 0
            for line in lines:
                if line.startswith("data: "):
                    seen += 1
                if seen >= 3:
                    break
            closed_at = time.monotonic()
        stats = fake.wait_for(lambda s: bool(s.records) and s.records[-1].client_disconnected, timeout=5)
        record = stats.records[-1]
        assert record.disconnected_at is not None
        assert record.disconnected_at - closed_at < 1.0
        assert record.chunks_sent < 2000
    finally:
        server.stop()


def test_stream_cut_mid_way_ends_with_an_error_event_not_done(fake: FakeUpstream, tmp_path: Path) -> None:
    server, key = served(fake, tmp_path, ("cut", "up", "fake;words=20;fault=drop_after:5"))
    try:
        with httpx.Client(timeout=10) as client:
            response = client.post(
                server.base_url + "/v1/chat/completions",
                json={"model": "cut", "messages": [{"role": "user", "content": "x"}], "stream": True},
                headers={"authorization": f"Bearer {key}"},
            )
        events = [line for line in response.text.splitlines() if line.startswith("data: ")]
        assert events[-1] != "data: [DONE]"
        assert '"stream_interrupted"' in events[-1]
        assert not any('"finish_reason":"stop"' in e for e in events)
        sdk = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.APIError):
            for _ in sdk.chat.completions.create(model="cut", messages=[{"role": "user", "content": "x"}], stream=True):
                pass
    finally:
        server.stop()


def test_anthropic_backed_model_streams_to_the_openai_sdk(fake: FakeUpstream, tmp_path: Path) -> None:
    server, key = served(fake, tmp_path, ("claude", "claude", "claude-fake;words=6"))
    try:
        sdk = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
        parts: list[str] = []
        usage = None
        finish = None
        for chunk in sdk.chat.completions.create(
            model="claude",
            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}],
            stream=True,
            stream_options={"include_usage": True},
        ):
            if chunk.choices:
                parts.append(chunk.choices[0].delta.content or "")
                finish = chunk.choices[0].finish_reason or finish
            if chunk.usage:
                usage = chunk.usage
        assert len("".join(parts).split()) == 6
        assert finish == "stop"
        record = fake.stats().records[-1]
        assert record.path == "/v1/messages"
        assert record.usage is not None
        assert usage is not None
        assert usage.completion_tokens == record.usage.completion_tokens
        unary = sdk.chat.completions.create(model="claude", messages=[{"role": "user", "content": "hi"}])
        assert len((unary.choices[0].message.content or "").split()) == 6
    finally:
        server.stop()
