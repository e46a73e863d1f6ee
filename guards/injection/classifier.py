"""A small trained injection classifier: two logistic-regression heads over hashed n-grams, in numpy.

Features are described in ``guards.injection.features``. Each head's logit over a feature
multiset is ``bias + sum(w[buckets]) / sqrt(len(buckets))`` (so a long text does not score
higher merely for being long).

Two heads, because the same sentence means different things on the two vectors: "Write a
haiku about the sea" is an ordinary user request (``direct``) but, inside an e-mail a tool
returned, an instruction smuggled in for the model (``indirect``).

* ``direct`` (user content) scores the whole text and its half-overlapping ``window``-sized
  windows and keeps the highest logit: an attack paragraph in a long prompt is not diluted.
* ``indirect`` (tool results, documents) scores every sentence / line and every pair of
  adjacent ones with the indirect head (trained on injected payload sentences against
  ordinary document sentences) and keeps the highest logit.

Each head has its own operating point ``threshold_logit``, chosen by the training script on
out-of-fold logits at a target false-positive rate. ``score`` maps the head's best logit
through a logistic curve that puts the operating point at 0.5. The classifier alone reaches the
screen's default threshold (0.8) only ``ln 4`` (1.39) logits past it: the out-of-fold benign
texts are easier than real traffic (adversarial-looking but benign requests, programming
answers), and that margin is what keeps false positives near 2% on them; at the operating
point itself the classifier still turns a weak rule hit (0.6) into a flag.

The weights are trained by ``scripts/train_injection.py`` on permissively licensed data only
and ship as ``weights.npz`` next to this module (float16, compressed, about 0.5 MB).
"""

from __future__ import annotations

import io
import math
from importlib import resources
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from guards.injection.features import U32, positional, segment_spans, window_spans

__all__ = ["OPERATING_SCORE", "Head", "InjectionClassifier"]

OPERATING_SCORE = 0.5
"""The score a head's operating point maps to."""
_SHIFT = math.log(OPERATING_SCORE / (1.0 - OPERATING_SCORE))
_META_LEN = 6

Vector = Literal["direct", "indirect"]


class Head(NamedTuple):
    """One logistic-regression head: weights over ``2**bits`` buckets, bias, operating point."""

    weights: npt.NDArray[np.float32]
    bias: float
    threshold_logit: float = 0.0

    def logit_of(self, indices: U32) -> float:
        """Return the raw logit of one feature set."""
        if indices.shape[0] == 0:
            return self.bias
        total = float(self.weights[indices].sum(dtype=np.float64))
        return self.bias + total / math.sqrt(indices.shape[0])


def _check(weights: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    size = int(weights.shape[0]) if weights.ndim == 1 else 0
    if weights.ndim != 1 or size < 2 or size & (size - 1):
        raise ValueError("classifier weights must be a 1-D array with a power-of-two length")
    out = weights.astype(np.float32, copy=True)
    out.setflags(write=False)
    return out


class InjectionClassifier:
    """Immutable two-head scorer (see the module docstring)."""

    __slots__ = ("_bits", "_direct", "_indirect", "_segment_max", "_window")

    def __init__(
        self, direct: Head, indirect: Head | None = None, *, window: int = 600, segment_max: int = 400
    ) -> None:
        """Wrap trained heads; ``indirect`` defaults to the direct head (a single-head model).

        Raises:
            ValueError: A weight array is not 1-D with a power-of-two length, or the heads differ in size.
        """
        self._direct = Head(_check(direct.weights), float(direct.bias), float(direct.threshold_logit))
        other = indirect if indirect is not None else direct
        self._indirect = Head(_check(other.weights), float(other.bias), float(other.threshold_logit))
        if self._direct.weights.shape != self._indirect.weights.shape:
            raise ValueError("classifier heads must have the same number of buckets")
        self._bits = int(self._direct.weights.shape[0]).bit_length() - 1
        self._window = max(64, int(window))
        self._segment_max = max(64, int(segment_max))

    @property
    def bits(self) -> int:
        """log2 of the number of feature buckets."""
        return self._bits

    def head(self, vector: Vector) -> Head:
        """Return the head used for one vector."""
        return self._direct if vector == "direct" else self._indirect

    @classmethod
    def from_bytes(cls, data: bytes) -> InjectionClassifier:
        """Load a classifier from the bytes of a ``.npz`` written by ``to_bytes``.

        Raises:
            ValueError: The file is not a valid weights file.
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                direct = np.asarray(npz["direct"], dtype=np.float32)
                indirect = np.asarray(npz["indirect"], dtype=np.float32)
                meta = np.asarray(npz["meta"], dtype=np.float64)
        except (OSError, KeyError, ValueError, EOFError) as exc:
            raise ValueError(f"invalid classifier weights file: {exc}") from exc
        if meta.shape != (_META_LEN,):
            raise ValueError("invalid classifier weights file: meta must hold 2 x (bias, threshold), window, segment")
        return cls(
            Head(direct, float(meta[0]), float(meta[1])),
            Head(indirect, float(meta[2]), float(meta[3])),
            window=int(meta[4]),
            segment_max=int(meta[5]),
        )

    @classmethod
    def load_default(cls) -> InjectionClassifier:
        """Load the weights shipped with the package (``guards/injection/weights.npz``)."""
        data = resources.files("guards.injection").joinpath("weights.npz").read_bytes()
        return cls.from_bytes(data)

    def to_bytes(self) -> bytes:
        """Serialise to ``.npz`` bytes (float16 weights; the training script's output format)."""
        buffer = io.BytesIO()
        d, i = self._direct, self._indirect
        meta = np.array(
            [d.bias, d.threshold_logit, i.bias, i.threshold_logit, float(self._window), float(self._segment_max)],
            dtype=np.float64,
        )
        np.savez_compressed(
            buffer, direct=d.weights.astype(np.float16), indirect=i.weights.astype(np.float16), meta=meta
        )
        return buffer.getvalue()

    def feature_sets(self, text: str, vector: Vector) -> list[U32]:
        """Return the feature multisets the head of ``vector`` scores (whole text first, then the parts)."""
        pos = positional(text, self._bits)
        return [pos.span(a, b) for a, b in self.spans(text, vector)]

    def spans(self, text: str, vector: Vector) -> list[tuple[int, int]]:
        """Return the parts of ``text`` the vector's head scores: the whole text first."""
        if vector == "direct":
            return [(0, len(text)), *window_spans(len(text), self._window)]
        return [(0, len(text)), *segment_spans(text, self._segment_max)]

    def logit(self, text: str, vector: Vector = "direct") -> float:
        """Return the highest raw logit of the vector's head over the text and its parts."""
        head = self.head(vector)
        if not text:
            return head.bias
        pos = positional(text, self._bits)
        spans = self.spans(text, vector)
        if all(span == spans[0] for span in spans):
            # Only the whole text to score (a short message): one gather and sum instead of the
            # per-span prefix sums, half the cost of this call on a short text.
            return head.logit_of(pos.whole())
        total, count = pos.span_sums(head.weights, np.array(spans, dtype=np.int64))
        logits = head.bias + total / np.sqrt(np.maximum(count, 1))
        return float(logits.max())

    def margin(self, text: str, vector: Vector = "direct") -> float:
        """Return ``logit - threshold_logit``: positive means past the operating point."""
        return self.logit(text, vector) - self.head(vector).threshold_logit

    def score(self, text: str, vector: Vector = "direct") -> float:
        """Return a calibrated score in [0, 1]; the head's operating point maps to 0.5."""
        z = self.margin(text, vector) + _SHIFT
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
