"""Literal prefilters for rule regexes: skip a regex when a text cannot possibly match it.

Python's ``re`` tries a pattern such as ``\\b(ignore|disregard|...)\\b[^.\\n]{0,40}...`` at every
position of the text, and the rules file has dozens of them, so matching every rule against
every text costs milliseconds. But most patterns can only match when certain words are in the
text (``guards.injection.literals`` reads them off the pattern). ``Prefilter.allows`` checks
them against a text's word counts (``TextIndex``, computed once per text and shared by all
rules) in a few set lookups, and ``Prefilter.search`` runs the regex only around the places
where the rarest required words occur. The answer is always exactly ``regex.search(text)``'s.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

from guards.injection.literals import SPACE_RUN, match_width, requirements

if TYPE_CHECKING:
    from guards.injection.literals import Clause

__all__ = ["Prefilter", "TextIndex"]

_WORD_RUN = re.compile(r"\w+")
_LONG_SPACE = re.compile(rf"\s{{{SPACE_RUN + 1}}}")
_MAX_WIDTH = 400


class TextIndex:
    """What the prefilters need to know about one text, computed once per text and shared by all rules."""

    __slots__ = ("_long_space", "counts", "text", "words")

    def __init__(self, text: str) -> None:
        """Count the text's words (maximal ``\\w+`` runs)."""
        self.text = text
        self.counts: dict[str, int] = Counter(_WORD_RUN.findall(text))
        self.words = frozenset(self.counts)
        self._long_space: bool | None = None

    @property
    def long_space(self) -> bool:
        """Whether the text has a whitespace run longer than the width assumed for ``\\s+``."""
        if self._long_space is None:
            self._long_space = _LONG_SPACE.search(self.text) is not None
        return self._long_space


class _Check(NamedTuple):
    """One clause, laid out for fast checks: any single word, any word group, or any substring."""

    singles: frozenset[str]
    groups: tuple[frozenset[str], ...]
    subs: tuple[str, ...]
    words: tuple[str, ...]
    """Each word need's longest word: its whole-word occurrences locate the need's."""
    tokens: frozenset[str]
    """Every word of ``singles`` and ``groups``: a text with none of them meets no word need."""

    @classmethod
    def of(cls, clause: Clause) -> _Check:
        singles = frozenset(next(iter(n.tokens)) for n in clause if len(n.tokens) == 1)
        groups = tuple(n.tokens for n in clause if len(n.tokens) > 1)
        subs = tuple(n.substring for n in clause if not n.tokens)
        longest = {max(sorted(n.tokens), key=len) for n in clause if n.tokens}
        tokens = frozenset(t for n in clause for t in n.tokens)
        return cls(singles, groups, subs, tuple(sorted(longest)), tokens)

    def anchors(self, index: TextIndex) -> tuple[int, list[str]]:
        """Return (about how often the clause occurs, the strings whose occurrences locate it)."""
        counts = index.counts
        keys = [w for w in self.words if w in counts]
        total = sum(counts[w] for w in keys)
        for sub in self.subs:
            found = index.text.count(sub)
            if found:
                total += found
                keys.append(sub)
        return total, keys

    def met(self, index: TextIndex) -> bool:
        keys = index.words
        # Most texts share no word with most clauses: one set operation answers, before the
        # per-group and per-substring loops (which dominated the screen's time on short messages).
        if self.tokens.isdisjoint(keys):
            if not self.subs:
                return False
        elif not self.singles.isdisjoint(keys) or any(g <= keys for g in self.groups):
            return True
        text = index.text
        return any(s in text for s in self.subs)


def _rarity(tokens: frozenset[str]) -> tuple[int, int]:
    # a set that can never be met is the best key of all
    return (min(map(len, tokens)), -len(tokens)) if tokens else (1 << 30, 0)


class Prefilter:
    """The words / substrings one pattern needs (see the module docstring); immutable.

    ``width`` bounds the length of any match (``None``: unbounded, or a pattern with
    lookarounds): then ``search`` runs the regex only around the occurrences of the rarest
    clause's anchor strings instead of over the whole text.
    """

    __slots__ = ("_checks", "clauses", "spaced", "width")

    def __init__(self, clauses: tuple[Clause, ...], width: int | None = None, *, spaced: bool = False) -> None:
        """Wrap derived clauses (all must hold for the pattern to be able to match) and the match width bound.

        ``spaced``: the width assumes whitespace runs of at most ``SPACE_RUN`` characters.
        """
        self.clauses = clauses
        self.width = width if clauses else None
        self.spaced = spaced
        self._checks = tuple(_Check.of(c) for c in clauses)

    @classmethod
    def of(cls, pattern: str) -> Prefilter:
        """Derive the prefilter of a regex (``Prefilter(())``, which allows everything, if unsure)."""
        clauses = requirements(pattern)
        width, spaced = match_width(pattern)
        if width is not None and width > _MAX_WIDTH:
            width = None
        return cls(clauses, width, spaced=spaced)

    def key_words(self) -> frozenset[str] | None:
        """Return words of which any text the pattern matches has at least one (``None``: no such set).

        A clause with no substring need is met only when one of its word needs is, so only by a
        text that has that need's longest word (``_Check.words``): ``search`` is ``False`` on
        every text with none of them. Of those clauses, the one whose shortest such word is
        longest (then the one with fewest words) is picked, since long words are rare. An empty
        set means the pattern can never match; ``None``, that every clause (or no clause at
        all) lets a text without any particular word through.
        """
        best: frozenset[str] | None = None
        for check in self._checks:
            if check.subs:
                continue
            words = frozenset(check.words)
            if best is None or _rarity(words) > _rarity(best):
                best = words
        return best

    def allows(self, index: TextIndex) -> bool:
        """Return ``False`` only when the indexed text cannot match the pattern."""
        return all(check.met(index) for check in self._checks)

    def search(self, regex: re.Pattern[str], index: TextIndex) -> bool:
        """Return whether ``regex`` (the pattern this prefilter was derived from) matches the indexed text.

        Same answer as ``regex.search(text) is not None``, faster: ``False`` without running the
        regex when ``allows`` says so; else, for a pattern of bounded ``width``, the regex runs
        only on windows around each occurrence of the anchor strings of the clause that occurs
        least often, since every match contains one of them. ``search(text, lo, hi)`` keeps
        the real text before ``lo`` visible to ``\\b``, and one spare character after the
        longest possible match keeps ``\\b`` at the match end exact.
        """
        for check in self._checks:
            if not check.met(index):
                return False
        text = index.text
        if self.width is None or (self.spaced and index.long_space):
            return regex.search(text) is not None
        keys: list[str] = []
        fewest = length = len(text)
        for check in self._checks:
            total, found = check.anchors(index)
            if total < fewest:
                fewest, keys = total, found
        if fewest * 2 * self.width >= length:
            return regex.search(text) is not None  # the windows would cover the text anyway
        width = self.width
        lo = hi = -1
        find = text.find
        for key in keys:
            at = find(key)
            while at >= 0:
                start = at - width
                if start > hi:  # disjoint from the pending window: search that one first
                    if hi >= 0 and regex.search(text, max(0, lo), min(length, hi)) is not None:
                        return True
                    lo = start
                lo = min(lo, start)  # a later anchor string may occur earlier in the text
                hi = max(hi, at + len(key) + width + 1)
                at = find(key, at + 1)
        return hi >= 0 and regex.search(text, max(0, lo), min(length, hi)) is not None
