"""The hold-back window: one per choice per stream, driving every detector's scanner.

``feed(text)`` appends to the unreleased tail and asks each scanner for committed hits and its
frontier (no later hit will start before it). Text is released up to the smallest frontier,
moved back to the start of any redaction that straddles it, and never past the start of a
committed block. So:

* a span split across chunks is replaced as a whole (the client never sees part of it);
* the released text is a pure function of the whole text, not of the chunking: every decision
  (hit or frontier) only depends on text the scanner has seen, and text is only released once
  every scanner has decided about it;
* a block is reported only once nothing before it can change; the step that carries it also
  releases the (redacted) text before the blocked span, so that too is chunking-independent;
* work per chunk is bounded by the chunk plus each scanner's bounded look-back: the buffer is
  trimmed to the unreleased tail (plus ``LOOKBEHIND`` characters for the patterns' lookbehinds).

Overlapping redactions (from one guard or several) merge into one span shown with the
placeholder of the earliest (then longest, then first-configured) hit. ``observe`` hits become
findings only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guards.output.base import FilterStep, Finding, Hit
from guards.verdict import Block

if TYPE_CHECKING:
    from guards.output.base import DetectorScanner

__all__ = ["LOOKBEHIND", "OutputFilter"]

LOOKBEHIND = 64
"""Characters kept before the released point for lookbehinds and word boundaries."""

_EMPTY = FilterStep("")
_BLOCK_MESSAGES = {
    "pii": "The response was stopped: it contained personal data.",
    "secrets": "The response was stopped: it contained a credential.",
    "leak": "The response was stopped: it disclosed protected instructions.",
    "exfil": "The response was stopped: it contained a link that would send data to an external site.",
}


def _finding(hit: Hit) -> Finding:
    return Finding(hit.rule, hit.entity, hit.action, hit.start, hit.end)


def _regions(hits: list[Hit]) -> list[tuple[int, int, Hit]]:
    """Union of overlapping redactions, each labelled by its earliest (then longest) hit."""
    ordered = sorted(hits, key=lambda h: (h.start, -h.end))
    regions: list[tuple[int, int, Hit]] = []
    for hit in ordered:
        if regions and hit.start < regions[-1][1]:
            start, end, label = regions[-1]
            regions[-1] = (start, max(end, hit.end), label)
        else:
            regions.append((hit.start, hit.end, hit))
    return regions


class OutputFilter:
    """Per-stream filter (not thread-safe, used once); see the module docstring."""

    __slots__ = ("_base", "_buf", "_done", "_hits", "_released", "_scanners")

    def __init__(self, scanners: tuple[DetectorScanner, ...]) -> None:
        self._scanners = scanners
        self._buf = ""
        self._base = 0
        self._released = 0
        self._hits: list[Hit] = []
        self._done = False

    @property
    def held(self) -> int:
        """Characters received but not released yet (the current hold-back)."""
        return self._base + len(self._buf) - self._released

    def feed(self, text: str) -> FilterStep:
        """Take the next piece of content; return what may be shown now."""
        if self._done or not text:
            return _EMPTY
        self._buf += text
        return self._advance(final=False)

    def finish(self) -> FilterStep:
        """End of stream: everything still held back is decided and released."""
        if self._done:
            return _EMPTY
        step = self._advance(final=True)
        self._done = True
        return step

    def _advance(self, final: bool) -> FilterStep:
        end = self._base + len(self._buf)
        frontier = end
        for scanner in self._scanners:
            hits, edge = scanner.scan(self._buf, self._base, final)
            self._hits.extend(hits)
            frontier = min(frontier, edge)
        if final:
            frontier = end
        cut = frontier
        block: Hit | None = None
        blocks = [h for h in self._hits if h.action == "block"]
        if blocks:
            first = min(blocks, key=lambda h: h.start)
            if first.start <= frontier:
                block, cut = first, first.start
        redactions = [h for h in self._hits if h.action in ("redact", "mask")]
        regions = _regions(redactions)
        for start, stop, _ in regions:
            if start < cut < stop:
                cut = start
        text = self._render(regions, cut)
        findings = self._take_findings(cut, block)
        self._trim(cut)
        if block is not None:
            self._done = True
            verdict = Block(
                f"{block.rule}.{block.entity}", _BLOCK_MESSAGES.get(block.rule, "The response was stopped.")
            )
            return FilterStep(text, verdict, findings)
        return FilterStep(text, None, findings)

    def _render(self, regions: list[tuple[int, int, Hit]], cut: int) -> str:
        parts: list[str] = []
        pos = self._released
        for start, stop, label in regions:
            if stop > cut:
                break
            parts.append(self._buf[pos - self._base : start - self._base])
            parts.append("*" * (stop - start) if label.action == "mask" else label.placeholder)
            pos = stop
        if pos < cut:
            parts.append(self._buf[pos - self._base : cut - self._base])
        self._released = max(pos, cut)
        return "".join(parts)

    def _take_findings(self, cut: int, block: Hit | None) -> tuple[Finding, ...]:
        done = [h for h in self._hits if h.end <= cut and h.action != "block"]
        if block is not None:
            done.append(block)
        if not done:
            return ()
        self._hits = [] if block is not None else [h for h in self._hits if h.end > cut or h.action == "block"]
        done.sort(key=lambda h: (h.start, h.end, h.rule))
        return tuple(_finding(h) for h in done)

    def _trim(self, cut: int) -> None:
        keep = cut - LOOKBEHIND - self._base
        if keep > len(self._buf) // 2 and keep > 0:
            self._buf = self._buf[keep:]
            self._base += keep
