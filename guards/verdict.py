"""Guard verdicts: the tagged union ``Allow | Redact | Block`` and how several combine.

A guard answers with a verdict; it never raises because content is bad (an exception is a bug).
``merge`` is the single place that decides what several verdicts mean together: any ``Block``
wins (the first one, in the order given), otherwise the redaction spans are unioned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Allow", "Block", "Redact", "RedactSpan", "Verdict", "merge"]


class RedactSpan(msgspec.Struct, frozen=True):
    """One span to hide, in code-point offsets of the inspected text (end exclusive)."""

    start: int
    end: int
    label: str
    """What was found (``EMAIL_ADDRESS``, ``jwt``...); never the value itself."""


class Allow(msgspec.Struct, frozen=True, tag="allow"):
    """Nothing to do."""


class Redact(msgspec.Struct, frozen=True, tag="redact"):
    """Replace these spans (sorted by start, non-overlapping after ``merge``)."""

    spans: tuple[RedactSpan, ...]


class Block(msgspec.Struct, frozen=True, tag="block"):
    """Refuse the content; ``message`` is safe to show the caller (it never quotes the content)."""

    rule: str
    message: str


Verdict = Allow | Redact | Block


def _union(spans: list[RedactSpan]) -> tuple[RedactSpan, ...]:
    """Overlapping spans become one span labelled after the earliest (then longest) of them."""
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[RedactSpan] = []
    for span in spans:
        if out and span.start < out[-1].end:
            last = out[-1]
            if span.end > last.end:
                out[-1] = RedactSpan(last.start, span.end, last.label)
        else:
            out.append(span)
    return tuple(out)


def merge(verdicts: Iterable[Verdict]) -> Verdict:
    """Combine verdicts: the first ``Block`` wins, else redaction spans are unioned.

    Args:
        verdicts: verdicts in the guards' configured order.

    Returns:
        ``Block``, ``Redact`` with sorted non-overlapping spans, or ``Allow``.
    """
    spans: list[RedactSpan] = []
    for verdict in verdicts:
        if isinstance(verdict, Block):
            return verdict
        if isinstance(verdict, Redact):
            spans.extend(verdict.spans)
    return Redact(_union(spans)) if spans else Allow()
