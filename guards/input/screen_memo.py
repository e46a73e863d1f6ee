"""A bounded memo of injection-screen results, one per ``InputGuard``.

Chat clients send the whole conversation with every request, so turn *n* screens *n* user
messages of which *n - 1* this process has most likely screened already: over a conversation
the screening work grows with the square of its length (a 20-turn chat with 500-character
turns re-screens about 2.5 ms of text on its last request alone). The screen is a pure function
of (text, vector) for fixed rules, classifier and thresholds, and an ``InputGuard`` is rebuilt
whenever those change (a reload builds a new one), so a memo held by the guard can never answer
with the result of other rules.

Keys are (scope, vector, text): the proxy's scope is the tenant, because a hit answers faster than
a screening, and that must not tell one tenant what another has sent.

Bounds: at most ``max_entries`` results holding at most ``max_total_chars`` characters of text
together, least recently used evicted first, and only texts of at most ``max_chars`` characters
(a longer text is screened every time: such texts are rarer, and a hit would not repay the
memory). Keys hold the text itself; the lookup hashes it once, in C. With the defaults the texts
take at most 8 MB per guard policy and process (2 M characters, 4 bytes each at worst).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from guards.injection.screen import ScreenResult

__all__ = ["ScreenMemo"]

Vector = Literal["direct", "indirect"]


class ScreenMemo:
    """LRU map from (scope, vector, text) to the screen's result."""

    __slots__ = ("_chars", "_entries", "_max_chars", "_max_entries", "_max_total", "hits", "misses")

    def __init__(self, max_entries: int = 4096, max_chars: int = 4096, max_total_chars: int = 2_000_000) -> None:
        """Keep at most ``max_entries`` results of texts up to ``max_chars`` characters, ``max_total_chars`` in all."""
        self._entries: OrderedDict[tuple[str, Vector, str], ScreenResult] = OrderedDict()
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._max_total = max_total_chars
        self._chars = 0
        self.hits = 0
        self.misses = 0

    def get(self, scope: str, vector: Vector, text: str) -> ScreenResult | None:
        """The remembered result, or ``None`` (also for a text too long to be remembered)."""
        if len(text) > self._max_chars:
            return None
        key = (scope, vector, text)
        result = self._entries.get(key)
        if result is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return result

    def put(self, scope: str, vector: Vector, text: str, result: ScreenResult) -> None:
        """Remember ``result`` (a no-op for a text longer than the bound)."""
        if len(text) > self._max_chars or self._max_entries <= 0 or len(text) > self._max_total:
            return
        key = (scope, vector, text)
        if key not in self._entries:
            self._chars += len(text)
        self._entries[key] = result
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries or self._chars > self._max_total:
            (_, _, evicted), _ = self._entries.popitem(last=False)
            self._chars -= len(evicted)

    def __len__(self) -> int:
        """How many results are remembered."""
        return len(self._entries)

    @property
    def chars(self) -> int:
        """How many characters of text the remembered keys hold."""
        return self._chars
