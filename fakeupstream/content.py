"""What the fake upstream answers and how it counts tokens, independent of the wire format.

Token counting is deliberately simple and documented, so tests can predict it exactly:

* a *word* is a maximal run of non-whitespace characters (``len(text.split())``);
* prompt tokens = for every message (the Anthropic ``system`` counts as one message):
  3 + the words of its text (string content, text parts, tool-call arguments, tool results);
* completion tokens = the words of the generated text + the words of the tool-call arguments.

The answer is the last user message's text echoed back (exactly, whitespace included), or
``words=N`` lorem words, or a ``content=`` literal. When the request caps output
(``max_tokens``/``max_completion_tokens``), the answer is cut to that many words and the
finish reason is ``length``: the fake honours ``max_tokens`` as a real provider does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from fakeupstream.directives import Directive

__all__ = ["Answer", "count_words", "plan_answer", "split_chunks", "word_pieces"]

_WORD = re.compile(r"\s*\S+")
_LOREM = (
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
)
PER_MESSAGE_TOKENS = 3
"""Fixed overhead counted for every message, like OpenAI's per-message framing tokens."""


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """The planned response: text chunks, an optional tool call, the finish and the usage."""

    chunks: tuple[str, ...]
    """Text pieces; their concatenation is the full answer text."""
    tool_name: str | None
    tool_arg_chunks: tuple[str, ...]
    finish: str
    """Neutral finish reason: ``stop``, ``length`` or ``tool``."""
    prompt_tokens: int
    completion_tokens: int


def count_words(text: str) -> int:
    """Words in ``text``: runs of non-whitespace characters."""
    return len(text.split())


def word_pieces(text: str) -> list[str]:
    """Split text into words, each with its leading whitespace; trailing whitespace joins the last.

    ``"".join(word_pieces(t)) == t`` for every ``t`` that contains a word.
    """
    pieces = _WORD.findall(text)
    if pieces:
        consumed = sum(len(p) for p in pieces)
        pieces[-1] += text[consumed:]
    return pieces


def split_chunks(pieces: list[str], chunks: int | None) -> tuple[str, ...]:
    """Group word pieces into ``chunks`` contiguous chunks of near-equal size (default: one per word)."""
    if not pieces:
        return ()
    count = len(pieces) if chunks is None else max(1, min(chunks, len(pieces)))
    base, extra = divmod(len(pieces), count)
    out: list[str] = []
    start = 0
    for index in range(count):
        size = base + (1 if index < extra else 0)
        out.append("".join(pieces[start : start + size]))
        start += size
    return tuple(out)


def _split_even(text: str, chunks: int | None) -> tuple[str, ...]:
    if not text:
        return ()
    count = max(1, min(chunks or 1, len(text)))
    step = -(-len(text) // count)
    return tuple(text[i : i + step] for i in range(0, len(text), step))


def plan_answer(directive: Directive, echo_text: str, prompt_tokens: int, max_tokens: int | None) -> Answer:
    """Decide the full answer for one request.

    Args:
        directive: the merged directive.
        echo_text: the last user message's text.
        prompt_tokens: the request's counted prompt tokens.
        max_tokens: the request's output cap, if any.
    """
    if directive.content is not None:
        text = directive.content
    elif directive.tool is not None:
        text = ""
    elif directive.words is not None:
        text = " ".join(_LOREM[i % len(_LOREM)] for i in range(directive.words))
    else:
        text = echo_text
    pieces = word_pieces(text)
    finish = "stop"
    if max_tokens is not None and len(pieces) > max_tokens:
        pieces = pieces[:max_tokens]
        finish = "length"
    args = directive.args if directive.tool is not None else ""
    if directive.tool is not None and finish == "stop":
        finish = "tool"
    if directive.finish is not None:
        finish = directive.finish
    return Answer(
        chunks=split_chunks(pieces, directive.chunks),
        tool_name=directive.tool,
        tool_arg_chunks=_split_even(args, directive.chunks),
        finish=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=len(pieces) + count_words(args),
    )
