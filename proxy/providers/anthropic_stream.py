"""Anthropic Messages stream events -> OpenAI ``chat.completion.chunk`` Structs.

* ``message_start`` -> the first chunk, carrying ``role: assistant``;
* ``text_delta`` -> ``delta.content``; a ``tool_use`` block -> a ``tool_calls`` delta with its
  OpenAI index (tool blocks counted in order), id and name, then ``input_json_delta`` ->
  ``function.arguments`` fragments;
* ``message_delta.stop_reason`` -> ``finish_reason`` (end_turn/stop_sequence/pause_turn -> stop,
  max_tokens -> length, tool_use -> tool_calls, refusal -> content_filter);
* ``message_stop`` -> one final chunk with ``choices: []`` and the usage; ``done`` becomes True.

Usage in OpenAI terms: ``prompt_tokens`` = ``input_tokens`` + ``cache_creation_input_tokens`` +
``cache_read_input_tokens`` (Anthropic's ``input_tokens`` excludes cached tokens, OpenAI's
``prompt_tokens`` includes them; all of them are billed), with ``cached_tokens`` =
cache reads in ``prompt_tokens_details``. ``completion_tokens`` is the last (cumulative)
``output_tokens``. Later usage fields override earlier ones.

``ping``, thinking/citation deltas and event types this module does not know are ignored
(Anthropic's versioning policy allows new event types). An ``error`` event raises the mapped
``GatewayError``; undecodable JSON raises ``UpstreamProtocolError``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import msgspec

from proxy.errors import UpstreamProtocolError
from proxy.providers.anthropic_errors import error_from_type
from schemas.chat import (
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    PromptTokensDetails,
    ToolCallDelta,
    Usage,
)

if TYPE_CHECKING:
    from proxy.sse import SSEEvent

__all__ = ["AnthropicStreamTranslator", "finish_reason"]

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: str) -> str:
    """OpenAI ``finish_reason`` for an Anthropic ``stop_reason`` (unknown ones -> ``stop``)."""
    return _FINISH.get(stop_reason, "stop")


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class _Block(msgspec.Struct):
    type: str
    id: str = ""
    name: str = ""
    text: str = ""


class _Delta(msgspec.Struct):
    type: str = ""
    text: str = ""
    partial_json: str = ""
    stop_reason: str | None = None


class _Message(msgspec.Struct):
    usage: _Usage = msgspec.field(default_factory=_Usage)


class _ErrorDetail(msgspec.Struct):
    type: str = ""
    message: str = ""


class _Event(msgspec.Struct):
    """Every field any event type carries; one decode per event, dispatched on ``type``."""

    type: str
    index: int = 0
    message: _Message | None = None
    content_block: _Block | None = None
    delta: _Delta | None = None
    usage: _Usage | None = None
    error: _ErrorDetail | None = None


_decoder = msgspec.json.Decoder(_Event)


class AnthropicStreamTranslator:
    """Per response; not thread-safe. See the module docstring for the mapping."""

    def __init__(self, response_id: str, model: str) -> None:
        self._id = response_id
        self._model = model
        self._created = int(time.time())
        self._done = False
        self._tool_index: dict[int, int] = {}
        self._input = self._output = self._cache_write = self._cache_read = 0

    @property
    def done(self) -> bool:
        """True once ``message_stop`` was seen."""
        return self._done

    def feed(self, event: SSEEvent) -> list[ChatCompletionChunk]:
        """Translate one event.

        Raises:
            UpstreamProtocolError: the event is not valid JSON of the expected shape.
            GatewayError: the event is an in-band ``error`` (mapped by its type).
        """
        if self._done:
            return []
        try:
            ev = _decoder.decode(event.data)
        except msgspec.DecodeError as exc:
            raise UpstreamProtocolError("The upstream provider sent a malformed stream event.") from exc
        kind = ev.type
        if kind == "content_block_delta" and ev.delta is not None:
            return self._block_delta(ev.index, ev.delta)
        if kind == "message_start":
            if ev.message is not None:
                self._take_usage(ev.message.usage)
            return [self._chunk(Delta(role="assistant", content=""))]
        if kind == "content_block_start" and ev.content_block is not None:
            return self._block_start(ev.index, ev.content_block)
        if kind == "message_delta":
            if ev.usage is not None:
                self._take_usage(ev.usage)
            if ev.delta is not None and ev.delta.stop_reason is not None:
                return [self._chunk(Delta(), finish_reason(ev.delta.stop_reason))]
            return []
        if kind == "message_stop":
            self._done = True
            return [self._usage_chunk()]
        if kind == "error":
            detail = ev.error or _ErrorDetail()
            raise error_from_type(detail.type, detail.message)
        return []

    def _block_start(self, index: int, block: _Block) -> list[ChatCompletionChunk]:
        if block.type == "text":
            return [self._chunk(Delta(content=block.text))] if block.text else []
        if block.type != "tool_use":
            return []
        tool_index = len(self._tool_index)
        self._tool_index[index] = tool_index
        call = ToolCallDelta(
            index=tool_index, id=block.id, type="function", function=FunctionCallDelta(name=block.name, arguments="")
        )
        return [self._chunk(Delta(tool_calls=[call]))]

    def _block_delta(self, index: int, delta: _Delta) -> list[ChatCompletionChunk]:
        if delta.type == "text_delta":
            return [self._chunk(Delta(content=delta.text))] if delta.text else []
        if delta.type == "input_json_delta":
            tool_index = self._tool_index.get(index)
            if tool_index is None:
                raise UpstreamProtocolError("The upstream provider sent tool input for an unknown content block.")
            if not delta.partial_json:
                return []
            call = ToolCallDelta(index=tool_index, function=FunctionCallDelta(arguments=delta.partial_json))
            return [self._chunk(Delta(tool_calls=[call]))]
        return []

    def _take_usage(self, usage: _Usage) -> None:
        if usage.input_tokens is not None:
            self._input = usage.input_tokens
        if usage.output_tokens is not None:
            self._output = usage.output_tokens
        if usage.cache_creation_input_tokens is not None:
            self._cache_write = usage.cache_creation_input_tokens
        if usage.cache_read_input_tokens is not None:
            self._cache_read = usage.cache_read_input_tokens

    def _chunk(self, delta: Delta, finish: str | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self._id,
            model=self._model,
            created=self._created,
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],
        )

    def _usage_chunk(self) -> ChatCompletionChunk:
        prompt = self._input + self._cache_write + self._cache_read
        usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=self._output,
            total_tokens=prompt + self._output,
            prompt_tokens_details=PromptTokensDetails(cached_tokens=self._cache_read),
        )
        return ChatCompletionChunk(id=self._id, model=self._model, created=self._created, choices=[], usage=usage)
