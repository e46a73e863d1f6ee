"""Reading a regex's literal requirements off its parse tree (the derivation behind ``prefilter``).

``requirements(pattern)`` returns what any match of the pattern must contain, as a conjunction
of *clauses*, each a disjunction of *needs*: a set of whole words that must all occur in the
text (a literal between word boundaries: ``\\bsystem prompt\\b`` needs the words ``system``
and ``prompt``), or, when a literal does not start and end on a word boundary, a plain
substring. ``match_width(pattern)`` bounds the length of a match when that is possible.

The derivation is conservative by construction: anything it does not understand (character
classes with ranges, ``.``, backreferences, local flags, case-insensitive or ASCII-mode
patterns) contributes no requirement. It reads the pattern with the standard library's own
parser (``re._parser``); if that module ever changes shape, every pattern simply gets no
requirement.
"""

from __future__ import annotations

import importlib
import itertools
import re
from typing import Any, NamedTuple

__all__ = ["SPACE_RUN", "Clause", "Need", "match_width", "requirements"]

_WORD_RUN = re.compile(r"\w+")
_IS_WORD = re.compile(r"\w")
_BOUNDARY = "\x00"  # stands for \b inside derived literal strings
_MAX_EXACT = 64  # literal-set size beyond which a set is turned into a clause
_MAX_CLASS = 8  # a character class with at most this many single characters stays exact
_MAX_CLAUSES = 4
_MIN_QUALITY = 2
SPACE_RUN = 4
"""A whitespace repeat such as ``\\s+`` counts this wide in ``match_width`` (see its docstring)."""
_SPACE_CHARS = frozenset(" \t\n\r\f\v")
_UNREADABLE = (AttributeError, ImportError, re.error, TypeError, ValueError, RecursionError)


class Need(NamedTuple):
    """One way to satisfy a clause: all ``tokens`` are words of the text, or (no tokens) ``substring`` occurs."""

    tokens: frozenset[str]
    substring: str

    @property
    def quality(self) -> int:
        """How selective the need is: the longest required word (a substring counts one less)."""
        if self.tokens:
            return max(len(t) for t in self.tokens)
        return len(self.substring) - 1


Clause = tuple[Need, ...]


class _Info(NamedTuple):
    """What a sub-pattern requires: the exact set of strings it matches, or clauses."""

    exact: frozenset[str] | None
    clauses: tuple[Clause, ...]


_UNKNOWN = _Info(None, ())
_EMPTY = _Info(frozenset({""}), ())


def _need(literal: str) -> Need | None:
    """Turn one derived literal (with boundary markers) into a need; ``None`` when it requires nothing."""
    tokens: set[str] = set()
    for match in _WORD_RUN.finditer(literal.replace(_BOUNDARY, " ")):
        begin, end = match.span()
        # a run is a whole word of the text only if both of its ends sit on a boundary
        left = begin > 0 and (literal[begin - 1] == _BOUNDARY or not _IS_WORD.match(literal[begin - 1]))
        right = end < len(literal) and (literal[end] == _BOUNDARY or not _IS_WORD.match(literal[end]))
        if left and right:
            tokens.add(match.group())
    plain = literal.replace(_BOUNDARY, "")
    if not tokens and not plain:
        return None
    return Need(frozenset(tokens), "" if tokens else plain)


def _clause(exact: frozenset[str]) -> Clause | None:
    needs: list[Need] = []
    for literal in sorted(exact):
        need = _need(literal)
        if need is None:
            return None  # one alternative needs nothing, so the clause says nothing
        needs.append(need)
    return _clause_from_needs(needs)


def _quality(clause: Clause) -> int:
    return min(n.quality for n in clause)


def _as_clauses(info: _Info) -> tuple[Clause, ...]:
    if info.exact is None:
        return info.clauses
    clause = _clause(info.exact)
    return () if clause is None else (clause,)


def _concat(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    if len(left) * len(right) > _MAX_EXACT:
        return None
    return frozenset(a + b for a, b in itertools.product(left, right))


def _is_separator(item: Any, parser: Any) -> bool:
    op, av = item
    if op is parser.MAX_REPEAT or op is parser.MIN_REPEAT:
        return bool(av[0] >= 1) and _is_space_class(list(av[2]), parser)
    return _is_space_class([item], parser)


def _sequence(items: list[Any], parser: Any) -> _Info:
    exact: frozenset[str] = frozenset({""})
    clauses: list[Clause] = []
    all_exact = True
    for item in items:
        info = _node(item, parser)
        if info.exact is not None:
            joined = _concat(exact, info.exact)
            if joined is not None:
                exact = joined
                continue
            clauses.extend(_as_clauses(_Info(exact, ())))
            # if every left string ends on a separator, what follows starts on a word boundary
            ends = {x[-1:] for x in exact}
            starts_word = bool(ends) and all(e and (e == _BOUNDARY or not _IS_WORD.match(e)) for e in ends)
            exact = frozenset(_BOUNDARY + x for x in info.exact) if starts_word else info.exact
            all_exact = False
            continue
        all_exact = False
        # whitespace (\s, \s+) is not a word character: the words around it end and start there
        separator = _is_separator(item, parser)
        if separator:
            exact = frozenset(x + _BOUNDARY for x in exact)
        clauses.extend(_as_clauses(_Info(exact, ())))
        clauses.extend(info.clauses)
        exact = frozenset({_BOUNDARY if separator else ""})
    if all_exact:
        return _Info(exact, ())
    clauses.extend(_as_clauses(_Info(exact, ())))
    return _Info(None, tuple(clauses))


def _branch(branches: list[Any], parser: Any) -> _Info:
    infos = [_sequence(list(b), parser) for b in branches]
    exacts = [i.exact for i in infos]
    if all(e is not None for e in exacts):
        union = frozenset().union(*(e for e in exacts if e is not None))
        if len(union) <= _MAX_EXACT:
            return _Info(union, ())
    merged: list[Need] = []
    for info in infos:
        options = _as_clauses(info)
        if not options:
            return _UNKNOWN
        best: Clause = max(options, key=_quality)
        merged.extend(best)
    clause = _clause_from_needs(merged)
    return _Info(None, (clause,))


def _clause_from_needs(needs: list[Need]) -> Clause:
    """Deduplicate a disjunction: a need implied by a weaker one in the same clause adds nothing."""
    subs = sorted({n.substring for n in needs if not n.tokens}, key=len)
    kept_subs: list[str] = []
    for sub in subs:
        if not any(k in sub for k in kept_subs):
            kept_subs.append(sub)
    groups = sorted({n.tokens for n in needs if n.tokens}, key=lambda t: (len(t), sorted(t)))
    kept: list[frozenset[str]] = []
    for group in groups:
        if not any(k <= group for k in kept):
            kept.append(group)
    token_needs = sorted((Need(g, "") for g in kept), key=lambda n: sorted(n.tokens))
    return tuple(token_needs) + tuple(Need(frozenset(), s) for s in kept_subs)


def _char_class(items: list[Any], parser: Any) -> _Info:
    chars: set[str] = set()
    for op, av in items:
        if op is not parser.LITERAL or len(chars) >= _MAX_CLASS:
            return _UNKNOWN
        chars.add(chr(av))
    return _Info(frozenset(chars), ())


def _node(item: Any, parser: Any) -> _Info:
    op, av = item
    if op is parser.LITERAL:
        return _UNKNOWN if av == 0 else _Info(frozenset({chr(av)}), ())
    if op is parser.AT:
        return _Info(frozenset({_BOUNDARY}), ()) if av is parser.AT_BOUNDARY else _EMPTY
    if op is parser.ASSERT or op is parser.ASSERT_NOT:
        return _EMPTY  # zero width: consumes nothing
    if op is parser.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        return _UNKNOWN if add_flags or del_flags else _sequence(list(sub), parser)
    if op is parser.BRANCH:
        return _branch(list(av[1]), parser)
    if op is parser.IN:
        return _char_class(list(av), parser)
    if op is parser.MAX_REPEAT or op is parser.MIN_REPEAT or op is getattr(parser, "POSSESSIVE_REPEAT", None):
        low, high, sub = av
        inner = _sequence(list(sub), parser)
        if low == 0:
            if high == 1 and inner.exact is not None:
                return _Info(inner.exact | {""}, ())
            return _UNKNOWN  # any number of copies: nothing required, and not a fixed string
        if low == high == 1:
            return inner
        return _Info(None, _as_clauses(inner))
    return _UNKNOWN


def _is_space_class(items: list[Any], parser: Any) -> bool:
    if len(items) != 1 or items[0][0] is not parser.IN:
        return False
    return all(
        (op is parser.CATEGORY and av is parser.CATEGORY_SPACE) or (op is parser.LITERAL and chr(av) in _SPACE_CHARS)
        for op, av in items[0][1]
    )


def _width(items: list[Any], parser: Any, spaced: list[bool]) -> int | None:
    """Longest match of a sequence, or ``None`` if unbounded or if a match can depend on text outside it.

    Lookarounds and anchors other than word boundaries make a match depend on more than its
    own characters and their immediate neighbours, so such patterns are never windowed.
    ``spaced[0]`` is set when a whitespace repeat was counted as ``SPACE_RUN`` wide.
    """
    total = 0
    for op, av in items:
        if op in (parser.LITERAL, parser.NOT_LITERAL, parser.ANY, parser.IN):
            total += 1
        elif op is parser.AT:
            if av is not parser.AT_BOUNDARY and av is not parser.AT_NON_BOUNDARY:
                return None
        elif op is parser.SUBPATTERN:
            inner = _width(list(av[3]), parser, spaced)
            if inner is None:
                return None
            total += inner
        elif op is parser.BRANCH:
            widths = [_width(list(b), parser, spaced) for b in av[1]]
            if any(w is None for w in widths):
                return None
            total += max(w for w in widths if w is not None)
        elif op is parser.MAX_REPEAT or op is parser.MIN_REPEAT:
            inner = _repeat_width(av, parser, spaced)
            if inner is None:
                return None
            total += inner
        else:
            return None
    return total


def _repeat_width(av: Any, parser: Any, spaced: list[bool]) -> int | None:
    low, high, sub = av
    inner = _width(list(sub), parser, spaced)
    if inner is None:
        return None
    if high == parser.MAXREPEAT:
        if not _is_space_class(list(sub), parser):
            return None
        spaced[0] = True
        high = max(low, SPACE_RUN)
    return int(high) * inner


def requirements(pattern: str) -> tuple[Clause, ...]:
    """Return the clauses every match of ``pattern`` satisfies, most selective first (``()``: none known)."""
    try:
        if re.compile(pattern).flags & (re.IGNORECASE | re.ASCII | re.LOCALE):
            return ()
        parser = importlib.import_module("re._parser")
        info = _sequence(list(parser.parse(pattern)), parser)
    except _UNREADABLE:
        return ()
    clauses = [c for c in _as_clauses(info) if c and _quality(c) >= _MIN_QUALITY]
    clauses.sort(key=_quality, reverse=True)
    return tuple(clauses[:_MAX_CLAUSES])


def match_width(pattern: str) -> tuple[int | None, bool]:
    """Return (the longest possible match, whether that bound assumed short whitespace runs).

    ``None`` when a match can be arbitrarily long or can depend on text outside it (lookarounds,
    anchors other than word boundaries). A whitespace repeat (``\\s+``) counts as ``SPACE_RUN``
    characters, which holds on texts without a longer whitespace run (second value ``True``).
    """
    try:
        parser = importlib.import_module("re._parser")
        spaced = [False]
        width = _width(list(parser.parse(pattern)), parser, spaced)
    except _UNREADABLE:
        return None, False
    return width, spaced[0]
