"""``make bench``: every benchmark of issue 9 in one bounded run, one report, targets marked PASS/MISS.

``python -m bench suite [--seconds S] [--memory-requests N] [--extras] [--no-ablation] [--profile] [--out FILE]``

1. the side-by-side matrix (``bench.sidebyside``): fake upstream direct, nginx, the gateway with full
   enforcement, LiteLLM with the equivalent enforcement and LiteLLM bare (the throughput targets are
   judged against the first, the second is a reference); streaming and not; concurrency 1, 16, 64; then,
   on the same processes, the paired rounds of ``bench.paired`` that the targets are judged on (each
   comparison's two sides back to back, several times, so host drift cannot land between them);
2. memory (``bench.memory``): RSS after 1,000 and 100,000 requests;
3. scale-out (``bench.scaleout``): 1, 2, 4 replicas on one Redis, throughput and burst accuracy;
   then the ablation (``bench.ablation``): what each enforcement feature adds;
4. with ``--extras``, the other benchmarks' own reports first (guards, injection, limits, cache);
5. the targets, each printed with PASS or MISS (never asserted: timing is reported, not tested), and,
   when one is missed (or with ``--profile``), a py-spy profile of the gateway under load.

Everything runs on loopback, every step is bounded in count and time; the defaults fit in 10 minutes on
the 2-core machine. ``--out`` writes the same report as Markdown.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.ablation import format_ablation, run_ablation
from bench.memory import format_memory, run_memory
from bench.paired import COMPARISONS, format_paired, paired_rounds
from bench.profile import format_profile, record
from bench.scaleout import format_scaleout, run_scaleout
from bench.sidebyside import ALL_TARGETS, format_rows, matrix_cells, start_targets
from bench.stack import KEY, MODEL, Stack, add_traces_argument, enforced_config
from bench.wrk import run_wrk

if TYPE_CHECKING:
    from bench.paired import Comparison, Paired
    from bench.sidebyside import Row

__all__ = ["evaluate", "main"]

_EXTRAS = ("guards", "injection", "limits", "cache")


def _cell(rows: list[Row], target: str, mode: str, concurrency: int) -> Row | None:
    for row in rows:
        if (row.target, row.mode, row.concurrency) == (target, mode, concurrency):
            return row
    return None


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _single(rows: list[Row], comparison: Comparison) -> float | None:
    """The comparison's statistic from the matrix's single cells (``None`` when a side is missing)."""
    mode = "stream" if comparison.stream else "unary"
    subject = _cell(rows, comparison.subject, mode, comparison.concurrency)
    baseline = _cell(rows, comparison.baseline, mode, comparison.concurrency)
    return comparison.stat(subject, baseline) if subject and baseline else None


def evaluate(rows: list[Row], paired: list[Paired]) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/MISS/n/a) for the targets of issue 9, plus the nginx comparison.

    A target is judged on the median of its paired rounds (``bench.paired``); the matrix's single cell
    is shown beside it, and decides only when the comparison has no paired rounds.
    """
    out: list[tuple[str, str, str]] = []
    by_name = {p.name: p for p in paired}
    for comparison in COMPARISONS:
        unit = "x" if comparison.unit == "x" else " ms"
        label = comparison.label()
        single = _single(rows, comparison)
        single_text = "not measured" if single is None else f"{single:.3f}{unit}"
        result = by_name.get(comparison.name)
        median = result.median if result is not None else None
        if result is not None and median is not None:
            spread = f"{min(result.values):.3f}..{max(result.values):.3f}"
            rounds = f"median of {len(result.values)} paired rounds, {spread}"
            value = f"{median:.3f}{unit} ({rounds}; single cell {single_text})"
            out.append((label, value, _mark(comparison.meets(median)) if comparison.judged else "-"))
        elif single is not None:
            mark = _mark(comparison.meets(single)) if comparison.judged else "-"
            out.append((label, f"{single_text} (single cell; no paired rounds)", mark))
        else:
            out.append((label, "not measured", "n/a"))
    nginx, direct = _cell(rows, "nginx", "unary", 1), _cell(rows, "direct", "unary", 1)
    if nginx and direct:
        out.append(("(reference) nginx added p50, c=1, non-streaming", f"{nginx.p50_ms - direct.p50_ms:.3f} ms", "-"))
    return out


def _profile(seconds: float, traces: str) -> list[str]:
    """py-spy on an enforced gateway under wrk load at concurrency 16, non-streaming."""
    with Stack(traces=traces) as stack:
        fake = stack.fake_upstream()
        store = stack.redis()
        gateway = stack.gateway(enforced_config(fake.url, store.url))
        url = gateway.url + "/v1/chat/completions"
        run_wrk(url, model=MODEL, key=KEY, concurrency=16, seconds=1)
        load = threading.Thread(
            target=run_wrk, args=(url,), kwargs={"model": MODEL, "key": KEY, "concurrency": 16, "seconds": seconds + 2}
        )
        load.start()
        try:
            prof = record(gateway.pid, seconds)
        finally:
            load.join()
    return format_profile(prof)


def _run_extras(lines: list[str]) -> None:
    for name in _EXTRAS:
        print(f"\n## {name}", flush=True)
        try:
            status = importlib.import_module(f"bench.{name}").main([])
        except (Exception, SystemExit) as exc:  # another helper's benchmark: report, never abort the suite
            lines.append(f"- extra benchmark `{name}` failed: {type(exc).__name__}: {exc}")
            continue
        if status:
            lines.append(f"- extra benchmark `{name}` exited with status {status}")


def _machine() -> str:
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load average at start {load}"


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print one report."""
    parser = argparse.ArgumentParser(prog="python -m bench suite")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each matrix cell")
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument("--memory-seconds", type=float, default=200.0, help="time cap of the memory run")
    parser.add_argument("--targets", default=",".join(ALL_TARGETS))
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds per target comparison")
    parser.add_argument("--round-seconds", type=float, default=1.5, help="length of each side of a paired round")
    parser.add_argument("--no-ablation", action="store_true", help="skip the per-feature cost table")
    parser.add_argument("--extras", action="store_true", help="also run guards, injection, limits, cache")
    parser.add_argument("--profile", action="store_true", help="profile the gateway even if every target passes")
    parser.add_argument("--out", help="also write the report (Markdown) to this file")
    add_traces_argument(parser)
    args = parser.parse_args(argv)
    started = time.monotonic()
    report = ["# Benchmark report", "", _machine(), ""]
    notes: list[str] = []
    if args.extras:
        _run_extras(notes)
    print("\n## side-by-side matrix, then paired rounds", flush=True)
    with Stack(traces=args.traces) as stack:
        fake, targets = start_targets(stack, args.targets.split(","), notes)
        rows = matrix_cells(fake, targets, seconds=args.seconds, concurrencies=(1, 16, 64), notes=notes)
        paired = paired_rounds(fake, targets, rounds=args.rounds, seconds=args.round_seconds, notes=notes)
    report += ["## Overhead: direct, nginx, gateway (full enforcement), LiteLLM", "", *format_rows(rows), ""]
    report += ["## Paired rounds (the targets are judged on these medians)", "", *format_paired(paired), ""]
    print("## memory", flush=True)
    report += ["## Memory (gateway, non-streaming, concurrency 64)", ""]
    report += [*format_memory(run_memory(args.memory_requests, args.memory_seconds, args.traces)), ""]
    print("## scale-out", flush=True)
    report += [
        "## Scale-out on one Redis",
        "",
        *format_scaleout(run_scaleout(seconds=args.seconds, traces=args.traces)),
        "",
    ]
    if not args.no_ablation:
        print("## ablation", flush=True)
        report += ["## Cost of each enforcement feature (gateway, non-streaming)", ""]
        report += [*format_ablation(run_ablation(args.seconds, args.traces)), ""]
    checks = evaluate(rows, paired)
    report += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    report += [f"| {name} | {value} | {mark} |" for name, value, mark in checks]
    report.append("")
    if args.profile or any(mark == "MISS" for _, _, mark in checks):
        print("## profile", flush=True)
        try:
            report += ["## Profile of the gateway (py-spy, c=16, non-streaming)", "", *_profile(8.0, args.traces), ""]
        except RuntimeError as exc:
            notes.append(f"profile not taken: {exc}")
    if notes:
        report += ["## Notes", "", *(f"- {n}" if not n.startswith("- ") else n for n in notes), ""]
    report.append(f"Total time: {time.monotonic() - started:.0f} s.")
    text = "\n".join(report)
    print("\n" + text, flush=True)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0
