"""Hashed n-gram features of a normalised text, for the whole text and for its parts.

Features, computed on the *normalised* text (``guards.text.normalize``):

* character 3-, 4- and 5-grams, hashed with a vectorised polynomial hash (no Python loop per
  character or word, which keeps a 2,000-character text near 0.1 ms);
* word unigrams and bigrams (whitespace-separated words, hashed the same way).

Each n-gram family is hashed with its own seed into ``2**bits`` buckets. Features are *counts*
(an n-gram that occurs twice counts twice). The text is hashed once (``Positional``); the
features of any span (a window, a sentence) are slices of those arrays, and a linear score of
many spans costs one gather and one cumulative sum per family (``span_sums``), not a pass per span.

Parts. ``windows`` are half-overlapping fixed-size windows (the direct head: a long prompt
must not dilute its attack paragraph). ``segments`` are sentences and lines, each alone and
joined with its successor (the indirect head: an injected instruction is one or two short
sentences inside otherwise ordinary content).
"""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_BITS", "U32", "Positional", "feature_indices", "positional", "segment_spans", "window_spans"]

DEFAULT_BITS = 18
_P = np.uint64(0x100000001B3)
_P_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
# the code points ``str.isspace`` (and so ``\\s``) accepts: words are the runs between them
_SPACES = (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029)
_SPACES += (0x202F, 0x205F, 0x3000)
_IS_SPACE = np.zeros(0x3002, dtype=np.bool_)  # code points above U+3000 are never spaces (last slot)
_IS_SPACE[list(_SPACES)] = True
_IS_SPACE.setflags(write=False)
_SEEDS = {
    3: 0x9E3779B97F4A7C15,
    4: 0xC2B2AE3D27D4EB4F,
    5: 0x165667B19E3779F9,
    1: 0x27D4EB2F165667C5,
    2: 0x85EBCA77C2B2AE63,
}
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_NS = (3, 4, 5)

_SENTENCE = re.compile(r"[^\n.!?]+[.!?]*")
_MIN_SEGMENT = 16

U32 = npt.NDArray[np.uint32]


def _mix(h: npt.NDArray[np.uint64], bits: int) -> U32:
    # splitmix64 finaliser: spreads the polynomial hash so the top bits are usable as a bucket
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    h = h ^ (h >> np.uint64(31))
    return (h >> np.uint64(64 - bits)).astype(np.uint32)


class Positional(NamedTuple):
    """Per-position hashes of one text: slice them to get the features of any span."""

    grams: tuple[U32, U32, U32]
    """Bucket of the char 3-, 4- and 5-gram starting at each position."""
    words: U32
    """Word unigram buckets followed by bigram buckets."""
    starts: npt.NDArray[np.int64]
    """Start offset of the (first) word of each entry of ``words``."""

    def span(self, begin: int, stop: int) -> U32:
        """Return the buckets (with repeats) of the n-grams that lie in ``text[begin:stop]``."""
        parts = [g[begin : max(begin, stop - n + 1)] for g, n in zip(self.grams, _NS, strict=True)]
        if self.words.shape[0]:
            lo, hi = np.searchsorted(self.starts, (begin, stop))
            parts.append(self.words[lo:hi])
        return np.concatenate(parts)

    def whole(self) -> U32:
        """Return the buckets (with repeats) of the whole text."""
        return np.concatenate([*self.grams, self.words])

    def span_sums(
        self, weights: npt.NDArray[np.float32], spans: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Return, for each ``(begin, stop)`` row of ``spans``, the summed weights and the feature count.

        Equal to ``weights[self.span(begin, stop)].sum()`` and ``len(self.span(begin, stop))``.
        """
        begin, stop = spans[:, 0], spans[:, 1]
        total = np.zeros(spans.shape[0])
        count = np.zeros(spans.shape[0], dtype=np.int64)
        for grams, n in zip(self.grams, _NS, strict=True):
            cs = np.concatenate([[0.0], np.cumsum(weights[grams], dtype=np.float64)])
            end = np.clip(np.maximum(begin, stop - n + 1), 0, grams.shape[0])
            first = np.minimum(begin, end)
            total += cs[end] - cs[first]
            count += end - first
        if self.words.shape[0]:
            cs = np.concatenate([[0.0], np.cumsum(weights[self.words], dtype=np.float64)])
            lo = np.searchsorted(self.starts, begin)
            hi = np.searchsorted(self.starts, stop)
            total += cs[hi] - cs[lo]
            count += hi - lo
        return total, count


def _powers(base: np.uint64, count: int) -> npt.NDArray[np.uint64]:
    """``base ** k`` for ``k < count``, modulo 2**64."""
    out = np.full(count, base, dtype=np.uint64)
    if count:
        out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


def positional(text: str, bits: int = DEFAULT_BITS) -> Positional:
    """Hash ``text`` once; see ``Positional``.

    Every n-gram and every word is hashed from one prefix sum: with ``P`` odd (so invertible
    modulo 2**64), ``S[i] = sum(c[j] * P**-j, j < i)`` and the polynomial hash of ``text[a:b]``
    is ``P**(b-1) * (S[b] - S[a])``, all in wrapping uint64 numpy arithmetic, with no Python
    loop over characters or words.
    """
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    length = codes.shape[0]
    with np.errstate(over="ignore"):
        power = _powers(_P, length + 1)
        prefix = np.zeros(length + 1, dtype=np.uint64)
        np.cumsum(codes * _powers(_P_INV, length), dtype=np.uint64, out=prefix[1:])
        raw = [
            power[n - 1 : length] * (prefix[n:] - prefix[: length - n + 1]) + np.uint64(_SEEDS[n])
            for n in _NS
            if length >= n
        ]
        word = ~_IS_SPACE[np.minimum(codes, np.uint64(0x3001))]
        edges = np.flatnonzero(np.diff(np.concatenate([[False], word, [False]]).astype(np.int8)))
        begin, stop = edges[0::2], edges[1::2]
        wh = power[stop - 1] * (prefix[stop] - prefix[begin])
        raw.append(wh ^ np.uint64(_SEEDS[1]))
        raw.append((wh[:-1] * _M1 + wh[1:]) ^ np.uint64(_SEEDS[2]))
        # one finaliser pass over every family at once, then split back
        mixed = _mix(np.concatenate(raw), bits)
    sizes = [max(0, length - n + 1) for n in _NS] + [wh.shape[0], max(0, wh.shape[0] - 1)]
    g3, g4, g5, uni, pairs = np.split(mixed, np.cumsum(sizes)[:-1])
    # a bigram is attributed to its first word's position: interleave so starts stay sorted
    words = np.empty(uni.shape[0] + pairs.shape[0], dtype=np.uint32)
    words[0::2] = uni
    words[1::2] = pairs
    starts = np.repeat(begin.astype(np.int64), 2)[: words.shape[0]]
    return Positional((g3, g4, g5), words, starts)


def feature_indices(text: str, bits: int = DEFAULT_BITS) -> U32:
    """Return the feature buckets (with repeats) of a (normalised) text (empty for empty text)."""
    return positional(text, bits).whole()


def window_spans(length: int, window: int) -> list[tuple[int, int]]:
    """Return half-overlapping ``window``-sized spans covering a text longer than ``window``."""
    if length <= window:
        return []
    step = window // 2
    return [(begin, begin + window) for begin in range(0, length - step, step)]


def segment_spans(text: str, max_len: int) -> list[tuple[int, int]]:
    """Return sentence / line spans, each alone and joined with the next one.

    Fragments shorter than 16 characters (a greeting, a list bullet) are merged into the next
    sentence; a sentence longer than ``max_len`` is cut into half-overlapping windows.
    """
    sentences: list[tuple[int, int]] = []
    begin: int | None = None
    for match in _SENTENCE.finditer(text):
        start, stop = match.span()
        if begin is None:
            begin = start
        if stop - begin >= _MIN_SEGMENT:
            sentences.append((begin, stop))
            begin = None
    if begin is not None:
        if sentences and len(text) - begin < _MIN_SEGMENT:
            sentences[-1] = (sentences[-1][0], len(text))
        else:
            sentences.append((begin, len(text)))
    spans: list[tuple[int, int]] = []
    for start, stop in sentences:
        if stop - start > max_len:
            spans.extend((start + a, start + b) for a, b in window_spans(stop - start, max_len))
        else:
            spans.append((start, stop))
    pairs = [
        (first[0], second[1]) for first, second in itertools.pairwise(sentences) if second[1] - first[0] <= max_len
    ]
    return spans + pairs
