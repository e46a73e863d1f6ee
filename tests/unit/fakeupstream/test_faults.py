"""Each injected fault behaves as specified, seen by a raw aiohttp client."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import aiohttp
import msgspec
import pytest

from tests.support.fake_upstream import FakeUpstreamProcess

if TYPE_CHECKING:
    from fakeupstream import FakeUpstream, RequestRecord

BODY = {
    "messages": [{"role": "user", "content": "one two three four five"}],
    "stream": True,
    "stream_options": {"include_usage": True},
}


def _body(model: str, **extra: object) -> dict[str, object]:
    return {**BODY, "model": model, **extra}


async def _read_into(resp: aiohttp.ClientResponse, out: bytearray) -> None:
    async for chunk in resp.content.iter_any():
        out.extend(chunk)


def _data_events(raw: bytes) -> list[bytes]:
    return [line[6:] for line in raw.split(b"\n") if line.startswith(b"data: ")]


async def _post(
    session: aiohttp.ClientSession, fake: FakeUpstream, model: str, **extra: object
) -> aiohttp.ClientResponse:
    return await session.post(fake.base_url + "/v1/chat/completions", data=msgspec.json.encode(_body(model, **extra)))


def _last(fake: FakeUpstream) -> RequestRecord:
    return fake.stats().records[-1]


async def test_status_fault_with_retry_after(fake_upstream: FakeUpstream) -> None:
    async with (
        aiohttp.ClientSession() as session,
        await _post(session, fake_upstream, "f;fault=status:429;retry_after=3") as resp,
    ):
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "3"
        body = msgspec.json.decode(await resp.read())
        assert body["error"]["type"] == "rate_limit_error"


async def test_fail_first_then_succeed(fake_upstream: FakeUpstream) -> None:
    statuses = []
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with await _post(session, fake_upstream, "f;fail_first=2;fail_status=503") as resp:
                statuses.append(resp.status)
                await resp.read()
    assert statuses == [503, 503, 200]


async def test_hang_before_headers_then_disconnect_is_observed(fake_upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as session:
        with pytest.raises(asyncio.TimeoutError):
            await _post(session, fake_upstream, "f;fault=hang_headers")
    closed_at = time.monotonic()
    stats = fake_upstream.wait_for(lambda s: s.records[-1].client_disconnected, timeout=1.0)
    record = stats.records[-1]
    assert record.status == 0
    assert record.disconnected_at is not None
    assert record.disconnected_at - closed_at < 1.0


async def test_slow_first_byte(fake_upstream: FakeUpstream) -> None:
    start = time.monotonic()
    async with (
        aiohttp.ClientSession() as session,
        await _post(session, fake_upstream, "f;fault=slow_first_byte:300") as resp,
    ):
        headers_at = time.monotonic()
        raw = await resp.read()
    assert headers_at - start >= 0.3
    assert raw.endswith(b"data: [DONE]\n\n")


async def test_hang_mid_stream_and_disconnect_within_one_second(fake_upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await _post(session, fake_upstream, "f;fault=hang_after:2")
        received = b""
        while received.count(b'"content":"') < 3:  # the role chunk + 2 content chunks
            received += await resp.content.readany()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(resp.content.readany(), 0.2)
        assert fake_upstream.stats().open_streams == 1
        resp.close()
        closed_at = time.monotonic()
    stats = fake_upstream.wait_for(lambda s: s.open_streams == 0 and s.records[-1].client_disconnected, timeout=1.0)
    record = stats.records[-1]
    assert record.chunks_sent == 2
    assert record.outcome == "client_disconnected"
    assert record.disconnected_at is not None
    assert record.disconnected_at - closed_at < 1.0


async def test_client_disconnect_during_slow_stream_is_recorded(fake_upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await _post(session, fake_upstream, "f;delay_ms=200")
        await resp.content.readany()
        resp.close()
        closed_at = time.monotonic()
    record = fake_upstream.wait_for(lambda s: s.records[-1].ended is not None, timeout=1.0).records[-1]
    assert record.client_disconnected
    assert record.usage is None
    assert record.disconnected_at is not None
    assert record.disconnected_at - closed_at < 1.0


@pytest.mark.parametrize("fault", ["drop_after", "close_after"])
async def test_connection_dropped_mid_stream(fake_upstream: FakeUpstream, fault: str) -> None:
    received = bytearray()
    async with aiohttp.ClientSession() as session, await _post(session, fake_upstream, f"f;fault={fault}:2") as resp:
        with pytest.raises(aiohttp.ClientPayloadError):
            await _read_into(resp, received)
    contents = [msgspec.json.decode(e)["choices"][0]["delta"].get("content") for e in _data_events(bytes(received))]
    assert contents == ["", "one", " two"]
    assert b"[DONE]" not in received
    record = _last(fake_upstream)
    assert record.outcome == "fault"
    assert not record.client_disconnected
    assert record.usage is None


async def test_malformed_line_then_normal_end(fake_upstream: FakeUpstream) -> None:
    async with (
        aiohttp.ClientSession() as session,
        await _post(session, fake_upstream, "f;fault=malformed_after:1") as resp,
    ):
        raw = await resp.read()
    assert b"\xff\xfe" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.index(b"\xff\xfe") > raw.index(b'"content":"one"')
    assert raw.endswith(b"data: [DONE]\n\n")


async def test_truncated_json_event(fake_upstream: FakeUpstream) -> None:
    async with (
        aiohttp.ClientSession() as session,
        await _post(session, fake_upstream, "f;fault=truncated_after:0") as resp,
    ):
        raw = await resp.read()
    events = _data_events(raw)
    assert events[0].startswith(b'{"id"')  # the role chunk
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(events[1])
    assert events[-1] == b"[DONE]"


async def test_wrong_content_type(fake_upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as session, await _post(session, fake_upstream, "f;fault=html") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        assert b"<html>" in await resp.read()


async def test_openai_in_band_error_event(fake_upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as session, await _post(session, fake_upstream, "f;fault=error_after:1") as resp:
        events = _data_events(await resp.read())
    assert msgspec.json.decode(events[-1])["error"]["message"] == "injected in-band error"
    assert b"[DONE]" not in events


async def test_content_override_and_max_tokens(fake_upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as session:
        async with await _post(session, fake_upstream, "f;content=sk-live-SECRET a b", stream=False) as resp:
            body = msgspec.json.decode(await resp.read())
        assert body["choices"][0]["message"]["content"] == "sk-live-SECRET a b"
        async with await _post(session, fake_upstream, "f;words=50", stream=False, max_completion_tokens=5) as resp:
            body = msgspec.json.decode(await resp.read())
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5
    assert _last(fake_upstream).body["max_completion_tokens"] == 5  # type: ignore[index]


async def test_non_streaming_drop_and_truncation(fake_upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as session:
        async with await _post(session, fake_upstream, "f;fault=drop_after:0", stream=False) as resp:
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()
        async with await _post(session, fake_upstream, "f;fault=truncated_after:0", stream=False) as resp:
            with pytest.raises(msgspec.DecodeError):
                msgspec.json.decode(await resp.read())


async def test_anthropic_stream_event_sequence(fake_upstream: FakeUpstream) -> None:
    body = {
        "model": "fake;chunks=2",
        "max_tokens": 10,
        "stream": True,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi there you"}]}],
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake_upstream.base_url + "/v1/messages", data=msgspec.json.encode(body)) as resp,
    ):
        raw = await resp.read()
    names = [line[7:].decode() for line in raw.split(b"\n") if line.startswith(b"event: ")]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


async def test_control_api_over_http(fake_upstream: FakeUpstream) -> None:
    base = fake_upstream.base_url
    async with aiohttp.ClientSession() as session:
        async with session.post(base + "/_control/script", json={"directive": "fault=status:502", "count": 1}) as r:
            assert r.status == 200
        async with session.post(base + "/_control/script", json={"directive": "nonsense=1"}) as r:
            assert r.status == 400
        async with await _post(session, fake_upstream, "fake") as resp:
            assert resp.status == 502
        async with await _post(session, fake_upstream, "fake") as resp:
            assert resp.status == 200
            await resp.read()
        async with session.get(base + "/_control/stats") as r:
            stats = msgspec.json.decode(await r.read())
        assert stats["total"] == 2
        assert stats["by_model"] == {"fake": 2}
        assert [rec["status"] for rec in stats["records"]] == [502, 200]
        async with session.post(base + "/_control/reset") as r:
            assert r.status == 200
    assert fake_upstream.stats().total == 0


def test_subprocess_serves_and_dies_on_kill() -> None:
    import urllib.error
    import urllib.request

    with FakeUpstreamProcess() as proc:
        proc.script("words=3")
        req = urllib.request.Request(
            proc.base_url + "/v1/chat/completions",
            data=msgspec.json.encode(_body("fake", stream=False)),
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert msgspec.json.decode(resp.read())["choices"][0]["message"]["content"] == "lorem ipsum dolor"
        assert proc.stats().by_path == {"/v1/chat/completions": 1}
        proc.kill()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(proc.base_url + "/_control/stats", timeout=2)
