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
_IS_WORD = (~_IS_SPACE).astype(np.int8)  # 1 where a code point belongs to a word
_IS_WORD.setflags(write=False)
_SEEDS = {
    3: 0x9E3779B97F4A7C15,
    4: 0xC2B2AE3D27D4EB4F,
    5: 0x165667B19E3779F9,
    1: 0x27D4EB2F165667C5,
    2: 0x85EBCA77C2B2AE63,
}
_NS = (3, 4, 5)


def _const(value: int) -> npt.NDArray[np.uint64]:
    # a read-only 0-d array: cheaper as a ufunc operand than a numpy scalar built per call
    out = np.array(value, dtype=np.uint64)
    out.setflags(write=False)
    return out


_SEED = {n: _const(seed) for n, seed in _SEEDS.items()}
_M1 = _const(0xBF58476D1CE4E5B9)
_M2 = _const(0x94D049BB133111EB)
_MIX_STEPS = ((_const(30), _M1), (_const(27), _M2), (_const(31), None))

_SENTENCE = re.compile(r"[^\n.!?]+[.!?]*")
_MIN_SEGMENT = 16

U32 = npt.NDArray[np.uint32]


def _prefix_sums(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """``[0, v0, v0 + v1, ...]`` in float64: ``cumsum`` (which is ``add.accumulate``) with a 0 in front."""
    out = np.zeros(values.shape[0] + 1)
    np.add.accumulate(values, dtype=np.float64, out=out[1:])
    return out


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
            cs = _prefix_sums(weights[grams])
            end = np.clip(np.maximum(begin, stop - n + 1), 0, grams.shape[0])
            first = np.minimum(begin, end)
            total += cs[end] - cs[first]
            count += end - first
        if self.words.shape[0]:
            cs = _prefix_sums(weights[self.words])
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


# (P**k, P**-k) for k below the table size: a prefix of a longer table is the shorter table, so
# the tables only ever grow (by doubling) and are shared read-only by every call and thread;
# replacing the one tuple is atomic, so a reader always sees two tables of the same size.
_TABLES: list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]] = []  # one entry, once built


def _power_tables(count: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Return read-only ``(P**k, P**-k)`` tables with at least ``count`` entries."""
    tables = _TABLES[0] if _TABLES else None
    if tables is None or tables[0].shape[0] < count:
        size = max(1024, 2 * tables[0].shape[0] if tables is not None else 0)
        while size < count:
            size *= 2
        with np.errstate(over="ignore"):
            forward, inverse = _powers(_P, size), _powers(_P_INV, size)
        forward.setflags(write=False)
        inverse.setflags(write=False)
        tables = (forward, inverse)
        _TABLES[:] = [tables]
    return tables


def positional(text: str, bits: int = DEFAULT_BITS) -> Positional:
    """Hash ``text`` once; see ``Positional``.

    Every n-gram and every word is hashed from one prefix sum: with ``P`` odd (so invertible
    modulo 2**64), ``S[i] = sum(c[j] * P**-j, j < i)`` and the polynomial hash of ``text[a:b]``
    is ``P**(b-1) * (S[b] - S[a])``, all in wrapping uint64 numpy arithmetic, with no Python
    loop over characters or words.

    This runs on every request, so it is written for few numpy calls: the power tables are
    cached (``_power_tables``), every family's raw hash is written in place into one buffer
    (word unigrams and bigrams already interleaved), and the finaliser runs once, in place.
    """
    codes32 = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    codes = codes32.astype(np.uint64)
    length = codes.shape[0]
    power, inverse = _power_tables(length + 1)
    # word starts and stops: the edges of the runs of non-space code points
    word = np.zeros(length + 2, dtype=np.int8)
    word[1 : length + 1] = _IS_WORD[np.minimum(codes32, 0x3001)]
    edges = (word[1:] != word[:-1]).nonzero()[0]
    begin, stop = edges[0::2], edges[1::2]
    count = begin.shape[0]
    grams = [max(0, length - n + 1) for n in _NS]
    ends = list(itertools.accumulate(grams))
    size = ends[-1] + 2 * count - (1 if count else 0)
    buffer = np.empty(size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        prefix = np.zeros(length + 1, dtype=np.uint64)
        np.add.accumulate(np.multiply(codes, inverse[:length]), dtype=np.uint64, out=prefix[1:])  # cumsum
        at = 0
        for n, width in zip(_NS, grams, strict=True):
            if width:
                out = buffer[at : at + width]
                np.subtract(prefix[n:], prefix[:width], out=out)
                np.multiply(power[n - 1 : length], out, out=out)
                np.add(out, _SEED[n], out=out)
            at += width
        if count:
            at_edges = prefix[edges]  # S[begin_i], S[stop_i] interleaved
            wh = power[stop - 1] * (at_edges[1::2] - at_edges[0::2])
            # unigram i at 2i, the bigram of words i and i+1 at 2i+1: ``starts`` stays sorted
            np.bitwise_xor(wh, _SEED[1], out=buffer[at::2])
            pairs = buffer[at + 1 :: 2]
            np.multiply(wh[:-1], _M1, out=pairs)
            np.add(pairs, wh[1:], out=pairs)
            np.bitwise_xor(pairs, _SEED[2], out=pairs)
        mixed = _mix_in_place(buffer, bits)
    g3, g4, g5 = mixed[: ends[0]], mixed[ends[0] : ends[1]], mixed[ends[1] : ends[2]]
    # a bigram is attributed to its first word's position
    starts = np.empty(size - ends[-1], dtype=np.int64)
    starts[0::2] = begin
    starts[1::2] = begin[:-1]
    return Positional((g3, g4, g5), mixed[ends[2] :], starts)


def _mix_in_place(h: npt.NDArray[np.uint64], bits: int) -> U32:
    """``_mix`` overwriting ``h`` (fewer temporaries; the same values)."""
    scratch = np.empty_like(h)
    for shift, factor in _MIX_STEPS:
        np.right_shift(h, shift, out=scratch)
        np.bitwise_xor(h, scratch, out=h)
        if factor is not None:
            np.multiply(h, factor, out=h)
    out = np.empty(h.shape[0], dtype=np.uint32)
    # the same truncation as ``astype(np.uint32)``, without the uint64 intermediate
    np.right_shift(h, np.uint64(64 - bits), out=out, casting="unsafe")
    return out


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
