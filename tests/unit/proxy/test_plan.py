"""StreamPlan: SSE -> chunks -> filters -> client chunks, without I/O."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pytest

from proxy.errors import ContentBlockedError, InvalidStructuredOutputError, UpstreamError, UpstreamProtocolError
from proxy.pipeline.plan import StreamPlan
from proxy.pipeline.unary import collect
from proxy.providers.chunks import OpenAIChunkTranslator
from schemas.chat import ChatCompletionChunk, ChunkChoice, Delta, Usage


def sse(*chunks: ChatCompletionChunk, done: bool = True) -> bytes:
    out = b"".join(b"data: " + msgspec.json.encode(c) + b"\n\n" for c in chunks)
    return out + (b"data: [DONE]\n\n" if done else b"")


def chunk(content: str | None = None, finish: str | None = None, usage: Usage | None = None) -> ChatCompletionChunk:
    choices = [] if usage is not None else [ChunkChoice(delta=Delta(content=content), finish_reason=finish)]
    return ChatCompletionChunk(id="c1", model="m", choices=choices, usage=usage)


STREAM = sse(
    chunk("Hello"),
    chunk(" world"),
    chunk(finish="stop"),
    chunk(usage=Usage(prompt_tokens=4, completion_tokens=2, total_tokens=6)),
)


def run(plan: StreamPlan, data: bytes, size: int) -> list[ChatCompletionChunk]:
    out: list[ChatCompletionChunk] = []
    for i in range(0, len(data), size):
        out.extend(plan.feed(data[i : i + size]))
    out.extend(plan.finish())
    return out


def text_of(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.delta.content or "" for ch in chunks for c in ch.choices)


@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_usage_chunk_only_when_asked_and_usage_recorded(size: int) -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False)
    out = run(plan, STREAM, size)
    assert text_of(out) == "Hello world"
    assert all(c.usage is None for c in out)
    assert plan.usage is not None
    assert plan.usage.completion_tokens == 2
    with_usage = run(StreamPlan(OpenAIChunkTranslator("m"), include_usage=True), STREAM, size)
    assert with_usage[-1].choices == []
    assert with_usage[-1].usage is not None


def test_stream_without_done_is_a_protocol_error() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False)
    plan.feed(sse(chunk("Hi"), done=False))
    assert plan.started
    with pytest.raises(UpstreamProtocolError):
        plan.finish()


def test_truncated_json_is_a_protocol_error() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False)
    with pytest.raises(UpstreamProtocolError):
        plan.feed(b'data: {"id": "c1", "choi\n\n')


def test_in_band_error_event_raises_upstream_error() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False)
    with pytest.raises(UpstreamError, match="overloaded"):
        plan.feed(b'data: {"error": {"message": "overloaded"}}\n\n')


@dataclass
class Step:
    text: str
    block: object | None = None


class UpperHoldBack:
    """A toy filter: holds everything back until finish, then releases it upper-cased."""

    def __init__(self) -> None:
        self.buf = ""

    def feed(self, text: str) -> Step:
        self.buf += text
        return Step("")

    def finish(self) -> Step:
        return Step(self.buf.upper())


def test_filter_holdback_is_flushed_into_the_finish_chunk() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_filter=UpperHoldBack)
    out = run(plan, STREAM, 5)
    assert text_of(out) == "HELLO WORLD"
    last = out[-1].choices[0]
    assert last.finish_reason == "stop"
    assert last.delta.content == "HELLO WORLD"


class Blocker:
    def feed(self, text: str) -> Step:
        return Step("", block=type("B", (), {"rule": "secrets.aws"})())

    def finish(self) -> Step:
        return Step("")


def test_filter_block_raises_content_blocked_with_rule() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_filter=Blocker)
    with pytest.raises(ContentBlockedError, match=r"secrets\.aws"):
        run(plan, STREAM, 1000)
    assert plan.blocked_rule == "secrets.aws"


class JsonOnly:
    def __init__(self) -> None:
        self.text = ""

    def feed(self, text: str) -> str | None:
        self.text += text
        return None if self.text.lstrip()[:1] in ("", "{") else "expected an object"

    def finish(self) -> str | None:
        return None if self.text.endswith("}") else "incomplete"


def test_structured_check_fails_stream_at_first_bad_character() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_check=JsonOnly)
    with pytest.raises(InvalidStructuredOutputError):
        run(plan, STREAM, 1000)


def test_collect_folds_content_and_tool_calls() -> None:
    from schemas.chat import FunctionCallDelta, ToolCallDelta

    parts = [
        ChatCompletionChunk(id="c", model="m", choices=[ChunkChoice(delta=Delta(role="assistant", content=""))]),
        ChatCompletionChunk(
            id="c",
            model="m",
            choices=[
                ChunkChoice(
                    delta=Delta(
                        tool_calls=[
                            ToolCallDelta(index=0, id="t1", function=FunctionCallDelta(name="f", arguments='{"a"'))
                        ]
                    )
                )
            ],
        ),
        ChatCompletionChunk(
            id="c",
            model="m",
            choices=[
                ChunkChoice(
                    delta=Delta(tool_calls=[ToolCallDelta(index=0, function=FunctionCallDelta(arguments=": 1}"))]),
                    finish_reason="tool_calls",
                )
            ],
        ),
    ]
    done = collect(parts, Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3))
    message = done.choices[0].message
    assert message.content is None
    assert message.tool_calls is not None
    assert message.tool_calls[0].function.arguments == '{"a": 1}'
    assert message.tool_calls[0].id == "t1"
    assert done.choices[0].finish_reason == "tool_calls"


def test_content_before_an_error_in_the_same_read_is_delivered_first() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False)
    data = sse(chunk("lorem"), chunk(" ipsum"), done=False) + b'data: {"error": {"message": "boom"}}\n\n'
    out = plan.feed(data)
    assert text_of(out) == "lorem ipsum"
    assert plan.produced == ["lorem", " ipsum"]
    with pytest.raises(UpstreamError, match="boom"):
        plan.feed(b"")


class Recording:
    """Counts feed calls and upper-cases what it releases (to see the filter ran)."""

    calls = 0

    def feed(self, text: str) -> Step:
        Recording.calls += 1
        return Step(text.upper())

    def finish(self) -> Step:
        return Step("")


def test_whole_text_mode_filters_each_choice_once_with_the_same_result() -> None:
    streamed = run(StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_filter=Recording), STREAM, 5)
    per_chunk = Recording.calls
    Recording.calls = 0
    whole = run(
        StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_filter=Recording, whole_text=True), STREAM, 5
    )
    assert Recording.calls == 1
    assert per_chunk == 2
    assert collect(whole, None).choices[0].message.content == collect(streamed, None).choices[0].message.content
    assert collect(whole, None).choices[0].message.content == "HELLO WORLD"


def test_content_deltas_of_one_read_reach_the_filter_as_one_text() -> None:
    many = sse(chunk("a"), chunk("b"), chunk("c"), chunk("d"), chunk(finish="stop"))
    Recording.calls = 0
    one_read = run(StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_filter=Recording), many, 10_000)
    assert Recording.calls == 1
    assert [c.choices[0].delta.content for c in one_read] == ["ABCD", None]
    assert one_read[-1].choices[0].finish_reason == "stop"
    Recording.calls = 0
    per_event = many.split(b"\n\n")
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_filter=Recording)
    split = [c for part in per_event if part for c in plan.feed(part + b"\n\n")] + plan.finish()
    assert Recording.calls == 4  # one read per event: nothing to merge
    assert text_of(split) == text_of(one_read) == "ABCD"
    # without a filter the chunks pass as the upstream sent them
    unfiltered = run(StreamPlan(OpenAIChunkTranslator("m"), include_usage=False), many, 10_000)
    assert [c.choices[0].delta.content for c in unfiltered][:4] == ["a", "b", "c", "d"]


def test_merged_content_before_an_error_in_the_same_read_is_delivered_first() -> None:
    plan = StreamPlan(OpenAIChunkTranslator("m"), include_usage=False, new_filter=Recording)
    data = sse(chunk("lorem"), chunk(" ipsum"), done=False) + b'data: {"error": {"message": "boom"}}\n\n'
    assert text_of(plan.feed(data)) == "LOREM IPSUM"
    with pytest.raises(UpstreamError, match="boom"):
        plan.feed(b"")
