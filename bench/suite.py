"""``make bench``: every benchmark of issue 9 in one bounded run, one report, targets marked PASS/MISS.

``python -m bench suite [--seconds S] [--memory-requests N] [--extras] [--no-ablation] [--profile] [--out FILE]``

1. the side-by-side matrix (``bench.sidebyside``): fake upstream direct, nginx, the gateway with full
   enforcement, LiteLLM; streaming and not; concurrency 1, 16, 64;
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
from bench.profile import format_profile, record
from bench.scaleout import format_scaleout, run_scaleout
from bench.sidebyside import ALL_TARGETS, format_rows, run_matrix
from bench.stack import KEY, MODEL, Stack, add_traces_argument, enforced_config
from bench.wrk import run_wrk

if TYPE_CHECKING:
    from bench.sidebyside import Row

__all__ = ["evaluate", "main"]

_EXTRAS = ("guards", "injection", "limits", "cache")
_ADDED_P50_MS = 1.5
_ADDED_TTFT_MS = 3.0
_VS_LITELLM = 20.0


def _cell(rows: list[Row], target: str, mode: str, concurrency: int) -> Row | None:
    for row in rows:
        if (row.target, row.mode, row.concurrency) == (target, mode, concurrency):
            return row
    return None


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def evaluate(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/MISS/n/a) for the three targets of issue 9, plus the nginx comparisons."""
    out: list[tuple[str, str, str]] = []
    direct, gateway = _cell(rows, "direct", "unary", 1), _cell(rows, "gateway", "unary", 1)
    if direct and gateway:
        added = gateway.p50_ms - direct.p50_ms
        out.append((f"added p50, c=1, non-streaming <= {_ADDED_P50_MS} ms", f"{added:.3f} ms", _mark(added <= 1.5)))
    direct, gateway = _cell(rows, "direct", "stream", 1), _cell(rows, "gateway", "stream", 1)
    if direct and gateway and direct.ttft_p50_ms is not None and gateway.ttft_p50_ms is not None:
        added = gateway.ttft_p50_ms - direct.ttft_p50_ms
        out.append((f"added TTFT p50, c=1 <= {_ADDED_TTFT_MS} ms", f"{added:.3f} ms", _mark(added <= _ADDED_TTFT_MS)))
    for mode in ("unary", "stream"):
        gateway, litellm = _cell(rows, "gateway", mode, 16), _cell(rows, "litellm", mode, 16)
        name = f"throughput c=16 {mode} >= {_VS_LITELLM:g}x LiteLLM"
        if gateway and litellm and litellm.rps > 0:
            ratio = gateway.rps / litellm.rps
            out.append((name, f"{ratio:.1f}x ({gateway.rps} vs {litellm.rps} req/s)", _mark(ratio >= _VS_LITELLM)))
        else:
            out.append((name, "LiteLLM not measured", "n/a"))
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
    print("\n## side-by-side matrix", flush=True)
    rows, matrix_notes = run_matrix(args.targets.split(","), seconds=args.seconds, traces=args.traces)
    notes += matrix_notes
    report += ["## Overhead: direct, nginx, gateway (full enforcement), LiteLLM", "", *format_rows(rows), ""]
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
    checks = evaluate(rows)
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
