"""CI gate: the shipped default policy must keep detection and false positives within corpus/thresholds.yaml."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from corpus import INJECTION_DIR, iter_cases, split_of
from guards.eval import evaluate
from guards.input.build import build_input_guard
from schemas.input_guard_config import InputPolicy


class Gate(msgspec.Struct, forbid_unknown_fields=True):
    min_detection: float
    max_false_positive: float


class Thresholds(msgspec.Struct, forbid_unknown_fields=True):
    injection: dict[str, Gate]
    target: Gate


@pytest.fixture(scope="module")
def thresholds() -> Thresholds:
    return msgspec.yaml.decode((INJECTION_DIR.parent / "thresholds.yaml").read_bytes(), type=Thresholds)


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    guard = build_input_guard(InputPolicy())
    return {split: evaluate(iter_cases(INJECTION_DIR / f"{split}.jsonl"), guard) for split in ("dev", "heldout")}


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_split_files_hold_only_their_split(split: str) -> None:
    cases = list(iter_cases(INJECTION_DIR / f"{split}.jsonl"))
    assert cases
    assert {split_of(c.id) for c in cases} == {split}
    assert not {c.source for c in cases} & {"tensor-trust-hijacking", "tensor-trust-extraction", "wildguard-benign"}


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_rates_within_thresholds(split: str, thresholds: Thresholds, reports: dict[str, dict[str, Any]]) -> None:
    report, gate = reports[split], thresholds.injection[split]
    detection, fp = report["attack"]["rate"], report["benign"]["rate"]
    print(f"{split}: detection {detection:.3f} (target {thresholds.target.min_detection}), fp {fp:.3f}")
    assert detection >= gate.min_detection, f"{split} detection {detection:.3f} < {gate.min_detection}"
    assert fp <= gate.max_false_positive, f"{split} false positives {fp:.3f} > {gate.max_false_positive}"
