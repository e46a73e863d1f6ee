"""A small trained injection classifier: hashed n-gram features + logistic regression, in numpy.

Features, computed on the *normalised* text (``guards.text.normalize``):

* character 3-, 4- and 5-grams, hashed with a vectorised polynomial hash (no Python loop per
  character, which is what keeps a 2,000-character text well under a millisecond);
* word unigrams and bigrams (CRC-32 of each word, combined in numpy).

Each n-gram family is hashed with its own seed into ``2**bits`` buckets; the feature vector is
the set of buckets present, L2-normalised (so a long text does not score higher merely for
being long). The logit is ``bias + sum(w[buckets]) / sqrt(len(buckets))``.

Long texts are also scored window by window (``window`` characters, half-overlapping) and
the highest logit wins: an injection hidden in the middle of a long retrieved document must
not be diluted by the benign text around it.

The weights are trained by ``scripts/train_injection.py`` on permissively licensed data only
and ship as ``weights.npz`` next to this module (about 1 MB). ``threshold_logit`` is the
logit at which the trained model's tuned operating point lies; ``score`` maps it to 0.5, so
the screen's noisy-OR combination treats 0.5 as "the classifier on its own says attack".
"""

from __future__ import annotations

import io
import math
import re
import zlib
from importlib import resources

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_BITS", "InjectionClassifier", "feature_indices", "window_feature_indices"]

DEFAULT_BITS = 18
_P = np.uint64(0x100000001B3)
_SEEDS = {
    3: 0x9E3779B97F4A7C15,
    4: 0xC2B2AE3D27D4EB4F,
    5: 0x165667B19E3779F9,
    1: 0x27D4EB2F165667C5,
    2: 0x85EBCA77C2B2AE63,
}
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)

_WORD_RE = re.compile(r"\S+")

U32 = npt.NDArray[np.uint32]


def _mix(h: npt.NDArray[np.uint64], bits: int) -> U32:
    # splitmix64 finaliser: spreads the polynomial hash so the top bits are usable as a bucket
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    h = h ^ (h >> np.uint64(31))
    return (h >> np.uint64(64 - bits)).astype(np.uint32)


def _positional_features(text: str, bits: int) -> tuple[list[U32], U32, npt.NDArray[np.int64]]:
    """Return per-position char n-gram buckets (n = 3, 4, 5), word buckets, and word start offsets."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    grams: list[U32] = []
    length = codes.shape[0]
    for n in (3, 4, 5):
        if length < n:
            grams.append(np.zeros(0, dtype=np.uint32))
            continue
        h = np.full(length - n + 1, np.uint64(_SEEDS[n]), dtype=np.uint64)
        for k in range(n):
            h = h * _P + codes[k : length - n + 1 + k]
        grams.append(_mix(h, bits))
    starts: list[int] = []
    hashes: list[int] = []
    for match in _WORD_RE.finditer(text):
        starts.append(match.start())
        hashes.append(zlib.crc32(match.group().encode()))
    words = np.zeros(0, dtype=np.uint32)
    if hashes:
        wh = np.array(hashes, dtype=np.uint64)
        uni = _mix(wh ^ np.uint64(_SEEDS[1]), bits)
        pairs = _mix(((wh[:-1] << np.uint64(32)) | wh[1:]) ^ np.uint64(_SEEDS[2]), bits)
        # a bigram is attributed to its first word's position
        words = np.concatenate([uni, pairs])
        starts = starts + starts[:-1]
    return grams, words, np.array(starts, dtype=np.int64)


def feature_indices(text: str, bits: int = DEFAULT_BITS) -> U32:
    """Return the sorted, unique feature buckets of a (normalised) text.

    Args:
        text: Normalised text.
        bits: log2 of the number of buckets.

    Returns:
        A sorted ``uint32`` array of distinct bucket indices (empty for empty text).
    """
    grams, words, _ = _positional_features(text, bits)
    return np.unique(np.concatenate([*grams, words]))


def window_feature_indices(text: str, window: int, bits: int = DEFAULT_BITS) -> list[U32]:
    """Return the feature sets of the whole text and of each half-overlapping window, hashing once."""
    grams, words, starts = _positional_features(text, bits)
    sets = [np.unique(np.concatenate([*grams, words]))]
    if len(text) > window:
        step = window // 2
        for begin in range(0, len(text) - step, step):
            stop = begin + window
            parts = [g[begin : max(begin, stop - n + 1)] for g, n in zip(grams, (3, 4, 5), strict=True)]
            mask = (starts >= begin) & (starts < stop)
            parts.append(words[mask])
            sets.append(np.unique(np.concatenate(parts)))
    return sets


class InjectionClassifier:
    """Immutable logistic-regression scorer over hashed n-grams."""

    __slots__ = ("_bias", "_bits", "_threshold_logit", "_weights", "_window")

    def __init__(
        self,
        weights: npt.NDArray[np.float32],
        *,
        bias: float,
        threshold_logit: float = 0.0,
        window: int = 600,
    ) -> None:
        """Wrap trained weights (a 1-D array whose length is a power of two)."""
        size = int(weights.shape[0])
        if weights.ndim != 1 or size < 2 or size & (size - 1):
            raise ValueError("classifier weights must be a 1-D array with a power-of-two length")
        self._weights = weights.astype(np.float32, copy=True)
        self._weights.setflags(write=False)
        self._bits = size.bit_length() - 1
        self._bias = float(bias)
        self._threshold_logit = float(threshold_logit)
        self._window = max(64, int(window))

    @property
    def bits(self) -> int:
        """log2 of the number of feature buckets."""
        return self._bits

    @classmethod
    def from_bytes(cls, data: bytes) -> InjectionClassifier:
        """Load a classifier from the bytes of a ``.npz`` written by ``to_bytes``.

        Raises:
            ValueError: The file is not a valid weights file.
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                weights = np.asarray(npz["weights"], dtype=np.float32)
                meta = np.asarray(npz["meta"], dtype=np.float64)
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"invalid classifier weights file: {exc}") from exc
        if meta.shape != (3,):
            raise ValueError("invalid classifier weights file: meta must hold bias, threshold_logit, window")
        return cls(weights, bias=float(meta[0]), threshold_logit=float(meta[1]), window=int(meta[2]))

    @classmethod
    def load_default(cls) -> InjectionClassifier:
        """Load the weights shipped with the package (``guards/injection/weights.npz``)."""
        data = resources.files("guards.injection").joinpath("weights.npz").read_bytes()
        return cls.from_bytes(data)

    def to_bytes(self) -> bytes:
        """Serialise to ``.npz`` bytes (the training script's output format)."""
        buffer = io.BytesIO()
        meta = np.array([self._bias, self._threshold_logit, float(self._window)], dtype=np.float64)
        np.savez_compressed(buffer, weights=self._weights, meta=meta)
        return buffer.getvalue()

    def logit_of(self, indices: U32) -> float:
        """Return the raw logit of one feature set."""
        if indices.shape[0] == 0:
            return self._bias
        total = float(self._weights[indices].sum(dtype=np.float64))
        return self._bias + total / math.sqrt(indices.shape[0])

    def logit(self, text: str) -> float:
        """Return the highest logit over the whole text and its half-overlapping windows."""
        return max(self.logit_of(indices) for indices in window_feature_indices(text, self._window, self._bits))

    def score(self, text: str) -> float:
        """Return a calibrated score in [0, 1]; 0.5 is the tuned operating point."""
        z = self.logit(text) - self._threshold_logit
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
