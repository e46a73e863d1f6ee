"""Paired rounds for the headline comparisons of issue 9: both sides measured back to back, several times.

``python -m bench paired [--rounds R] [--seconds S] [--targets direct,gateway,litellm,litellm-bare] [--json]``

The matrix (``bench.sidebyside``) measures each cell once, a few seconds after the other side of the
comparison. On a shared VM the host's speed drifts by up to 2x within minutes (on one day the fake
upstream called directly did 4,684 and then 10,029 req/s at concurrency 1), so a single pair can straddle
a drift and move a target by more than its margin. Here each comparison alternates its two sides for
``rounds`` short rounds (which side goes first flips every round), takes the difference or ratio *within*
each round, and reports the median round with the smallest and largest, so a target is judged on
like-for-like pairs and the spread is on the page:

* added p50, concurrency 1, non-streaming (wrk): gateway p50 minus direct p50;
* added time to first token, concurrency 1 (asyncio client): gateway TTFT p50 minus direct TTFT p50;
* throughput at concurrency 16, non-streaming and streaming: gateway req/s over LiteLLM req/s, LiteLLM
  configured with the equivalent enforcement (the issue's "configured equivalently"; ``bench.litellm_bench``);
* for reference, not judged: the same ratios against LiteLLM's bare proxy (``litellm-bare``).

Every round is one ``bench.sidebyside.measure`` cell without its warm-up (the first round of each side
warms it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import msgspec

from bench.sidebyside import measure, start_targets
from bench.stack import Stack, add_traces_argument

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.sidebyside import Row, Target
    from bench.stack import Proc

__all__ = ["COMPARISONS", "Comparison", "Paired", "format_paired", "main", "paired_rounds", "run_paired"]


@dataclass(frozen=True)
class Comparison:
    """One target of issue 9 as a per-round statistic of two rows (``subject`` vs ``baseline``)."""

    name: str
    subject: str
    baseline: str
    stream: bool
    concurrency: int
    unit: str
    stat: Callable[[Row, Row], float | None]
    limit: float
    """The issue's target for the statistic."""
    at_least: bool
    """Whether the statistic must reach ``limit`` (a ratio) rather than stay under it (a latency)."""
    judged: bool = True
    """``False`` for a reference comparison: reported beside the targets, never marked PASS or MISS."""

    def meets(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return value >= self.limit if self.at_least else value <= self.limit

    def label(self) -> str:
        """The target as text: ``added p50, c=1, non-streaming <= 1.5 ms`` (a reference one has no limit)."""
        if not self.judged:
            return f"(reference) {self.name}"
        unit = "x" if self.unit == "x" else " ms"
        return f"{self.name} {'>=' if self.at_least else '<='} {self.limit:g}{unit}"


def _added_p50(subject: Row, baseline: Row) -> float:
    return subject.p50_ms - baseline.p50_ms


def _added_ttft(subject: Row, baseline: Row) -> float | None:
    if subject.ttft_p50_ms is None or baseline.ttft_p50_ms is None:
        return None
    return subject.ttft_p50_ms - baseline.ttft_p50_ms


def _rps_ratio(subject: Row, baseline: Row) -> float | None:
    return subject.rps / baseline.rps if baseline.rps > 0 else None


def _throughput(stream: bool, baseline: str, *, judged: bool = True) -> Comparison:
    """Gateway req/s over ``baseline``'s at concurrency 16 (issue 9: at least 20x)."""
    versus = "LiteLLM" if judged else "bare LiteLLM"
    name = f"throughput c=16 {'stream' if stream else 'unary'} vs {versus}"
    return Comparison(name, "gateway", baseline, stream, 16, "x", _rps_ratio, 20.0, True, judged)


COMPARISONS = (
    Comparison("added p50, c=1, non-streaming", "gateway", "direct", False, 1, "ms", _added_p50, 1.5, False),
    Comparison("added TTFT p50, c=1", "gateway", "direct", True, 1, "ms", _added_ttft, 3.0, False),
    _throughput(False, "litellm"),
    _throughput(True, "litellm"),
    _throughput(False, "litellm-bare", judged=False),
    _throughput(True, "litellm-bare", judged=False),
)


@dataclass
class Paired:
    """The rounds of one comparison: the per-round values and both sides' raw numbers."""

    name: str
    unit: str
    values: list[float]
    subject: list[float]
    """The subject's p50 / TTFT p50 (ms) or req/s per round, in round order."""
    baseline: list[float]
    errors: int

    @property
    def median(self) -> float | None:
        """The median round (``None`` when no round produced a value)."""
        return statistics.median(self.values) if self.values else None


def _raw(comparison: Comparison, row: Row) -> float:
    if comparison.unit == "x":
        return row.rps
    if comparison.stream:
        return row.ttft_p50_ms if row.ttft_p50_ms is not None else float("nan")
    return row.p50_ms


def _compare(comparison: Comparison, sides: tuple[Target, Target], fake: Proc, rounds: int, seconds: float) -> Paired:
    subject, baseline = sides
    out = Paired(comparison.name, comparison.unit, [], [], [], 0)
    for index in range(rounds):
        order = sides if index % 2 == 0 else (baseline, subject)
        rows: dict[str, Row] = {}
        for target in order:
            rows[target.name] = measure(
                target,
                fake,
                stream=comparison.stream,
                concurrency=comparison.concurrency,
                seconds=seconds,
                warm=index == 0,  # both sides run in round 0: that warms them
            )
        out.errors += rows[subject.name].errors + rows[baseline.name].errors
        value = comparison.stat(rows[subject.name], rows[baseline.name])
        if value is not None:
            out.values.append(value)
        out.subject.append(_raw(comparison, rows[subject.name]))
        out.baseline.append(_raw(comparison, rows[baseline.name]))
    return out


def run_paired(
    names: list[str], *, rounds: int = 5, seconds: float = 1.5, traces: str = "noop"
) -> tuple[list[Paired], list[str]]:
    """Start the named targets and run every comparison; returns the results and notes on what was left out."""
    notes: list[str] = []
    with Stack(traces=traces) as stack:
        fake, targets = start_targets(stack, names, notes)
        results = paired_rounds(fake, targets, rounds=rounds, seconds=seconds, notes=notes)
    return results, notes


def paired_rounds(fake: Proc, targets: list[Target], *, rounds: int, seconds: float, notes: list[str]) -> list[Paired]:
    """Every comparison whose two sides are among the started ``targets``; what is left out goes to ``notes``."""
    results: list[Paired] = []
    by_name = {t.name: t for t in targets}
    for comparison in COMPARISONS:
        subject, baseline = by_name.get(comparison.subject), by_name.get(comparison.baseline)
        if subject is None or baseline is None:
            notes.append(f"{comparison.name}: not measured ({comparison.subject} or {comparison.baseline} absent)")
            continue
        try:
            results.append(_compare(comparison, (subject, baseline), fake, rounds, seconds))
        except RuntimeError as exc:
            notes.append(f"{comparison.name}: {exc}")
    return results


def _fmt(value: float, unit: str) -> str:
    return f"{value:.1f}x" if unit == "x" else f"{value:.3f} ms"


def format_paired(results: list[Paired]) -> list[str]:
    """Markdown table lines: median, min and max round, and every round's two sides."""
    lines = [
        "| comparison | median round | min | max | rounds (subject / baseline) | errors |",
        "|---|---|---|---|---|---|",
    ]
    for p in results:
        if p.median is None:
            lines.append(f"| {p.name} | - | - | - | no round produced a value | {p.errors} |")
            continue
        sides = ", ".join(f"{s:.4g}/{b:.4g}" for s, b in zip(p.subject, p.baseline, strict=True))
        lines.append(
            f"| {p.name} | {_fmt(p.median, p.unit)} | {_fmt(min(p.values), p.unit)} | "
            f"{_fmt(max(p.values), p.unit)} | {sides} | {p.errors} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the paired rounds and print them."""
    parser = argparse.ArgumentParser(prog="python -m bench paired")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each side of a round")
    parser.add_argument("--targets", default="direct,gateway,litellm,litellm-bare")
    parser.add_argument("--json", action="store_true")
    add_traces_argument(parser)
    args = parser.parse_args(argv)
    results, notes = run_paired(args.targets.split(","), rounds=args.rounds, seconds=args.seconds, traces=args.traces)
    if args.json:
        payload = [{**asdict(p), "median": p.median} for p in results]
        sys.stdout.write(msgspec.json.encode({"paired": payload, "notes": notes}).decode() + "\n")
    else:
        print("\n".join([*format_paired(results), *(f"- {n}" for n in notes)]))
    return 0
