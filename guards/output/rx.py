"""Typed access to the third-party ``regex`` module, and the incremental pattern scanner.

Why ``regex`` and not ``re``: its ``partial=True`` search tells whether a match could still start
at some position if more text arrived. With it, text that cannot start a match is released at
once (no fixed delay), and only real candidates are held back. ``regex`` ships no type stubs, so
this module is the one place that touches it untyped.

The scanning discipline (see ``PatternScanner``), one rule at a time, from a position before
which everything is decided:

* a cheap *starter* pattern finds the next position where a match could start (the rule's
  lookbehind plus its first character, and lookaheads that give up only on a character that
  rules a match out, never at the end of the buffer);
* there, ``match(buf, pos, partial=True)`` (anchored) says: no match possible whatever follows
  (skip the position), a partial match (undecided: the frontier stays here), or a full match;
* a full match ending fewer than ``tail`` characters before the end of the buffer is undecided
  too; a decided one is judged (validators, Presidio) and scanning resumes at its end, exactly as
  ``finditer`` would on the whole text.

Anchored matching matters: an unanchored ``search(partial=True)`` returns a later *full* match in
preference to an earlier *partial* one (``(?:ab)?c`` on ``"a"``), which would release text that
could still start a match.

This is only chunk-independent if a full match cannot change once ``tail`` more characters are
known. Every pattern here is written for it: it ends with a negative lookahead that rejects every
character its last repetition could consume (maximal munch), so a backtracked shorter match is
never accepted while the greedy one is still growing, and ``tail`` covers that lookahead. All
repetitions are bounded, so the work per start position is bounded too (no catastrophic
backtracking); each pattern's module gives its worst case. ``tests/unit/guards/output`` checks
chunk independence with hypothesis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import regex as _regex  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from guards.output.base import Hit

__all__ = ["IGNORECASE", "Match", "Pattern", "PatternRule", "PatternScanner", "compile_pattern"]

IGNORECASE: int = _regex.IGNORECASE


class Match(Protocol):
    """The part of ``regex.Match`` the scanners use."""

    @property
    def partial(self) -> bool: ...

    @property
    def string(self) -> str: ...

    def start(self, group: int | str = 0) -> int: ...

    def end(self, group: int | str = 0) -> int: ...

    def group(self, group: int | str = 0) -> str | Any: ...


class Pattern(Protocol):
    """The part of ``regex.Pattern`` the scanners use."""

    @property
    def pattern(self) -> str: ...

    def search(self, string: str, pos: int = ..., *, partial: bool = ...) -> Match | None: ...

    def match(self, string: str, pos: int = ..., *, partial: bool = ...) -> Match | None: ...

    def finditer(self, string: str, pos: int = ...) -> Any: ...


def compile_pattern(pattern: str, flags: int = 0) -> Pattern:
    """Compile with the ``regex`` module (``V0`` semantics, like ``re``)."""
    compiled: Pattern = _regex.compile(pattern, flags)
    return compiled


class PatternRule(Protocol):
    """One pattern plus the judge that turns a decided match into a hit (or rejects it)."""

    @property
    def pattern(self) -> Pattern: ...

    @property
    def starter(self) -> Pattern:
        """Matches (at least) every position where ``pattern`` could match or partially match."""
        ...

    @property
    def tail(self) -> int:
        """Characters after a match's end that must be known before the match is final."""
        ...

    def judge(self, m: Match, base: int) -> Hit | None:
        """Validate a decided match; offsets in the hit are absolute (``base`` + relative)."""
        ...


class PatternScanner:
    """Incremental ``finditer`` of several rules over a stream (one search position per rule)."""

    __slots__ = ("_pos", "_rules")

    def __init__(self, rules: tuple[PatternRule, ...]) -> None:
        self._rules = rules
        self._pos = [0] * len(rules)

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        """See ``DetectorScanner.scan``."""
        hits: list[Hit] = []
        size = len(buf)
        frontier = base + size
        for i, rule in enumerate(self._rules):
            pos = self._pos[i] - base
            while True:
                start = rule.starter.search(buf, pos)
                if start is None:
                    pos = size
                    break
                pos = start.start()
                m = rule.pattern.match(buf, pos, partial=not final)
                if m is None:
                    pos += 1
                    continue
                if not final and (m.partial or m.end() + rule.tail > size):
                    break
                hit = rule.judge(m, base)
                if hit is not None:
                    hits.append(hit)
                pos = max(m.end(), pos + 1)
            self._pos[i] = base + pos
            frontier = min(frontier, base + pos)
        return hits, frontier
