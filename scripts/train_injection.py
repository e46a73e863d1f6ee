"""Train the injection classifier shipped as guards/injection/weights.npz (numpy only, deterministic).

Usage::

    PYTHONPATH=. python scripts/train_injection.py [--corpus corpus/injection/dev.jsonl] [--out PATH]
        [--bits 18] [--epochs 300] [--l2 1e-4] [--folds 5] [--target-fpr 0.01]

Trains only on the ``dev`` split of the permissively licensed cases in ``corpus/injection``
(never on ``heldout.jsonl``, never on Tensor Trust or WildGuard, which may not be
redistributed). Texts are normalised exactly as at inference (``guards.text.normalize``).
Benign texts also contribute their windows as negatives, because inference takes the
maximum over windows. Class weights balance attacks and benign cases.

The operating point (``threshold_logit``) is chosen from out-of-fold logits of a k-fold
cross-validation on the same training data: the benign logit quantile at ``1 - target_fpr``,
so the training data never grades itself.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from corpus import iter_cases
from guards.injection.classifier import InjectionClassifier, feature_indices, window_feature_indices
from guards.text import normalize

__all__ = ["main"]

_ROOT = Path(__file__).resolve().parent.parent
_WINDOW = 600


class _Rows:
    def __init__(self, feature_sets: list[npt.NDArray[np.uint32]]) -> None:
        self.indices = np.concatenate(feature_sets).astype(np.int64)
        lengths = np.array([f.shape[0] for f in feature_sets], dtype=np.int64)
        self.row_of = np.repeat(np.arange(len(feature_sets)), lengths)
        self.scale = 1.0 / np.sqrt(np.maximum(lengths, 1))
        self.n = len(feature_sets)

    def logits(self, w: npt.NDArray[np.float64], b: float) -> npt.NDArray[np.float64]:
        sums = np.bincount(self.row_of, weights=w[self.indices], minlength=self.n)
        return b + sums * self.scale


def _fit(
    rows: _Rows, y: npt.NDArray[np.float64], sw: npt.NDArray[np.float64], dim: int, epochs: int, l2: float
) -> tuple[npt.NDArray[np.float64], float]:
    w = np.zeros(dim)
    b = 0.0
    m_w, v_w = np.zeros(dim), np.zeros(dim)
    m_b = v_b = 0.0
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    total = sw.sum()
    for t in range(1, epochs + 1):
        z = rows.logits(w, b)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        g = (p - y) * sw / total
        g_w = np.bincount(rows.indices, weights=(g * rows.scale)[rows.row_of], minlength=dim) + l2 * w
        g_b = float(g.sum())
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
        w -= lr * (m_w / (1 - beta1**t)) / (np.sqrt(v_w / (1 - beta2**t)) + eps)
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
        b -= lr * (m_b / (1 - beta1**t)) / (math.sqrt(v_b / (1 - beta2**t)) + eps)
    return w, b


def _dataset(
    texts: list[str], labels: list[int], bits: int
) -> tuple[_Rows, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    feats: list[npt.NDArray[np.uint32]] = []
    y: list[float] = []
    groups: list[int] = []
    for text, label in zip(texts, labels, strict=True):
        feats.append(feature_indices(text, bits))
        y.append(float(label))
        groups.append(label)
        if not label:
            for part in window_feature_indices(text, _WINDOW, bits)[1:]:
                feats.append(part)
                y.append(0.0)
                groups.append(0)
    ya = np.array(y)
    n_pos, n_neg = ya.sum(), len(ya) - ya.sum()
    sw = np.where(ya > 0, 0.5 / n_pos, 0.5 / n_neg) * len(ya)
    return _Rows(feats), ya, sw


def main() -> int:
    """Train, cross-validate, write the weights; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="+", default=[str(_ROOT / "corpus/injection/dev.jsonl")])
    parser.add_argument("--out", default=str(_ROOT / "guards/injection/weights.npz"))
    parser.add_argument("--bits", type=int, default=18)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--target-fpr", type=float, default=0.01)
    args = parser.parse_args()
    texts: list[str] = []
    labels: list[int] = []
    for path in args.corpus:
        for case in iter_cases(path):
            texts.append(normalize(case.text).text)
            labels.append(1 if case.label == "attack" else 0)
    dim = 1 << args.bits
    rng = np.random.default_rng(1234)
    fold_of = rng.integers(0, args.folds, size=len(texts))
    oof = np.zeros(len(texts))
    for k in range(args.folds):
        train = [i for i in range(len(texts)) if fold_of[i] != k]
        rows, y, sw = _dataset([texts[i] for i in train], [labels[i] for i in train], args.bits)
        w, b = _fit(rows, y, sw, dim, args.epochs, args.l2)
        clf = InjectionClassifier(w.astype(np.float32), bias=b, window=_WINDOW)
        for i in range(len(texts)):
            if fold_of[i] == k:
                oof[i] = clf.logit(texts[i])
    lab = np.array(labels)
    threshold = float(np.quantile(oof[lab == 0], 1.0 - args.target_fpr))
    tpr = float((oof[lab == 1] > threshold).mean())
    fpr = float((oof[lab == 0] > threshold).mean())
    print(f"out-of-fold: threshold_logit={threshold:.3f} detection={tpr:.3f} fpr={fpr:.3f} n={len(texts)}")
    rows, y, sw = _dataset(texts, labels, args.bits)
    w, b = _fit(rows, y, sw, dim, args.epochs, args.l2)
    clf = InjectionClassifier(w.astype(np.float32), bias=b, threshold_logit=threshold, window=_WINDOW)
    Path(args.out).write_bytes(clf.to_bytes())
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
