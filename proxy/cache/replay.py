"""Replaying a cached ``chat.completion`` as the SSE stream a streaming client expects.

Per choice: a role chunk (``content: ""``, as OpenAI sends), the content in chunks of a few words (so a UI
renders it the way it renders a live stream, at once), the refusal, each tool call whole, then the finish
chunk; after every choice, a usage-only chunk when the client asked for it (``stream_options.include_usage``),
then ``[DONE]``. Concatenating the content deltas gives back the cached text exactly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from proxy.sse import DONE, encode_data
from schemas.chat import ChatCompletionChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from schemas.chat import ChatCompletion, Choice

__all__ = ["WORDS_PER_CHUNK", "replay_chunks", "replay_stream", "split_words"]

WORDS_PER_CHUNK = 4
_WORD = re.compile(r"\s*\S+")
_encoder = msgspec.json.Encoder()


def split_words(text: str, per_chunk: int = WORDS_PER_CHUNK) -> list[str]:
    """Split ``text`` into pieces of ``per_chunk`` words whose concatenation is ``text``."""
    words = _WORD.findall(text)
    if not words:
        return [text] if text else []
    tail = text[sum(len(w) for w in words) :]
    if tail:
        words[-1] += tail
    return ["".join(words[i : i + per_chunk]) for i in range(0, len(words), per_chunk)]


def _choice_chunks(choice: Choice) -> list[ChunkChoice]:
    index = choice.index
    message = choice.message
    out = [ChunkChoice(index=index, delta=Delta(role=message.role, content=""))]
    out += (ChunkChoice(index=index, delta=Delta(content=piece)) for piece in split_words(message.content or ""))
    if message.refusal:
        out.append(ChunkChoice(index=index, delta=Delta(refusal=message.refusal)))
    for position, call in enumerate(message.tool_calls or ()):
        delta = ToolCallDelta(
            index=position,
            id=call.id,
            type=call.type,
            function=FunctionCallDelta(name=call.function.name, arguments=call.function.arguments),
        )
        out.append(ChunkChoice(index=index, delta=Delta(tool_calls=[delta])))
    out.append(ChunkChoice(index=index, finish_reason=choice.finish_reason or "stop"))
    return out


def replay_chunks(completion: ChatCompletion, *, include_usage: bool) -> list[ChatCompletionChunk]:
    """The stream chunks equivalent to ``completion`` (pure; :func:`replay_stream` encodes them)."""

    def chunk(choices: list[ChunkChoice], *, with_usage: bool = False) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=completion.id,
            model=completion.model,
            created=completion.created,
            choices=choices,
            usage=completion.usage if with_usage else None,
            system_fingerprint=completion.system_fingerprint,
        )

    ordered = sorted(completion.choices, key=lambda c: c.index)
    out = [chunk([part]) for choice in ordered for part in _choice_chunks(choice)]
    if include_usage and completion.usage is not None:
        out.append(chunk([], with_usage=True))
    return out


async def replay_stream(completion: ChatCompletion, *, include_usage: bool) -> AsyncIterator[bytes]:
    """The SSE bytes of :func:`replay_chunks`, then ``data: [DONE]``."""
    for chunk in replay_chunks(completion, include_usage=include_usage):
        yield encode_data(_encoder.encode(chunk))
    yield DONE
