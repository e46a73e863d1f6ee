"""Types shared by the output guards: per-request context, hits, findings, filter steps, protocols.

Two roles, as in DESIGN.md §5:

* a ``Detector`` is built once from config (compiled patterns, thresholds) and is immutable;
* ``Detector.new_scanner(ctx)`` makes a ``DetectorScanner`` for one stream (one choice): stateful,
  not thread-safe, used once.

A scanner does not release text itself. ``scan`` reports the hits it has *committed* (they can no
longer change, whatever text follows) and its *frontier*: an absolute offset before which it will
never report another hit. The filter (``guards.output.window``) releases text only below the
smallest frontier, which is what makes the output independent of how the text was chunked.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

from guards.verdict import Block

__all__ = [
    "Detector",
    "DetectorScanner",
    "FilterStep",
    "Finding",
    "Hit",
    "HitAction",
    "StreamContext",
]

HitAction = Literal["redact", "mask", "block", "observe"]


class StreamContext(msgspec.Struct, frozen=True):
    """What the output guards need to know about one request."""

    system_prompt: str | None = None
    """The request's system prompt(s), joined; the n-gram leak detector compares the output with it."""
    canaries: tuple[str, ...] = ()
    """Canary tokens the gateway planted in the system prompt."""
    allowed_hosts: tuple[str, ...] = ()
    """Extra hosts that links and images may point to (on top of the policy's allowlist)."""


class Hit(msgspec.Struct, frozen=True):
    """A committed detection, in absolute code-point offsets of the stream text (end exclusive)."""

    start: int
    end: int
    rule: str
    """Guard name: ``pii``, ``secrets``, ``leak`` or ``exfil``."""
    entity: str
    """What was found (``EMAIL_ADDRESS``, ``jwt``, ``canary``...)."""
    action: HitAction
    placeholder: str = ""
    """Replacement text for ``redact``; ignored by the other actions."""


class Finding(msgspec.Struct, frozen=True):
    """A hit as reported for audit and metrics: where and what, never the raw value."""

    rule: str
    entity: str
    action: HitAction
    start: int
    end: int


class FilterStep(msgspec.Struct):
    """What one ``feed``/``finish`` call lets through."""

    text: str
    """Releasable text, already redacted (may be empty)."""
    block: Block | None = None
    """Set when a guard in block mode fired: stop upstream and send one SSE error event."""
    findings: tuple[Finding, ...] = ()


class DetectorScanner(Protocol):
    """Per-stream state of one detector (not thread-safe, used once)."""

    def scan(self, buf: str, base: int, final: bool) -> tuple[list[Hit], int]:
        """Look at the text seen so far and report what is decided.

        Args:
            buf: the unreleased tail of the stream; ``buf[0]`` is at absolute offset ``base``. It
                always starts at least ``LOOKBEHIND`` characters before the last frontier.
            base: absolute offset of ``buf[0]``.
            final: no more text will come.

        Returns:
            Newly committed hits, and the frontier: no later hit will start before it.
        """
        ...


class Detector(Protocol):
    """Immutable, built once per policy."""

    def new_scanner(self, ctx: StreamContext) -> DetectorScanner | None:
        """Make a scanner for one stream, or ``None`` when nothing applies to this request."""
        ...
