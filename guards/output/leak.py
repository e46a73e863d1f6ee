"""System-prompt leak: canaries and secrets in any disguise, and word n-gram overlap with the prompt.

Two families of evidence, both per request (``StreamContext``):

* **Secrets** (``guards.output.leak_forms`` finds them, ``leak_tokens`` and one regex match them):
  the canary tokens the gateway plants; a system prompt of at most ``_PHRASE_WORDS`` words (or
  fewer than ``ngram``), which is then itself a secret (an access code); and, when
  ``secret_values`` is on, the values a longer prompt introduces as a password, code, PIN, key or
  token. Any of them in the output is a leak, verbatim or disguised: spaced, punctuated, leetspeak,
  reversed, rot13, hex or base64, spelled letter by letter (also in NATO words), scattered (every
  word of a multi-word secret within ``window`` words) or rhymed; and (``guards.output.leak_symbols``)
  a secret of emoji or other symbols, in order, or any secret as the first letters of lines.
* **Overlap** (``OverlapScanner``): the output's words are tokenized incrementally (case-folded,
  truncated to 6 characters: a light stemmer, so ``instruction``/``instructions`` match). Each
  output n-gram found among the system prompt's informative n-grams (not only stopwords) counts
  once; the detector fires when the echoed n-grams reach ``threshold`` of the prompt's (and at
  least ``min_ngrams``). Echoed n-grams within ``max_gap`` words form a run, withheld from the
  client while it grows (up to ``max_span`` characters), so a verbatim leak is stopped before it
  is shown.

All scanners are chunk-independent: tokens are decided only when the character after them is
known (or they reach the 64-character cap), and every hit's start is bounded below by the
frontier reported before it.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

from guards.output.base import Hit
from guards.output.leak_forms import (
    MIN_SPACED,
    STEM,
    STOPWORDS,
    WORD_CAP,
    WORD_RE,
    core,
    extract_secrets,
    secret_pattern,
    words,
)
from guards.output.leak_symbols import SymbolScanner, acrostic_secret, symbol_secret
from guards.output.leak_tokens import SecretScanner, SecretSpec
from guards.output.rx import Match, PatternScanner

if TYPE_CHECKING:
    from guards.output.base import DetectorScanner, HitAction, StreamContext
    from guards.output.rx import Pattern
    from schemas.output_guard_config import LeakConfig

__all__ = ["LeakDetector", "OverlapScanner"]

_PHRASE_WORDS = 4
"""A system prompt of at most this many words is a secret itself (an access code, a password)."""


class _SecretRule:
    __slots__ = ("action", "entity", "pattern", "starter", "tail")

    def __init__(self, pattern: Pattern, starter: Pattern, action: HitAction, entity: str) -> None:
        self.pattern = pattern
        self.starter = starter
        self.tail = 1
        self.action: HitAction = action
        self.entity = entity

    def judge(self, m: Match, base: int) -> Hit | None:
        return Hit(base + m.start(), base + m.end(), "leak", self.entity, self.action, "<REDACTED>")


class _Prompt:
    """A long system prompt analysed once per request: its informative n-grams."""

    __slots__ = ("grams", "need", "prefixes")

    def __init__(self, folded: list[str], n: int, threshold: float, min_ngrams: int) -> None:
        self.grams: dict[tuple[str, ...], int] = {}
        for i in range(len(folded) - n + 1):
            gram = tuple(w[:STEM] for w in folded[i : i + n])
            if gram not in self.grams and not all(w in STOPWORDS for w in folded[i : i + n]):
                self.grams[gram] = len(self.grams)
        self.prefixes = {gram[:k] for gram in self.grams for k in range(1, n)}
        total = len(self.grams)
        self.need = min(total, max(min_ngrams, math.ceil(threshold * total)))


class OverlapScanner:
    """Per-stream n-gram overlap state; see the module docstring."""

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
        self._fired = False

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        """See ``DetectorScanner.scan``."""
        end = base + len(buf)
        if self._fired:
            return [], end
        for m in WORD_RE.finditer(buf, self._pos - base):
            if not final and m.end() == len(buf) and m.end() - m.start() < WORD_CAP:
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

    def _token(self, folded: str, start: int, end: int) -> Hit | None:
        index = self._index
        self._index += 1
        self._last_end = end
        self._window.append((folded[:STEM], start))
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
            start = max(self._run_start, end - self._max_span)
            return Hit(start, end, "leak", "system_prompt", self._action, "<REDACTED>")
        return None


class _Both:
    """Several scanners side by side: the union of their hits, the lowest frontier."""

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
        """Scanners for this request's canaries, secrets and system prompt; ``None`` if none apply."""
        cfg = self._config
        secrets: list[tuple[str, str]] = []  # (secret, entity)
        if cfg.canary:
            # A canary is random, so a short one would fire on ordinary words: too weak to use.
            secrets.extend((c, "canary") for c in ctx.canaries if len(core(c)) >= MIN_SPACED)
        parts: list[DetectorScanner] = []
        if ctx.system_prompt:
            folded = [w.casefold() for w in words(ctx.system_prompt)]
            if len(folded) <= _PHRASE_WORDS or len(folded) < cfg.ngram:
                if folded or symbol_secret(ctx.system_prompt):
                    secrets.append((ctx.system_prompt, "system_prompt"))
            else:
                prompt = _Prompt(folded, cfg.ngram, cfg.threshold, cfg.min_ngrams)
                if prompt.grams:
                    parts.append(OverlapScanner(prompt, cfg))
                if cfg.secret_values:
                    secrets.extend((v, "system_prompt") for v in extract_secrets(ctx.system_prompt))
        parts.extend(self._secret_scanners(secrets))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _Both(tuple(parts))

    def _secret_scanners(self, secrets: list[tuple[str, str]]) -> list[DetectorScanner]:
        cfg = self._config
        parts: list[DetectorScanner] = []
        rules: list[_SecretRule] = []
        for entity in ("canary", "system_prompt"):
            compiled = secret_pattern(tuple(s for s, e in secrets if e == entity))
            if compiled is not None:
                rules.append(_SecretRule(*compiled, cfg.action, entity))
        if rules:
            parts.append(PatternScanner(tuple(rules)))
        specs = tuple(spec for s, e in secrets if (spec := SecretSpec(s, e)).phrases)
        if specs:
            parts.append(SecretScanner(specs, cfg.action, cfg.max_gap, cfg.window, cfg.max_span))
        symbols = tuple((seq, e) for s, e in secrets if (seq := symbol_secret(s)))
        # A canary is too long and too random for anyone to write a poem about it.
        acrostics = tuple((seq, e) for s, e in secrets if e != "canary" and (seq := acrostic_secret(s)))
        if symbols or acrostics:
            parts.append(SymbolScanner(symbols, acrostics, cfg.action, cfg.max_span))
        return parts
