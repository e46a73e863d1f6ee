"""Which stream chunks may be merged before output filtering (``StreamPlan.feed``).

Consecutive content deltas of one choice that arrive in the same upstream read are filtered as
one text; a chunk qualifies only when content is all it carries, so merging never moves a role,
a tool call, a refusal, a finish reason, usage or logprobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from schemas.chat import ChatCompletionChunk

__all__ = ["content_of", "content_only"]


def content_only(chunk: ChatCompletionChunk) -> bool:
    """One choice carrying only a content delta (no role, tool call, refusal, finish, usage or logprobs)."""
    if chunk.usage is not None or len(chunk.choices) != 1:
        return False
    choice = chunk.choices[0]
    delta = choice.delta
    return (
        choice.finish_reason is None
        and choice.logprobs is msgspec.UNSET
        and bool(delta.content)
        and delta.role is None
        and delta.tool_calls is None
        and delta.refusal is None
    )


def content_of(chunk: ChatCompletionChunk) -> str:
    """The content of a ``content_only`` chunk."""
    return chunk.choices[0].delta.content or ""
