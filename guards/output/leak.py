"""System-prompt leak: canary tokens and word n-gram overlap with the request's system prompt.

* **Canaries**: the gateway plants random tokens in the system prompt; any of them in the output
  proves a leak. Matched on letters and digits only, case-insensitively, with up to 3
  non-alphanumeric characters between any two (``C A N-A R Y`` still counts), and also
  reversed or rot13-encoded. Canaries shorter than 6 letters/digits are ignored (too weak).
* **Overlap**: the output's words are tokenized incrementally (runs of letters/digits, case-folded,
  truncated to 6 characters: a light stemmer, so ``instruction``/``instructions`` match). Each
  output n-gram found among the system prompt's informative n-grams (not only stopwords) counts
  once; the detector fires when the echoed n-grams reach ``threshold`` of the prompt's (and at
  least ``min_ngrams``). Echoed n-grams within ``max_gap`` words form a run, withheld from the
  client while it grows (up to ``max_span`` characters), so a verbatim leak is stopped before it
  is shown. A system prompt with fewer than ``ngram`` words (an access code, a password) is a
  *phrase*: its words in order with at most ``max_gap`` words between them, or the words run
  together, or rot13-encoded, anywhere in the output.

Both are chunk-independent: tokens are decided only when the character after them is known (or
they reach the 64-character cap), and every hit's start is bounded below by the frontier reported
before it.
"""

from __future__ import annotations

import codecs
import math
from collections import deque
from typing import TYPE_CHECKING

from guards.output.base import Hit
from guards.output.rx import IGNORECASE, Match, PatternScanner, compile_pattern

if TYPE_CHECKING:
    from guards.output.base import DetectorScanner, HitAction, StreamContext
    from guards.output.rx import Pattern
    from schemas.output_guard_config import LeakConfig

__all__ = ["LeakDetector", "OverlapScanner", "canary_pattern", "word_key"]

_WORD_CAP = 64
_STEM = 6
_MIN_CANARY = 6
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
    ]
)


def word_key(token: str) -> str:
    """Case-folded token truncated to the stem length (a light, language-agnostic stemmer)."""
    return token.casefold()[:_STEM]


def canary_pattern(canaries: tuple[str, ...]) -> tuple[Pattern, Pattern] | None:
    """One pattern (and its starter) for all canaries and their reversed / rot13 forms.

    Returns:
        ``(pattern, starter)``, or ``None`` when no canary is long enough to be usable.
    """
    forms: set[str] = set()
    for canary in canaries:
        core = "".join(c for c in canary.casefold() if c.isalnum())
        if len(core) >= _MIN_CANARY:
            forms.update((core, core[::-1], codecs.encode(core, "rot13")))
    if not forms:
        return None
    sep = r"[\W_]{0,3}"
    # Forms hold letters and digits only, so nothing needs escaping.
    alts = sorted((sep.join(form) for form in forms), key=lambda s: (-len(s), s))
    firsts = "".join(sorted({form[0] for form in forms}))
    return compile_pattern("(?:" + "|".join(alts) + ")", IGNORECASE), compile_pattern(f"[{firsts}]", IGNORECASE)


class _CanaryRule:
    __slots__ = ("action", "entity", "pattern", "starter", "tail")

    def __init__(self, pattern: Pattern, starter: Pattern, action: HitAction, entity: str) -> None:
        self.pattern = pattern
        self.starter = starter
        self.tail = 1
        self.action: HitAction = action
        self.entity = entity

    def judge(self, m: Match, base: int) -> Hit | None:
        return Hit(base + m.start(), base + m.end(), "leak", self.entity, self.action, "<REDACTED>")


class _Element:
    """One word of a phrase: matches a token by stem, or exactly (for run-together forms)."""

    __slots__ = ("exact", "key")

    def __init__(self, key: str, exact: bool) -> None:
        self.key = key
        self.exact = exact

    def matches(self, folded: str) -> bool:
        return folded == self.key if self.exact else folded[:_STEM] == self.key


class _Prompt:
    """A system prompt analysed once per request: its n-grams, or its phrase forms."""

    __slots__ = ("grams", "need", "phrases", "prefixes")

    def __init__(self, text: str, n: int, threshold: float, min_ngrams: int) -> None:
        words = [w.casefold() for w in _words(text)]
        self.grams: dict[tuple[str, ...], int] = {}
        self.prefixes: set[tuple[str, ...]] = set()
        self.phrases: tuple[tuple[_Element, ...], ...] = ()
        self.need = 0
        if len(words) >= n:
            for i in range(len(words) - n + 1):
                gram = tuple(w[:_STEM] for w in words[i : i + n])
                if gram not in self.grams and not all(w in _STOPWORDS for w in words[i : i + n]):
                    self.grams[gram] = len(self.grams)
            self.prefixes = {gram[:k] for gram in self.grams for k in range(1, n)}
            total = len(self.grams)
            self.need = min(total, max(min_ngrams, math.ceil(threshold * total)))
        elif words:
            forms = [tuple(_Element(w[:_STEM], exact=False) for w in words)]
            rot = [codecs.encode(w, "rot13") for w in words]
            if rot != words:
                forms.append(tuple(_Element(w[:_STEM], exact=False) for w in rot))
            if len(words) > 1:
                forms.append((_Element("".join(words), exact=True),))
            self.phrases = tuple(forms)


def _words(text: str) -> list[str]:
    return [m.group() for m in _WORD_RE.finditer(text)]


_WORD_RE = compile_pattern(r"[^\W_]{1," + str(_WORD_CAP) + "}")


class OverlapScanner:
    """Per-stream overlap/phrase state; see the module docstring."""

    __slots__ = (
        "_action",
        "_fired",
        "_index",
        "_last_end",
        "_last_match",
        "_matched",
        "_max_gap",
        "_max_span",
        "_n",
        "_pos",
        "_prompt",
        "_run_start",
        "_states",
        "_window",
    )

    def __init__(self, prompt: _Prompt, config: LeakConfig) -> None:
        self._prompt = prompt
        self._action: HitAction = config.action
        self._n = config.ngram
        self._max_gap = config.max_gap
        self._max_span = config.max_span
        self._pos = 0
        self._index = 0
        self._last_end = 0
        self._window: deque[tuple[str, int]] = deque(maxlen=config.ngram)
        self._matched: set[int] = set()
        self._last_match = -(10**9)
        self._run_start = 0
        self._states: list[tuple[int, int, int, int]] = []  # (form, next element, start, last index)
        self._fired = False

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        """See ``DetectorScanner.scan``."""
        end = base + len(buf)
        if self._fired:
            return [], end
        for m in _WORD_RE.finditer(buf, self._pos - base):
            if not final and m.end() == len(buf) and m.end() - m.start() < _WORD_CAP:
                self._pos = base + m.start()
                return [], self._frontier()
            hit = self._token(m.group().casefold(), base + m.start(), base + m.end())
            self._pos = base + m.end()
            if hit is not None:
                self._fired = True
                return [hit], end
        self._pos = end
        return [], self._frontier()

    def _frontier(self) -> int:
        if self._prompt.phrases:
            low = min((s[2] for s in self._states if self._index - 1 - s[3] <= self._max_gap), default=self._pos)
        else:
            # A future n-gram can include the last n-1 tokens, but only the ones that begin a
            # prefix of some prompt n-gram can start its run: hold back from the oldest such.
            low = self._pos
            tail = list(self._window)[-(self._n - 1) :] if self._n > 1 else []
            for k in range(len(tail), 0, -1):
                if tuple(key for key, _ in tail[-k:]) in self._prompt.prefixes:
                    low = tail[-k][1]
                    break
            if self._index - 1 - self._last_match <= self._max_gap:
                low = min(low, self._run_start)
        return min(self._pos, max(low, self._last_end - self._max_span))

    def _fire(self, start: int, end: int) -> Hit:
        return Hit(max(start, end - self._max_span), end, "leak", "system_prompt", self._action, "<REDACTED>")

    def _token(self, folded: str, start: int, end: int) -> Hit | None:
        index = self._index
        self._index += 1
        self._last_end = end
        self._window.append((folded[:_STEM], start))
        if self._prompt.phrases:
            return self._phrase_step(folded, index, start, end)
        if len(self._window) < self._n:
            return None
        gram_id = self._prompt.grams.get(tuple(k for k, _ in self._window))
        if gram_id is None:
            return None
        if index - self._last_match > self._max_gap + 1:
            self._run_start = self._window[0][1]
        self._last_match = index
        self._matched.add(gram_id)
        if len(self._matched) >= self._prompt.need:
            return self._fire(self._run_start, end)
        return None

    def _phrase_step(self, folded: str, index: int, start: int, end: int) -> Hit | None:
        states: list[tuple[int, int, int, int]] = []
        for form_id, nxt, first, last in self._states:
            if index - last > self._max_gap + 1:
                continue
            if self._prompt.phrases[form_id][nxt].matches(folded):
                if nxt + 1 == len(self._prompt.phrases[form_id]):
                    return self._fire(first, end)
                states.append((form_id, nxt + 1, first, index))
            else:
                states.append((form_id, nxt, first, last))
        for form_id, form in enumerate(self._prompt.phrases):
            if form[0].matches(folded):
                if len(form) == 1:
                    return self._fire(start, end)
                states.append((form_id, 1, start, index))
        self._states = states
        return None


class _Both:
    """Canary and overlap scanners side by side."""

    __slots__ = ("_parts",)

    def __init__(self, parts: tuple[DetectorScanner, ...]) -> None:
        self._parts = parts

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        hits: list[Hit] = []
        frontier = base + len(buf)
        for part in self._parts:
            found, edge = part.scan(buf, base, final)
            hits.extend(found)
            frontier = min(frontier, edge)
        return hits, frontier


class LeakDetector:
    """Immutable leak detector built from ``LeakConfig``; the prompt and canaries come per request."""

    __slots__ = ("_config",)

    def __init__(self, config: LeakConfig) -> None:
        self._config = config

    def new_scanner(self, ctx: StreamContext) -> DetectorScanner | None:
        """Scanners for this request's canaries and system prompt; ``None`` if it has neither."""
        parts: list[DetectorScanner] = []
        if self._config.canary and ctx.canaries:
            compiled = canary_pattern(ctx.canaries)
            if compiled is not None:
                parts.append(PatternScanner((_CanaryRule(*compiled, self._config.action, "canary"),)))
        if ctx.system_prompt:
            cfg = self._config
            prompt = _Prompt(ctx.system_prompt, cfg.ngram, cfg.threshold, cfg.min_ngrams)
            if prompt.grams or prompt.phrases:
                parts.append(OverlapScanner(prompt, cfg))
            if prompt.phrases:
                # A short secret spelled out (``z e i t g e i s t``, ``L-A-B-Y``) is caught like a canary.
                spelled = canary_pattern(("".join(_words(ctx.system_prompt)),))
                if spelled is not None:
                    parts.append(PatternScanner((_CanaryRule(*spelled, self._config.action, "system_prompt"),)))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _Both(tuple(parts))
