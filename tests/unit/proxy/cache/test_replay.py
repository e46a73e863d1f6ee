"""Streaming replay: the chunks fold back into the cached completion, as valid SSE ending in [DONE]."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from proxy.cache import replay_chunks, replay_stream
from proxy.cache.replay import split_words
from proxy.pipeline.unary import collect
from proxy.sse import SSEDecoder
from schemas.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    FunctionCall,
    ResponseMessage,
    ToolCall,
    Usage,
)

USAGE = Usage(prompt_tokens=4, completion_tokens=9, total_tokens=13)


def completion(*choices: Choice) -> ChatCompletion:
    return ChatCompletion(id="chatcmpl-1", model="m", created=123, choices=list(choices), usage=USAGE)


@given(st.text(), st.integers(1, 6))
def test_split_words_loses_nothing_and_bounds_words_per_piece(text: str, per_chunk: int) -> None:
    pieces = split_words(text, per_chunk)
    assert "".join(pieces) == text
    assert all(len(p.split()) <= per_chunk for p in pieces)


@given(st.text(min_size=1), st.sampled_from(["stop", "tool_calls"]))
def test_replayed_chunks_collect_back_into_the_same_completion(text: str, finish: str) -> None:
    cached = completion(Choice(message=ResponseMessage(content=text), finish_reason=finish))
    chunks = replay_chunks(cached, include_usage=False)
    assert collect(chunks, cached.usage) == cached
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == finish
    assert all(c.usage is None for c in chunks)


def test_tool_calls_and_several_choices_replay_whole() -> None:
    call = ToolCall(id="call_1", function=FunctionCall(name="lookup", arguments='{"q": "x"}'))
    cached = completion(
        Choice(index=0, message=ResponseMessage(content=None, tool_calls=[call]), finish_reason="tool_calls"),
        Choice(index=1, message=ResponseMessage(content="second answer here"), finish_reason="stop"),
    )
    assert collect(replay_chunks(cached, include_usage=False), cached.usage) == cached


async def test_replay_stream_is_sse_with_usage_last_only_when_asked() -> None:
    cached = completion(Choice(message=ResponseMessage(content="one two three four five six"), finish_reason="stop"))
    for include_usage in (True, False):
        raw = b"".join([part async for part in replay_stream(cached, include_usage=include_usage)])
        decoder = SSEDecoder()
        events = [*decoder.decode(raw), *decoder.flush()]
        assert events[-1].data == "[DONE]"
        chunks = [msgspec.json.decode(e.data, type=ChatCompletionChunk) for e in events[:-1]]
        texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
        assert texts == ["one two three four", " five six"]
        assert (chunks[-1].usage == USAGE) is include_usage
        if include_usage:
            assert chunks[-1].choices == []
        assert all(c.id == "chatcmpl-1" and c.object == "chat.completion.chunk" for c in chunks)
