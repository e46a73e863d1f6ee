"""Output guards in worker processes, end to end: SDK -> gateway (process pool) -> fake upstream."""

from __future__ import annotations

import os
import re
import signal
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import openai
import pytest

from fakeupstream import FakeUpstream
from tests.e2e.test_guards import content_model, sdk, start

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TEXT = (
    "Contact jane.doe@example.com or call 415-555-0132 today. Your card 4111 1111 1111 1111 is on file!\n"
    "Nothing else to report; have a good day. "
) * 3
PROCESS = {"mode": "process", "processes": 1, "batch_chars": 64}


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


def streamed(client: openai.OpenAI) -> str:
    parts = []
    for chunk in client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts)


def unary(client: openai.OpenAI) -> str:
    done = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    return done.choices[0].message.content or ""


def test_process_mode_gives_the_inline_output_streamed_and_not(fake: FakeUpstream, tmp_path: Path) -> None:
    outputs: dict[str, tuple[str, str]] = {}
    for mode, workers in (("inline", {}), ("process", PROCESS)):
        policy: dict[str, Any] = {"output": {"pii": {}, "secrets": {}, "workers": workers}}
        (tmp_path / mode).mkdir()
        server, keys = start(fake, tmp_path / mode, policy, ("m", content_model(TEXT, ";chunks=60")))
        try:
            client = sdk(server, keys["plain"])
            outputs[mode] = (streamed(client), unary(client))
        finally:
            server.stop()
    assert outputs["process"] == outputs["inline"]
    text = outputs["process"][0]
    assert "<EMAIL_ADDRESS>" in text
    assert "<CREDIT_CARD>" in text
    assert "jane.doe" not in text
    assert outputs["process"][1] == text


def test_fail_closed_timeout_is_a_503_before_the_first_byte(fake: FakeUpstream, tmp_path: Path) -> None:
    big = "Mail a.b@example.com or call 415-555-0132 now, " * 500  # one batch, far over 10 ms
    workers = {"mode": "process", "processes": 1, "batch_chars": 65536, "timeout_ms": 10}
    policy = {"output": {"pii": {}, "workers": workers}}
    server, keys = start(fake, tmp_path, policy, ("m", content_model(big, ";chunks=1")))
    try:
        with pytest.raises(openai.InternalServerError) as info:
            streamed(sdk(server, keys["plain"]))
        assert info.value.status_code == 503
        assert info.value.code == "guard_unavailable"
    finally:
        server.stop()


def test_fail_closed_mid_stream_is_one_error_event(fake: FakeUpstream, tmp_path: Path) -> None:
    # "First. " is the only sentence end: it goes out as batch 1; the rest is one final batch that times out.
    text = "First. " + "then a.b@example.com or 415-555-0132, " * 800
    workers = {"mode": "process", "processes": 1, "batch_chars": 65536, "timeout_ms": 10}
    policy = {"output": {"pii": {}, "workers": workers}}
    server, keys = start(fake, tmp_path, policy, ("m", content_model(text, ";chunks=2;delay_ms=30")))
    try:
        response = httpx.post(
            server.base_url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
            headers={"authorization": f"Bearer {keys['plain']}"},
            timeout=30,
        )
        assert response.status_code == 200
        events = [line for line in response.text.splitlines() if line.startswith("data: ")]
        errors = [e for e in events if '"error"' in e]
        assert len(errors) == 1
        assert events[-1] == errors[0]
        assert '"guard_unavailable"' in errors[0]
        assert "[DONE]" not in response.text
        assert "a.b@example.com" not in response.text
        released = "".join(re.findall(r'"content":"([^"]*)"', "\n".join(events[:-1])))
        assert released.startswith("First.")
    finally:
        server.stop()


def test_fail_open_releases_unfiltered_and_completes(fake: FakeUpstream, tmp_path: Path) -> None:
    text = "Mail a.b@example.com now, " * 40
    workers = {"mode": "process", "processes": 1, "batch_chars": 65536, "timeout_ms": 5000, "on_error": "fail_open"}
    policy = {"output": {"pii": {}, "workers": workers}}
    server, keys = start(fake, tmp_path, policy, ("m", content_model(text, ";chunks=1")))
    try:
        client = sdk(server, keys["plain"])
        assert "a.b@example.com" not in unary(client)  # the pool works: redacted
        # A worker crash (SIGKILL) is a deterministic failure, unlike a timeout on a fast machine.
        executor = server.state.guard_workers._executor  # type: ignore[union-attr]
        assert executor is not None
        for process in list(executor._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
        assert unary(client) == text  # fail_open: released unfiltered, the request completes
        assert "a.b@example.com" not in unary(client)  # the pool was replaced and filters again
    finally:
        server.stop()
