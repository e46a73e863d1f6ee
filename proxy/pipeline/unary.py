"""Non-streaming responses: the collected stream folded into one ``chat.completion``.

Content deltas are concatenated per choice, tool-call fragments are assembled by their
index, and the usage comes from the plan (the provider's report).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.chat import ChatCompletion, Choice, FunctionCall, ResponseMessage, ToolCall

if TYPE_CHECKING:
    from schemas.chat import ChatCompletionChunk, Usage

__all__ = ["collect"]


class _Acc:
    __slots__ = ("calls", "finish", "parts", "refusal", "role")

    def __init__(self) -> None:
        self.role = "assistant"
        self.parts: list[str] = []
        self.refusal: list[str] = []
        self.calls: dict[int, list[str]] = {}  # index -> [id, type, name, arguments...]
        self.finish: str | None = None


def collect(chunks: list[ChatCompletionChunk], usage: Usage | None) -> ChatCompletion:
    """Fold stream chunks into the equivalent non-streaming response."""
    choices: dict[int, _Acc] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            acc = choices.setdefault(choice.index, _Acc())
            delta = choice.delta
            if delta.role:
                acc.role = delta.role
            if delta.content:
                acc.parts.append(delta.content)
            if delta.refusal:
                acc.refusal.append(delta.refusal)
            for call in delta.tool_calls or ():
                slot = acc.calls.setdefault(call.index, ["", "function", "", ""])
                if call.id:
                    slot[0] = call.id
                if call.type:
                    slot[1] = call.type
                if call.function is not None:
                    slot[2] += call.function.name or ""
                    slot[3] += call.function.arguments or ""
            if choice.finish_reason is not None:
                acc.finish = choice.finish_reason
    first = chunks[0] if chunks else None
    return ChatCompletion(
        id=first.id if first else "chatcmpl-empty",
        model=first.model if first else "",
        created=first.created if first else 0,
        system_fingerprint=first.system_fingerprint if first else None,
        choices=[
            Choice(
                index=index,
                finish_reason=acc.finish,
                message=ResponseMessage(
                    role=acc.role,
                    content="".join(acc.parts) if acc.parts or not acc.calls else None,
                    refusal="".join(acc.refusal) or None,
                    tool_calls=[
                        ToolCall(id=c[0], type=c[1], function=FunctionCall(name=c[2], arguments=c[3]))
                        for _, c in sorted(acc.calls.items())
                    ]
                    or None,
                ),
            )
            for index, acc in sorted(choices.items())
        ],
        usage=usage,
    )
