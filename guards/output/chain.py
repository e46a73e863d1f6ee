"""``OutputChain``: the response-side guards of one policy, and what the stream relay calls.

Built once per guard policy (``from_config``) and immutable; ``new_filter`` makes the per-stream
``OutputFilter`` (one per choice). When the policy configures no output guard, ``active`` is
``False`` and the relay forwards upstream bytes untouched (its pass-through fast path).

Detector order is fixed - secrets, PII (patterns, then the optional NER model), exfiltration,
leak - and only matters when two redactions start at the same offset with the same length: the
first one's placeholder is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guards.output.base import FilterStep
from guards.output.exfil import ExfilDetector
from guards.output.leak import LeakDetector
from guards.output.pii import PIIDetector
from guards.output.pii_ner import NerDetector
from guards.output.secrets import SecretsDetector
from guards.output.window import OutputFilter

if TYPE_CHECKING:
    from guards.output.base import Detector, DetectorScanner, StreamContext
    from schemas.output_guard_config import OutputPolicy

__all__ = ["OutputChain"]


class OutputChain:
    """Immutable set of output detectors; see the module docstring."""

    __slots__ = ("_detectors",)

    def __init__(self, detectors: tuple[Detector, ...]) -> None:
        self._detectors = detectors

    @classmethod
    def from_config(cls, policy: OutputPolicy) -> OutputChain:
        """Build every configured detector (patterns compiled, Presidio set up) once.

        Raises:
            NerModelError: ``pii.ner`` names a spaCy model that is not installed.
        """
        detectors: list[Detector] = []
        if policy.secrets is not None:
            detectors.append(SecretsDetector(policy.secrets))
        if policy.pii is not None:
            detectors.append(PIIDetector(policy.pii))
            if policy.pii.ner is not None:
                detectors.append(NerDetector(policy.pii.ner, policy.pii.action))
        if policy.exfil is not None:
            detectors.append(ExfilDetector(policy.exfil))
        if policy.leak is not None:
            detectors.append(LeakDetector(policy.leak))
        return cls(tuple(detectors))

    @property
    def active(self) -> bool:
        """``False`` when no output guard is configured: the relay may skip decoding entirely."""
        return bool(self._detectors)

    def new_filter(self, ctx: StreamContext) -> OutputFilter:
        """A filter for one choice of one stream (not thread-safe, used once)."""
        scanners: list[DetectorScanner] = []
        for detector in self._detectors:
            scanner = detector.new_scanner(ctx)
            if scanner is not None:
                scanners.append(scanner)
        return OutputFilter(tuple(scanners))

    def apply(self, text: str, ctx: StreamContext) -> FilterStep:
        """Filter a whole (non-streamed) text: the same as feeding it in one piece and finishing."""
        flt = self.new_filter(ctx)
        first = flt.feed(text)
        if first.block is not None:
            return first
        last = flt.finish()
        return FilterStep(first.text + last.text, last.block, first.findings + last.findings)
