"""Structured outputs through the gateway: a malformed generation never reaches the SDK as a success."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import openai
import pytest

from fakeupstream import FakeUpstream
from tests.e2e.test_guards import content_model, sdk, start

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SCHEMA: Any = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
    },
}
USER: Any = [{"role": "user", "content": "give me n"}]


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


def test_schema_invalid_output_fails_streamed_and_not(fake: FakeUpstream, tmp_path: Path) -> None:
    server, keys = start(
        fake,
        tmp_path,
        {},
        ("bad", content_model('{"n": "seven"}', ";chunks=4")),
        ("broken", content_model('{"n": 7,, "x"', ";chunks=4")),
        ("good", content_model('{"n": 7}', ";chunks=4")),
    )
    try:
        client = sdk(server, keys["plain"])
        good = client.chat.completions.create(model="good", messages=USER, response_format=SCHEMA)
        assert good.choices[0].message.content == '{"n": 7}'
        for model in ("bad", "broken"):
            with pytest.raises(openai.APIStatusError) as info:
                client.chat.completions.create(model=model, messages=USER, response_format=SCHEMA)
            assert info.value.status_code == 502
            assert info.value.code == "invalid_structured_output"
            streamed = httpx.post(
                server.base_url + "/v1/chat/completions",
                json={"model": model, "messages": USER, "response_format": SCHEMA, "stream": True},
                headers={"authorization": f"Bearer {keys['plain']}"},
                timeout=10,
            )
            events = [line for line in streamed.text.splitlines() if line.startswith("data: ")]
            if streamed.status_code == 200:
                assert "[DONE]" not in streamed.text
                assert '"invalid_structured_output"' in events[-1]
                assert '"finish_reason":"stop"' not in streamed.text
            else:
                assert streamed.json()["error"]["code"] == "invalid_structured_output"
        # per bad model: the non-streamed request and its one repair attempt, then the stream (no switch
        # after content reached the client)
        calls = Counter(r.model for r in fake.stats().records)
        assert sorted(calls.values()) == [1, 3, 3]
    finally:
        server.stop()


def test_an_invalid_schema_is_the_clients_400(fake: FakeUpstream, tmp_path: Path) -> None:
    server, keys = start(fake, tmp_path, {}, ("good", content_model('{"n": 7}')))
    try:
        bad_schema: Any = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}
        with pytest.raises(openai.BadRequestError) as info:
            sdk(server, keys["plain"]).chat.completions.create(model="good", messages=USER, response_format=bad_schema)
        assert info.value.param == "response_format"
        assert fake.stats().total == 0
    finally:
        server.stop()
