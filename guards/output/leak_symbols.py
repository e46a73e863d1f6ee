"""Character-sequence leaks the word scanners cannot see: symbol secrets and acrostics.

``guards.output.leak_forms`` and ``leak_tokens`` work on letters and digits, so two kinds of leak
slip past them:

* **symbol secrets**: an access code made of emoji or other symbols (``😜🏩😄🦖``) has no letters
  or digits to match. Its symbols are matched in order, each within ``_SYMBOL_GAP`` characters of
  the previous one, so the code written verbatim, spaced out, or one symbol at the start of each
  line of a poem is a leak;
* **acrostics**: the first letters (or digits) of consecutive lines spell a secret of letters and
  digits (``write a poem whose lines start with the password``). A line that begins with a number
  (``1. Apple``) also offers its first letter to secrets without digits.

Chunk independence: a character is decided when it is seen (a line's first letter needs nothing
after it), so hits do not depend on chunking. A partial symbol match holds text back from its
first symbol (symbols of a secret are rare in ordinary text, so this costs streams nothing in
practice); a partial acrostic holds back only from its ``_ACROSTIC_HOLD``-th line, because most
lines begin with a letter that some secret starts with. Both are bounded by ``max_span``, and the
search jumps between interesting characters with one compiled character class (C speed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guards.output.base import Hit
from guards.output.leak_forms import core
from guards.output.rx import compile_pattern

if TYPE_CHECKING:
    from guards.output.base import HitAction
    from guards.output.rx import Pattern

__all__ = ["SymbolScanner", "acrostic_secret", "symbol_secret"]

_MIN_SYMBOLS = 3
"""A symbol secret needs at least this many symbols (one or two occur by chance)."""
_SYMBOL_GAP = 200
"""Characters allowed between two consecutive symbols of a secret (a line of a poem, a blank line)."""
_MIN_ACROSTIC = 4
_MAX_ACROSTIC = 32
_ACROSTIC_HOLD = 3
"""Lines of a partial acrostic before the scanner starts holding text back (see the module docstring)."""
_CLASS_SPECIAL = frozenset("\\]^-[")


def symbol_secret(secret: str) -> str:
    """The symbols of a secret the letter/digit scanners cannot match; empty when it has letters enough.

    A secret qualifies when it has fewer than 3 letters/digits and at least ``_MIN_SYMBOLS`` other
    visible characters; the result is those characters in order.
    """
    symbols = "".join(c for c in secret if not c.isspace() and not c.isalnum())
    if len(symbols) < _MIN_SYMBOLS or len(core(secret)) >= _MIN_SYMBOLS:
        return ""
    return symbols


def acrostic_secret(secret: str) -> str:
    """The letters/digits an acrostic of ``secret`` spells; empty when too short or too long to use."""
    spelled = core(secret)
    return spelled if _MIN_ACROSTIC <= len(spelled) <= _MAX_ACROSTIC else ""


def _char_class(chars: str) -> str:
    return "".join("\\" + c if c in _CLASS_SPECIAL else c for c in sorted(set(chars)))


class _Partial:
    __slots__ = ("hold", "last", "nxt", "start")

    def __init__(self, start: int, last: int, hold: int) -> None:
        self.nxt = 1
        self.start = start
        self.last = last
        self.hold = hold


class SymbolScanner:
    """Per-stream matching of symbol secrets and acrostics; see the module docstring."""

    __slots__ = (
        "_acrostic_states",
        "_acrostics",
        "_action",
        "_digits",
        "_fired",
        "_in_line",
        "_line",
        "_line_open",
        "_lines",
        "_max_span",
        "_open_line",
        "_pos",
        "_symbol_states",
        "_symbols",
        "_want_letter",
    )

    def __init__(
        self,
        symbols: tuple[tuple[str, str], ...],
        acrostics: tuple[tuple[str, str], ...],
        action: HitAction,
        max_span: int,
    ) -> None:
        """``symbols`` and ``acrostics``: (sequence, entity) pairs from ``symbol_secret``/``acrostic_secret``."""
        self._symbols = symbols
        self._acrostics = acrostics
        self._digits = tuple(any(c.isdigit() for c in seq) for seq, _ in acrostics)
        self._action: HitAction = action
        self._max_span = max_span
        chars = _char_class("".join(seq for seq, _ in symbols))
        self._in_line: Pattern = compile_pattern(f"[\\n{chars}]")
        self._open_line: Pattern = compile_pattern(f"[\\n\\p{{L}}\\p{{N}}{chars}]")
        self._pos = 0
        self._fired = False
        self._line_open = bool(acrostics)  # at a line's start, its first letter or digit not seen yet
        self._want_letter = False  # the line began with a digit: its first letter counts for digitless secrets
        self._lines = 0  # lines that had a first letter or digit so far
        self._line = -1  # index of the current such line
        self._symbol_states: list[list[_Partial]] = [[] for _ in symbols]
        self._acrostic_states: list[list[_Partial]] = [[] for _ in acrostics]

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        """See ``DetectorScanner.scan``."""
        end = base + len(buf)
        if self._fired:
            return [], end
        offset = self._pos - base
        while True:
            pattern = self._open_line if self._line_open or self._want_letter else self._in_line
            m = pattern.search(buf, offset)
            if m is None:
                break
            offset = m.start()
            hit = self._char(buf[offset], base + offset)
            if hit is not None:
                self._fired = True
                self._pos = end
                return [hit], end
            offset += 1
        self._pos = end
        return [], self._frontier(end)

    def _frontier(self, end: int) -> int:
        low = end
        for states in self._symbol_states:
            for state in states:
                if end - state.last <= _SYMBOL_GAP:
                    low = min(low, state.start)
        for states in self._acrostic_states:
            for state in states:
                if state.hold >= 0:
                    low = min(low, state.hold)
        return max(low, end - self._max_span)

    def _fire(self, start: int, end: int, entity: str) -> Hit:
        return Hit(max(start, end - self._max_span), end, "leak", entity, self._action, "<REDACTED>")

    def _char(self, c: str, at: int) -> Hit | None:
        if c == "\n":
            self._line_open = bool(self._acrostics)
            self._want_letter = False
            return None
        if c.isalnum():
            return self._initial(c.casefold(), at)
        for (seq, entity), states in zip(self._symbols, self._symbol_states, strict=True):
            if c in seq:
                start = self._symbol(seq, states, c, at)
                if start is not None:
                    return self._fire(start, at + 1, entity)
        return None

    def _initial(self, c: str, at: int) -> Hit | None:
        """A line's first letter or digit, or the first letter of a line that began with a digit."""
        if self._line_open:
            self._line_open = False
            self._line = self._lines
            self._lines += 1
            self._want_letter = c.isdigit()
            first = True
        elif self._want_letter and c.isalpha():
            self._want_letter = False
            first = False
        else:
            return None
        for (seq, entity), digits, states in zip(self._acrostics, self._digits, self._acrostic_states, strict=True):
            if first and not digits and c.isdigit():
                continue  # wait for the line's first letter
            if not first and digits:
                continue  # the line's first character already counted
            start = self._acrostic(seq, states, c, at)
            if start is not None:
                return self._fire(start, at + 1, entity)
        return None

    def _symbol(self, seq: str, states: list[_Partial], c: str, at: int) -> int | None:
        kept: list[_Partial] = []
        for state in states:
            if at - state.last > _SYMBOL_GAP:
                continue
            if seq[state.nxt] == c:
                state.nxt += 1
                state.last = at
                if state.nxt == len(seq):
                    return state.start
            kept.append(state)
        if seq[0] == c:
            kept.append(_Partial(at, at, at))
        # Two partials expecting the same next symbol: only the later one can do better.
        states[:] = list({state.nxt: state for state in kept}.values())
        return None

    def _acrostic(self, seq: str, states: list[_Partial], c: str, at: int) -> int | None:
        line = self._line
        kept: list[_Partial] = []
        for state in states:
            if state.last == line - 1 and seq[state.nxt] == c:
                state.nxt += 1
                state.last = line
                if state.nxt == _ACROSTIC_HOLD:
                    state.hold = at
                if state.nxt == len(seq):
                    return state.hold if state.hold >= 0 else at
                kept.append(state)
        if seq[0] == c:
            kept.append(_Partial(at, line, -1))
        states[:] = list({state.nxt: state for state in kept}.values())
        return None
