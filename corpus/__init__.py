"""Corpus data (JSONL with provenance, see corpus/README.md) and a tiny loader.

``iter_cases(path)`` decodes a JSONL file into ``schemas.corpus.CorpusCase``.
``split_of(case_id)`` is the deterministic dev / held-out split: a case is held out when the
first byte of SHA-256 of its id is below 64 (25%). Tuning (rules, training, thresholds) only
ever looks at the ``dev`` side; ``heldout`` is for reporting.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from schemas.corpus import CorpusCase

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["INJECTION_DIR", "Split", "iter_cases", "split_of"]

Split = Literal["dev", "heldout"]

INJECTION_DIR = Path(__file__).resolve().parent / "injection"
"""Where the shipped injection cases live."""

_HELDOUT_BELOW = 64


def split_of(case_id: str) -> Split:
    """Return which side of the dev / held-out split a case id falls on."""
    return "heldout" if hashlib.sha256(case_id.encode()).digest()[0] < _HELDOUT_BELOW else "dev"


def iter_cases(path: str | Path) -> Iterator[CorpusCase]:
    """Yield the cases of one JSONL file, skipping blank lines.

    Raises:
        msgspec.ValidationError: A line is not a valid case (the message names the line).
    """
    decoder = msgspec.json.Decoder(CorpusCase)
    with Path(path).open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise msgspec.ValidationError(f"{path}:{number}: {exc}") from exc
