"""Token-level secret matching: a secret written as words, spelled out, scattered or rhymed.

``SecretScanner`` reads the output one token (run of letters/digits) at a time and, for every
secret of the request (see ``guards.output.leak_forms``), recognises:

* **phrase**: the secret's words in order with at most ``max_gap`` other words between two of
  them (stem-matched when alphabetic, exactly otherwise), rot13-encoded, run together
  (``ElbowPizza``) or run together reversed;
* **scatter**: every informative word of a multi-word secret, in any order, within ``window``
  tokens (``"Livid" ... "snafu"`` in a restated defence);
* **spelling**: the secret's characters as consecutive single-character tokens, NATO words or
  number words (``t-r-a-m``, ``the first letter is "s", the second is "n"...``, ``tango romeo``),
  forwards or backwards, with at most ``SPELL_GAP`` other words between two of them. Digits do not
  interrupt the spelling of a secret without digits (numbered lists), the English words ``a`` and
  ``I`` never interrupt one, and the letter of a contraction (``it's``) is not a spelled letter;
* **rhyme**: a token or two adjacent tokens with the secret's ``rhyme_key`` (``hugger not`` for
  ``juggernaut``), for single-word alphabetic secrets with a key of at least 4 consonants.

Chunk independence: a token is decided only once the character after it is known (or it reaches
``WORD_CAP``); every partial match keeps its start, and the frontier is the oldest start still
alive, bounded below by ``max_span`` before the last token, so the hold-back stays bounded.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from guards.output.base import Hit
from guards.output.leak_forms import SPELLING, STEM, STOPWORDS, WORD_CAP, WORD_RE, core, rhyme_key, rhymes, rime, words

if TYPE_CHECKING:
    from guards.output.base import HitAction

__all__ = ["SPELL_GAP", "SecretScanner", "SecretSpec"]

SPELL_GAP = 8
"""Words allowed between two spelled characters (``... the second character is "n" ...``)."""
_MIN_SPELLED = 3
_MIN_DISGUISED = 5
_MIN_RHYME_LETTERS = 7
_MIN_RHYME_KEY = 4
_APOSTROPHES = frozenset("'’")
_ARTICLES = frozenset("ai")


class _Element:
    """One word of a phrase: matches a token by stem, or exactly (digits, run-together forms)."""

    __slots__ = ("exact", "key")

    def __init__(self, key: str, exact: bool) -> None:
        self.key = key
        self.exact = exact

    def matches(self, folded: str) -> bool:
        return folded == self.key if self.exact else folded[:STEM] == self.key


def _element(word: str) -> _Element:
    return _Element(word, exact=True) if not word.isalpha() or len(word) < STEM else _Element(word[:STEM], exact=False)


class SecretSpec:
    """What the token scanner looks for in one secret; built per request, immutable."""

    __slots__ = ("digits", "entity", "phrases", "rhyme", "rime", "scatter", "spellings")

    def __init__(self, secret: str, entity: str) -> None:
        folded = [w.casefold() for w in words(secret)]
        self.entity = entity
        forms = [tuple(_element(w) for w in folded)] if folded else []
        joined = "".join(folded)
        if len(folded) > 1:
            forms.append((_Element(joined, exact=True),))
        # Short words are often real words reversed or rot13-encoded (``sna`` -> ``fan``).
        if len(joined) >= _MIN_DISGUISED:
            rot = [codecs.encode(w, "rot13") for w in folded]
            if rot != folded:
                forms.append(tuple(_element(w) for w in rot))
            if joined[::-1] != joined:
                forms.append((_Element(joined[::-1], exact=True),))
        self.phrases: tuple[tuple[_Element, ...], ...] = tuple(forms)
        informative = {w[:STEM] for w in folded if w not in STOPWORDS}
        self.scatter = frozenset(informative) if len(informative) > 1 else frozenset()
        spelled = core(secret)
        # Without digits of its own, a secret's spelling may be numbered ("1. t 2. r"): digits are gaps.
        self.digits = any(c.isdigit() for c in spelled)
        self.spellings: tuple[str, ...] = ()
        if len(spelled) >= _MIN_SPELLED:
            self.spellings = (spelled,) if spelled[::-1] == spelled else (spelled, spelled[::-1])
        key = rhyme_key(joined)
        usable = len(folded) == 1 and joined.isalpha() and len(joined) >= _MIN_RHYME_LETTERS
        self.rhyme = key if usable and len(key) >= _MIN_RHYME_KEY else ""
        self.rime = rime(joined) if self.rhyme else ""


class _Spell:
    """Partial spelling: the next character expected, where it started, the last token used."""

    __slots__ = ("last", "nxt", "start")

    def __init__(self, nxt: int, start: int, last: int) -> None:
        self.nxt = nxt
        self.start = start
        self.last = last


class SecretScanner:
    """Per-stream token matching of a request's secrets; see the module docstring."""

    __slots__ = (
        "_action",
        "_fired",
        "_index",
        "_last_end",
        "_max_gap",
        "_max_span",
        "_phrase_states",
        "_pos",
        "_prev",
        "_rhyming",
        "_scatter_seen",
        "_specs",
        "_spell_states",
        "_starts",
        "_window",
    )

    def __init__(
        self, specs: tuple[SecretSpec, ...], action: HitAction, max_gap: int, window: int, max_span: int
    ) -> None:
        self._specs = specs
        self._action: HitAction = action
        self._max_gap = max_gap
        self._window = window
        self._max_span = max_span
        self._pos = 0
        self._index = 0
        self._last_end = 0
        self._fired = False
        self._phrase_states: list[tuple[int, int, int, int, int]] = []  # spec, form, next, start, last
        self._spell_states: list[list[list[_Spell]]] = [[[] for _ in s.spellings] for s in specs]
        self._scatter_seen: list[dict[str, tuple[int, int]]] = [{} for _ in specs]  # stem -> (index, start)
        self._prev: tuple[str, int] | None = None  # previous token (folded) and its start, for rhymes
        self._rhyming = any(spec.rhyme for spec in specs)
        # First element of every phrase form, by exact key and by stem: one lookup per token.
        self._starts: tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]] = ({}, {})
        for spec_id, spec in enumerate(specs):
            for form_id, form in enumerate(spec.phrases):
                self._starts[0 if form[0].exact else 1].setdefault(form[0].key, []).append((spec_id, form_id))

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        """See ``DetectorScanner.scan``."""
        end = base + len(buf)
        if self._fired:
            return [], end
        for m in WORD_RE.finditer(buf, self._pos - base):
            if not final and m.end() == len(buf) and m.end() - m.start() < WORD_CAP:
                self._pos = base + m.start()
                return [], self._frontier()
            after_apostrophe = m.start() > 0 and buf[m.start() - 1] in _APOSTROPHES
            hit = self._token(m.group().casefold(), base + m.start(), base + m.end(), after_apostrophe)
            self._pos = base + m.end()
            if hit is not None:
                self._fired = True
                return [hit], end
        self._pos = end
        return [], self._frontier()

    def _frontier(self) -> int:
        low = self._pos
        index = self._index
        for _, _, _, start, last in self._phrase_states:
            if index - 1 - last <= self._max_gap:
                low = min(low, start)
        for per_spec in self._spell_states:
            for states in per_spec:
                for state in states:
                    if index - 1 - state.last <= SPELL_GAP:
                        low = min(low, state.start)
        for seen in self._scatter_seen:
            for seen_index, start in seen.values():
                if index - 1 - seen_index < self._window:
                    low = min(low, start)
        if self._rhyming and self._prev is not None:
            low = min(low, self._prev[1])
        return min(self._pos, max(low, self._last_end - self._max_span))

    def _fire(self, spec: SecretSpec, start: int, end: int) -> Hit:
        return Hit(max(start, end - self._max_span), end, "leak", spec.entity, self._action, "<REDACTED>")

    def _token(self, folded: str, start: int, end: int, after_apostrophe: bool) -> Hit | None:
        index = self._index
        self._index += 1
        self._last_end = end
        hit = self._phrase(folded, index, start, end)
        # Most tokens are ordinary words: neither a spelled character nor a secret's word.
        spelled = len(folded) == 1 or folded in SPELLING or folded.isdigit()
        key = folded[:STEM]
        for i, spec in enumerate(self._specs):
            if hit is not None:
                break
            if key in spec.scatter:
                hit = self._scatter(i, spec, key, index, start, end)
            if hit is None and spelled and spec.spellings:
                hit = self._spell(i, spec, folded, index, start, end, after_apostrophe)
            if hit is None and spec.rhyme:
                hit = self._rhyme(spec, folded, start, end)
        self._prev = (folded, start)
        return hit

    def _phrase(self, folded: str, index: int, start: int, end: int) -> Hit | None:
        states: list[tuple[int, int, int, int, int]] = []
        for spec_id, form_id, nxt, first, last in self._phrase_states:
            if index - last > self._max_gap + 1:
                continue
            spec = self._specs[spec_id]
            form = spec.phrases[form_id]
            if form[nxt].matches(folded):
                if nxt + 1 == len(form):
                    return self._fire(spec, first, end)
                states.append((spec_id, form_id, nxt + 1, first, index))
            else:
                states.append((spec_id, form_id, nxt, first, last))
        exact, stemmed = self._starts
        for spec_id, form_id in exact.get(folded, []) + stemmed.get(folded[:STEM], []):
            spec = self._specs[spec_id]
            if len(spec.phrases[form_id]) == 1:
                return self._fire(spec, start, end)
            states.append((spec_id, form_id, 1, start, index))
        self._phrase_states = states
        return None

    def _scatter(self, i: int, spec: SecretSpec, key: str, index: int, start: int, end: int) -> Hit | None:
        seen = self._scatter_seen[i]
        seen[key] = (index, start)
        live = [s for k, (at, s) in seen.items() if index - at < self._window]
        if len(live) == len(spec.scatter):
            return self._fire(spec, min(live), end)
        for k in [k for k, (at, _) in seen.items() if index - at >= self._window]:
            del seen[k]
        return None

    def _spell(
        self, i: int, spec: SecretSpec, folded: str, index: int, start: int, end: int, after_apostrophe: bool
    ) -> Hit | None:
        if len(folded) == 1:
            symbol, article = ("", False) if after_apostrophe else (folded, folded in _ARTICLES)
        else:
            symbol, article = SPELLING.get(folded, ""), False
            if not symbol and spec.digits and folded.isdigit():
                symbol = folded  # a run of digits spells several characters at once
        if not symbol or (not spec.digits and symbol.isdigit()):
            return None  # not a spelled character: it only counts towards the gap
        for seq, states in zip(spec.spellings, self._spell_states[i], strict=True):
            kept: list[_Spell] = []
            for state in states:
                if index - state.last > SPELL_GAP + 1:
                    continue
                if seq.startswith(symbol, state.nxt):
                    state.nxt += len(symbol)
                    state.last = index
                    if state.nxt == len(seq):
                        return self._fire(spec, state.start, end)
                    kept.append(state)
                elif article:
                    kept.append(state)
            if seq.startswith(symbol) and len(symbol) < len(seq):
                kept.append(_Spell(len(symbol), start, index))
            # Two partial spellings expecting the same character: only the later one can do better.
            by_next: dict[int, _Spell] = {}
            for state in kept:
                by_next[state.nxt] = state
            states[:] = list(by_next.values())
        return None

    def _rhyme(self, spec: SecretSpec, folded: str, start: int, end: int) -> Hit | None:
        if folded.isalpha() and rhyme_key(folded) == spec.rhyme and rhymes(folded, spec.rime):
            return self._fire(spec, start, end)
        if self._prev is not None:
            joined = self._prev[0] + folded
            if joined.isalpha() and rhyme_key(joined) == spec.rhyme and rhymes(joined, spec.rime):
                return self._fire(spec, self._prev[1], end)
        return None
