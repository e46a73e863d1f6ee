"""The side-by-side matrix: the fake upstream direct, nginx, the gateway (full enforcement) and LiteLLM.

``python -m bench sidebyside [--targets direct,nginx,gateway,litellm,litellm-bare] [--seconds S] [--json]``

``litellm`` is LiteLLM with the enforcement equivalent to the gateway's, ``litellm-bare`` its plain proxy
(``bench.litellm_bench`` says which feature maps to which).

Every target fronts the same fake upstream process. Each cell (target x streaming or not x concurrency
1/16/64) is a short warm-up then a run bounded by ``--seconds``: non-streaming with ``wrk``, streaming with
the asyncio client of ``bench.loadgen`` (time to first token). Cells are interleaved by target, so drift
on a shared machine hits every target alike. CPU per request is read from /proc for the proxy's whole
process tree and for the fake upstream; the client's own CPU is shown too, so a saturated load generator
or fake upstream is visible rather than mistaken for the proxy's limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import msgspec

from bench.litellm_bench import LITELLM_KEY, start_litellm
from bench.loadgen import run_load
from bench.nginx import start_nginx_proxy
from bench.stack import KEY, MODEL, UPSTREAM_MODEL, Stack, add_traces_argument, enforced_config
from bench.wrk import run_wrk

if TYPE_CHECKING:
    from bench.stack import Proc

__all__ = [
    "ALL_TARGETS",
    "Row",
    "Target",
    "format_rows",
    "main",
    "matrix_cells",
    "measure",
    "run_matrix",
    "start_targets",
]

ALL_TARGETS = ("direct", "nginx", "gateway", "litellm", "litellm-bare")
_STREAM_CAP = 200_000
"""Streaming runs stop at the time cap long before this count."""


@dataclass
class Target:
    """Something to send chat completions to."""

    name: str
    url: str
    model: str
    key: str
    proc: Proc | None
    """The proxy's process (``None`` for the fake upstream called directly)."""


@dataclass
class Row:
    """One cell of the matrix."""

    target: str
    mode: str
    concurrency: int
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    ttft_p50_ms: float | None
    proxy_cpu_ms_per_req: float
    upstream_cpu_ms_per_req: float
    upstream_core_pct: float
    """The fake upstream's CPU as a share of one core over the run (100 = saturated)."""
    client_core_pct: float


def _self_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(target: Target, fake: Proc, *, stream: bool, concurrency: int, seconds: float, warm: bool = True) -> Row:
    """Warm up (unless ``warm`` is false), then run one bounded cell against ``target``."""
    url = target.url + "/v1/chat/completions"
    if warm and stream:
        asyncio.run(
            run_load(url, model=target.model, key=target.key, stream=True, concurrency=concurrency, requests=50)
        )
    elif warm:
        run_wrk(url, model=target.model, key=target.key, concurrency=concurrency, seconds=1)
    proxy0 = target.proc.cpu() if target.proc else 0.0
    fake0, self0, kids0 = fake.cpu(), _self_cpu(), _children_cpu()
    if stream:
        result = asyncio.run(
            run_load(
                url,
                model=target.model,
                key=target.key,
                stream=True,
                concurrency=concurrency,
                requests=_STREAM_CAP,
                max_seconds=seconds,
                warmup=0,
            )
        )
        done, wall, errors = len(result.latencies_ms), result.wall_s, result.errors
        p50, p99, ttft = result.p(50), result.p(99), result.p(50, "ttft")
        client = _self_cpu() - self0
    else:
        wrk = run_wrk(url, model=target.model, key=target.key, concurrency=concurrency, seconds=seconds)
        done, wall, errors = wrk.requests, wrk.duration_s, wrk.errors
        p50, p99, ttft = wrk.p50_ms, wrk.p99_ms, None
        client = _children_cpu() - kids0
    proxy = (target.proc.cpu() - proxy0) if target.proc else 0.0
    fake_cpu = fake.cpu() - fake0
    per = max(1, done)
    return Row(
        target=target.name,
        mode="stream" if stream else "unary",
        concurrency=concurrency,
        requests=done,
        errors=errors,
        rps=round(done / wall, 1) if wall else 0.0,
        p50_ms=round(p50, 3),
        p99_ms=round(p99, 3),
        ttft_p50_ms=None if ttft is None else round(ttft, 3),
        proxy_cpu_ms_per_req=round(proxy * 1000 / per, 3),
        upstream_cpu_ms_per_req=round(fake_cpu * 1000 / per, 3),
        upstream_core_pct=round(100 * fake_cpu / wall, 1) if wall else 0.0,
        client_core_pct=round(100 * client / wall, 1) if wall else 0.0,
    )


def start_targets(stack: Stack, names: list[str], notes: list[str]) -> tuple[Proc, list[Target]]:
    """Start the fake upstream and every named target; a target that cannot start is noted and left out."""
    fake = stack.fake_upstream()
    targets = [Target("direct", fake.url, UPSTREAM_MODEL, "x", None)] if "direct" in names else []
    if "nginx" in names:
        try:
            nginx = start_nginx_proxy(stack, fake.url)
            targets.append(Target("nginx", nginx.url, UPSTREAM_MODEL, "x", nginx))
        except RuntimeError as exc:
            notes.append(f"nginx: not measured: {exc}")
    if "gateway" in names:
        redis = stack.redis()
        gateway = stack.gateway(enforced_config(fake.url, redis.url))
        targets.append(Target("gateway", gateway.url, MODEL, KEY, gateway))
    for name, enforced in (("litellm", True), ("litellm-bare", False)):
        if name not in names:
            continue
        try:
            proc = start_litellm(stack, fake.url, UPSTREAM_MODEL, enforced=enforced)
            targets.append(Target(name, proc.url, "bench", LITELLM_KEY, proc))
        except RuntimeError as exc:
            notes.append(f"{name}: not measured: {exc}")
    return fake, targets


def run_matrix(
    names: list[str], *, seconds: float, concurrencies: tuple[int, ...] = (1, 16, 64), traces: str = "noop"
) -> tuple[list[Row], list[str]]:
    """Every cell for every target that started; returns the rows and notes on what was left out."""
    notes: list[str] = []
    with Stack(traces=traces) as stack:
        fake, targets = start_targets(stack, names, notes)
        rows = matrix_cells(fake, targets, seconds=seconds, concurrencies=concurrencies, notes=notes)
    return rows, notes


def matrix_cells(
    fake: Proc, targets: list[Target], *, seconds: float, concurrencies: tuple[int, ...], notes: list[str]
) -> list[Row]:
    """Every cell of started targets, interleaved by target; a cell that fails is noted in ``notes``."""
    rows: list[Row] = []
    for stream in (False, True):
        for concurrency in concurrencies:
            for target in targets:
                try:
                    rows.append(measure(target, fake, stream=stream, concurrency=concurrency, seconds=seconds))
                except RuntimeError as exc:
                    notes.append(f"{target.name} {'stream' if stream else 'unary'} c={concurrency}: {exc}")
    return rows


_COLUMNS = (
    ("target", "target"),
    ("mode", "mode"),
    ("concurrency", "conc"),
    ("rps", "req/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("ttft_p50_ms", "TTFT p50 ms"),
    ("proxy_cpu_ms_per_req", "proxy CPU ms/req"),
    ("upstream_cpu_ms_per_req", "fake CPU ms/req"),
    ("upstream_core_pct", "fake core %"),
    ("client_core_pct", "client core %"),
    ("errors", "errors"),
)


def format_rows(rows: list[Row]) -> list[str]:
    """The matrix as Markdown table lines."""
    lines = ["| " + " | ".join(title for _, title in _COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for row in rows:
        values = asdict(row)
        cells = ["" if values[key] is None else str(values[key]) for key, _ in _COLUMNS]
        if row.proxy_cpu_ms_per_req == 0 and row.target == "direct":
            cells[7] = "-"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the matrix and print it (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench sidebyside")
    parser.add_argument("--targets", default=",".join(ALL_TARGETS))
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each measured cell")
    parser.add_argument("--json", action="store_true")
    add_traces_argument(parser)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL_TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {list(ALL_TARGETS)}")
    rows, notes = run_matrix(names, seconds=args.seconds, traces=args.traces)
    if args.json:
        sys.stdout.write(msgspec.json.encode({"rows": [asdict(r) for r in rows], "notes": notes}).decode() + "\n")
        return 0
    print("\n".join(format_rows(rows)))
    for note in notes:
        print(f"- {note}")
    return 0
