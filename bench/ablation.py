"""What each enforcement feature costs: the gateway with features switched on one at a time.

``python -m bench ablation [--seconds S] [--json]``

Steps, each adding to the previous one (the last is the full enforcement of ``bench.stack``):

1. ``lean``: memory store, no limits, injection screen with rules only (the screen cannot be switched off),
   no output guard, tracing off, metrics and access log off;
2. ``+redis limits``: the Redis store with request/token/spend limits (admission + settle);
3. ``+classifier``: the injection screen's trained classifier;
4. ``+output guards``: PII and leak;
5. ``+telemetry``: metrics, access log, and tracing (the no-op exporter, or ``--traces otlp`` to a sink).

For each, non-streaming through wrk: p50 at concurrency 1 (minus the fake upstream's direct p50), and
requests/s and gateway CPU per request at concurrency 16. Shows where the added latency comes from.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from typing import Any

import msgspec

from bench.stack import KEY, MODEL, UPSTREAM_MODEL, Stack, add_traces_argument, enforced_config
from bench.wrk import run_wrk

__all__ = ["AblationRow", "format_ablation", "main", "run_ablation"]

_STEPS = ("lean", "+redis limits", "+classifier", "+output guards", "+telemetry")


@dataclass
class AblationRow:
    """One configuration step."""

    step: str
    added_p50_c1_ms: float
    rps_c16: float
    cpu_ms_per_req_c16: float
    errors: int


def _config(step: int, upstream: str, redis_url: str) -> dict[str, Any]:
    config = enforced_config(upstream, redis_url)
    if step < 1:
        config["store"] = {"kind": "memory"}
        config["tenants"][0]["limits"] = {}
    output: dict[str, Any] = {"pii": {}, "leak": {}} if step >= 3 else {}
    config["guard_policies"] = {"default": {"input": {"injection": {"classifier": step >= 2}}, "output": output}}
    if step < 4:
        config["telemetry"] = {"tracing": False, "metrics": False, "access_log": False}
    return config


def run_ablation(seconds: float = 4.0, traces: str = "noop") -> list[AblationRow]:
    """Every step against one fake upstream and one Redis."""
    rows = []
    with Stack(traces=traces) as stack:
        fake = stack.fake_upstream()
        store = stack.redis()
        direct_url = fake.url + "/v1/chat/completions"
        for step, name in enumerate(_STEPS):
            gateway = stack.gateway(_config(step, fake.url, store.url), name=f"gw-step{step}")
            url = gateway.url + "/v1/chat/completions"
            run_wrk(url, model=MODEL, key=KEY, concurrency=16, seconds=1)
            direct = run_wrk(direct_url, model=UPSTREAM_MODEL, key="x", concurrency=1, seconds=seconds / 2)
            one = run_wrk(url, model=MODEL, key=KEY, concurrency=1, seconds=seconds / 2)
            cpu0 = gateway.cpu()
            many = run_wrk(url, model=MODEL, key=KEY, concurrency=16, seconds=seconds)
            cpu = gateway.cpu() - cpu0
            gateway.stop()
            rows.append(
                AblationRow(
                    step=name,
                    added_p50_c1_ms=round(one.p50_ms - direct.p50_ms, 3),
                    rps_c16=round(many.rps, 1),
                    cpu_ms_per_req_c16=round(cpu * 1000 / max(1, many.requests), 3),
                    errors=direct.errors + one.errors + many.errors,
                )
            )
    return rows


def format_ablation(rows: list[AblationRow]) -> list[str]:
    """Markdown table lines."""
    lines = ["| step | added p50 c=1 ms | req/s c=16 | gateway CPU ms/req c=16 | errors |", "|---|---|---|---|---|"]
    lines.extend(
        f"| {r.step} | {r.added_p50_c1_ms} | {r.rps_c16} | {r.cpu_ms_per_req_c16} | {r.errors} |" for r in rows
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run and print the ablation."""
    parser = argparse.ArgumentParser(prog="python -m bench ablation")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--json", action="store_true")
    add_traces_argument(parser)
    args = parser.parse_args(argv)
    rows = run_ablation(args.seconds, args.traces)
    if args.json:
        sys.stdout.write(msgspec.json.encode([asdict(r) for r in rows]).decode() + "\n")
    else:
        print("\n".join(format_ablation(rows)))
    return 0
