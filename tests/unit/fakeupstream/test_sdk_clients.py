"""The official openai and anthropic SDKs parse the fake's responses, streams and errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anthropic
import openai
import pytest

from fakeupstream import FakeUpstream

if TYPE_CHECKING:
    from collections.abc import Iterator

    from anthropic.types import MessageParam
    from openai.types.chat import ChatCompletionMessageParam

    from fakeupstream import RequestRecord

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "the quick brown fox"}]
A_USER: list[MessageParam] = [{"role": "user", "content": "the quick brown fox"}]
# prompt tokens: 3 per message + 4 words


@pytest.fixture
def oai(fake_upstream: FakeUpstream) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake_upstream.base_url + "/v1", api_key="k", max_retries=0) as client:
        yield client


@pytest.fixture
def anth(fake_upstream: FakeUpstream) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake_upstream.base_url, api_key="k", max_retries=0) as client:
        yield client


def _finished(fake: FakeUpstream) -> RequestRecord:
    # The client can read [DONE] before the server finished its bookkeeping for the stream.
    return fake.wait_for(lambda s: bool(s.records) and s.records[-1].outcome != "open", timeout=5).records[-1]


def test_openai_non_streaming(fake_upstream: FakeUpstream, oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(model="fake", messages=USER)
    assert completion.choices[0].message.content == "the quick brown fox"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (7, 4)
    record = fake_upstream.stats().records[-1]
    assert record.usage is not None
    assert record.usage.total_tokens == completion.usage.total_tokens


def test_openai_stream_with_usage(fake_upstream: FakeUpstream, oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="fake;words=6;chunks=3",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert texts == ["lorem ipsum", " dolor sit", " amet consectetur"]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (7, 6)
    record = _finished(fake_upstream)
    assert record.outcome == "completed"
    assert record.chunks_sent == 3
    assert record.usage is not None
    assert record.usage.completion_tokens == 6


def test_openai_stream_without_usage_option_reports_none(fake_upstream: FakeUpstream, oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(model="fake", messages=USER, stream=True))
    assert all(c.usage is None for c in chunks)
    assert _finished(fake_upstream).usage is None


def test_openai_tool_call_streamed_and_not(oai: openai.OpenAI) -> None:
    client = oai
    model = 'fake;tool=get_weather;args={"city": "Paris"};chunks=3'
    completion = client.chat.completions.create(model=model, messages=USER)
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert call.function.arguments == '{"city": "Paris"}'  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == "tool_calls"
    chunks = list(client.chat.completions.create(model=model, messages=USER, stream=True))
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].id
    assert deltas[0].function
    assert deltas[0].function.name == "get_weather"
    assert "".join(d.function.arguments or "" for d in deltas if d.function) == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("directive", "exc_type"),
    [
        ("fault=status:400", openai.BadRequestError),
        ("fault=status:404", openai.NotFoundError),
        ("fault=status:429;retry_after=7", openai.RateLimitError),
        ("fault=status:500", openai.InternalServerError),
        ("fault=status:503", openai.InternalServerError),
    ],
)
def test_openai_errors_raise_sdk_exceptions(
    oai: openai.OpenAI, directive: str, exc_type: type[openai.APIStatusError]
) -> None:
    with pytest.raises(exc_type) as info:
        oai.chat.completions.create(model=f"fake;{directive}", messages=USER)
    if "retry_after" in directive:
        assert info.value.response.headers["retry-after"] == "7"


def test_openai_wrong_key_is_401() -> None:
    with FakeUpstream(api_key="right") as fake:
        for key in ("wrong", "right"):
            with openai.OpenAI(base_url=fake.base_url + "/v1", api_key=key, max_retries=0) as client:
                if key == "wrong":
                    with pytest.raises(openai.AuthenticationError):
                        client.chat.completions.create(model="fake", messages=USER)
                else:
                    completion = client.chat.completions.create(model="fake", messages=USER)
                    assert completion.choices[0].message.content == "the quick brown fox"


def test_openai_models(oai: openai.OpenAI) -> None:
    assert [m.id for m in oai.models.list()] == ["fake", "fake-2"]


def test_anthropic_non_streaming(anth: anthropic.Anthropic) -> None:
    message = anth.messages.create(
        model="fake",
        max_tokens=100,
        system="be brief",
        messages=A_USER,
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "the quick brown fox"
    assert message.stop_reason == "end_turn"
    # 7 for the user message + 3 + 2 for the system prompt
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 4)


def test_anthropic_stream_text_and_usage(fake_upstream: FakeUpstream, anth: anthropic.Anthropic) -> None:
    client = anth
    with client.messages.stream(model="fake;cache_read=5;chunks=2", max_tokens=3, messages=A_USER) as stream:
        events = list(stream)
        final = stream.get_final_message()
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"
    assert "content_block_start" in kinds
    assert "message_delta" in kinds
    assert final.content[0].type == "text"
    assert final.content[0].text == "the quick brown"
    assert final.stop_reason == "max_tokens"
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.cache_read_input_tokens) == (7, 3, 5)
    record = _finished(fake_upstream)
    assert record.usage is not None
    assert (record.usage.prompt_tokens, record.usage.completion_tokens) == (12, 3)


def test_anthropic_tool_use_stream(anth: anthropic.Anthropic) -> None:
    client = anth
    model = 'fake;tool=lookup;args={"q": "cats", "n": 2};chunks=4'
    with client.messages.stream(model=model, max_tokens=50, messages=A_USER) as stream:
        final = stream.get_final_message()
    block = final.content[0]
    assert block.type == "tool_use"
    assert block.name == "lookup"
    assert block.input == {"q": "cats", "n": 2}
    assert final.stop_reason == "tool_use"


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (400, anthropic.BadRequestError),
        (401, anthropic.AuthenticationError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (529, anthropic.OverloadedError),
    ],
)
def test_anthropic_errors_raise_sdk_exceptions(
    anth: anthropic.Anthropic, status: int, exc_type: type[anthropic.APIStatusError]
) -> None:
    with pytest.raises(exc_type) as info:
        anth.messages.create(model=f"fake;fault=status:{status}", max_tokens=5, messages=A_USER)
    body = info.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"


def test_anthropic_in_band_error_event_raises(anth: anthropic.Anthropic) -> None:
    client = anth
    texts: list[str] = []
    with (
        pytest.raises(anthropic.APIStatusError, match="overloaded_error"),
        client.messages.stream(model="fake;fault=error_after:2", max_tokens=50, messages=A_USER) as stream,
    ):
        texts.extend(stream.text_stream)
    assert texts == ["the", " quick"]
