"""Train the injection classifier shipped as guards/injection/weights.npz (numpy only, deterministic).

Usage::

    PYTHONPATH=. python scripts/train_injection.py [--bits 18] [--epochs 150] [--l2 3e-5] [--hard 1]
        [--indirect-fit 300 1e-4 0] [--folds 5] [--direct-fpr 0.005] [--indirect-fpr 0.02] [--out PATH]

Trains only on the ``dev`` split of the permissively licensed cases in ``corpus/injection``
plus gateway-authored synthetic text (see ``injection_data``); never on ``heldout.jsonl``,
Tensor Trust or WildGuard. Texts are normalised exactly as at inference.

Each head is a logistic regression fitted by full-batch Adam with L2, attacks and benign rows
weighted to equal total mass. The direct head is fitted briefly (150 epochs, light L2) and then
refitted once with the rows the first fit got wrong weighted up (``--hard``); the indirect head
keeps a single longer, more regularised fit, which generalises better to unseen documents
(programming answers) than the direct head's settings do. The operating point of a head is
the benign quantile at ``1 - fpr`` of *out-of-fold* scores of its calibration texts (scored
exactly as at inference: windows for direct, sentences for indirect), with folds grouped (a
payload, a case) so the training data never grades itself.
The script also prints the out-of-fold rates where the classifier alone crosses the screen's
default threshold (``ln 4`` logits past the operating point), the number that matters when no
rule fires.
"""

from __future__ import annotations

import argparse
import hashlib
import math
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from injection_data import Example, HeadData, direct_data, indirect_data, load_cases

from guards.injection.classifier import Head, InjectionClassifier
from guards.injection.features import U32, positional, segment_spans, window_spans

__all__ = ["main"]

_ROOT = Path(__file__).resolve().parent.parent
_WINDOW = 600
_SEGMENT = 400
F64 = npt.NDArray[np.float64]


class _Rows:
    def __init__(self, feature_sets: list[U32]) -> None:
        self.indices = np.concatenate(feature_sets).astype(np.int64)
        lengths = np.array([f.shape[0] for f in feature_sets], dtype=np.int64)
        self.row_of = np.repeat(np.arange(len(feature_sets)), lengths)
        self.scale = 1.0 / np.sqrt(np.maximum(lengths, 1))
        self.n = len(feature_sets)

    def logits(self, w: F64, b: float) -> F64:
        sums = np.bincount(self.row_of, weights=w[self.indices], minlength=self.n)
        return b + sums * self.scale


def _class_balanced(y: F64, emphasis: F64 | None = None) -> F64:
    """Row weights: attacks and benign rows each sum to 0.5 (after an optional per-row emphasis)."""
    raw = np.ones_like(y) if emphasis is None else emphasis
    pos = y > 0
    return np.where(pos, 0.5 * raw / max(float(raw[pos].sum()), 1e-12), 0.5 * raw / max(float(raw[~pos].sum()), 1e-12))


class Fit(NamedTuple):
    """Optimiser settings of one head."""

    epochs: int
    l2: float
    hard: float
    """Hard-example emphasis of a second pass (0: a single pass)."""


def _fit(rows: _Rows, y: F64, dim: int, fit: Fit) -> tuple[F64, float]:
    """Fit one head; with ``hard > 0``, refit once with the rows the first fit got wrong weighted up.

    The second pass weights each row by ``1 + |y - p|**hard / mean`` (``p`` from the first fit):
    on the direct head this sharpens the boundary between adversarial-looking benign framings and
    persona jailbreaks without adding data.
    """
    w, b = _adam(rows, y, dim, fit.epochs, fit.l2, _class_balanced(y))
    if fit.hard > 0:
        p = 1.0 / (1.0 + np.exp(-np.clip(rows.logits(w, b), -30, 30)))
        miss = np.abs(y - p) ** fit.hard
        emphasis = 1.0 + miss / max(float(miss.mean()), 1e-12)
        w, b = _adam(rows, y, dim, fit.epochs, fit.l2, _class_balanced(y, emphasis))
    return w, b


def _adam(rows: _Rows, y: F64, dim: int, epochs: int, l2: float, sw: F64) -> tuple[F64, float]:
    w = np.zeros(dim)
    b = 0.0
    m_w, v_w = np.zeros(dim), np.zeros(dim)
    m_b = v_b = 0.0
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    for t in range(1, epochs + 1):
        z = rows.logits(w, b)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        g = (p - y) * sw
        g_w = np.bincount(rows.indices, weights=(g * rows.scale)[rows.row_of], minlength=dim) + l2 * w
        g_b = float(g.sum())
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
        w -= lr * (m_w / (1 - beta1**t)) / (np.sqrt(v_w / (1 - beta2**t)) + eps)
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
        b -= lr * (m_b / (1 - beta1**t)) / (math.sqrt(v_b / (1 - beta2**t)) + eps)
    return w, b


def _parts(text: str, vector: Literal["direct", "indirect"], bits: int) -> list[U32]:
    pos = positional(text, bits)
    spans = window_spans(len(text), _WINDOW) if vector == "direct" else segment_spans(text, _SEGMENT)
    return [pos.whole(), *(pos.span(a, b) for a, b in spans)]


def _training_rows(examples: list[Example], vector: Literal["direct", "indirect"], bits: int) -> tuple[_Rows, F64]:
    feats: list[U32] = []
    y: list[float] = []
    for ex in examples:
        parts = _parts(ex.text, vector, bits)
        # benign texts contribute every part as a negative (inference takes the max over parts)
        chosen = parts if not ex.label else parts[:1]
        feats.extend(chosen)
        y.extend([float(ex.label)] * len(chosen))
    return _Rows(feats), np.array(y)


def _fold(group: str, folds: int) -> int:
    return hashlib.sha256(group.encode()).digest()[0] % folds


def _train_head(
    data: HeadData, vector: Literal["direct", "indirect"], args: argparse.Namespace
) -> tuple[Head, float, float]:
    dim = 1 << args.bits
    fpr_target = args.direct_fpr if vector == "direct" else args.indirect_fpr
    fit = (
        Fit(args.epochs, args.l2, args.hard)
        if vector == "direct"
        else Fit(int(args.indirect_fit[0]), *args.indirect_fit[1:])
    )
    cal = data.calibration
    oof = np.zeros(len(cal))
    for k in range(args.folds):
        train = [ex for ex in data.rows if _fold(ex.group, args.folds) != k]
        rows, y = _training_rows(train, vector, args.bits)
        w, b = _fit(rows, y, dim, fit)
        head = Head(w.astype(np.float32), b)
        for i, ex in enumerate(cal):
            if _fold(ex.group, args.folds) == k:
                oof[i] = max(head.logit_of(f) for f in _parts(ex.text, vector, args.bits))
    labels = np.array([ex.label for ex in cal])
    threshold = float(np.quantile(oof[labels == 0], 1.0 - fpr_target))
    quantiles = ", ".join(f"{q}: {np.quantile(oof[labels == 0], 1.0 - q):.3f}" for q in (0.005, 0.0075, 0.01, 0.02))
    print(f"{vector}: out-of-fold benign quantiles (fpr: threshold_logit) {quantiles}")
    tpr = float((oof[labels == 1] > threshold).mean())
    # the screen's default threshold (0.8) needs the classifier alone ln 4 logits past the operating point
    alone = threshold + math.log(4.0)
    print(
        f"{vector}: out-of-fold at the screen threshold (classifier alone): detection="
        f"{float((oof[labels == 1] > alone).mean()):.3f} fpr={float((oof[labels == 0] > alone).mean()):.3f}"
    )
    fpr = float((oof[labels == 0] > threshold).mean())
    rows, y = _training_rows(data.rows, vector, args.bits)
    w, b = _fit(rows, y, dim, fit)
    return Head(w.astype(np.float32), b, threshold), tpr, fpr


def main() -> int:
    """Train both heads, cross-validate, write the weights; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus-dir", default=str(_ROOT / "corpus/injection"))
    parser.add_argument("--out", default=str(_ROOT / "guards/injection/weights.npz"))
    parser.add_argument("--bits", type=int, default=18)
    parser.add_argument("--epochs", type=int, default=150, help="direct head")
    parser.add_argument("--l2", type=float, default=3e-5, help="direct head")
    parser.add_argument("--hard", type=float, default=1.0, help="direct head: hard-example emphasis (0: one pass)")
    parser.add_argument(
        "--indirect-fit", type=float, nargs=3, default=[300, 1e-4, 0.0], metavar=("EPOCHS", "L2", "HARD")
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--direct-fpr", type=float, default=0.005)
    parser.add_argument("--indirect-fpr", type=float, default=0.02)
    args = parser.parse_args()
    corpus_dir = Path(args.corpus_dir)
    dev = load_cases(corpus_dir / "dev.jsonl")
    # held-out cases are read only to keep their BIPIA payloads out of training
    heldout = load_cases(corpus_dir / "heldout.jsonl")
    heads: dict[str, Head] = {}
    for vector, data in (("direct", direct_data(dev)), ("indirect", indirect_data(dev, heldout))):
        head, tpr, fpr = _train_head(data, vector, args)  # type: ignore[arg-type]
        heads[vector] = head
        print(
            f"{vector}: rows={len(data.rows)} calibration={len(data.calibration)} "
            f"out-of-fold detection={tpr:.3f} fpr={fpr:.3f} threshold_logit={head.threshold_logit:.3f}"
        )
    clf = InjectionClassifier(heads["direct"], heads["indirect"], window=_WINDOW, segment_max=_SEGMENT)
    Path(args.out).write_bytes(clf.to_bytes())
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
