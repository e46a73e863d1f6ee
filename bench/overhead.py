"""Gateway overhead: the fake upstream called directly vs through the gateway (no guards, memory store).

``python -m bench overhead [--json] [--requests N] [--rounds R]``: for streaming and non-streaming, at
concurrency 1 and 16, prints p50/p99 latency, time to first token, requests/s, and the
gateway's added p50 (the median of R paired direct/gateway rounds, with the smallest and largest).
The fake upstream and the gateway are separate processes; the fake's CPU is reported to show it
is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from typing import Any

from bench.loadgen import Result, print_rows, run_load
from bench.procs import cpu_seconds, start_fake_upstream, start_gateway

__all__ = ["main", "overhead_rows"]

_KEY = "gw-bench-key-not-secret"
_UPSTREAM_MODEL = "fake;words=16"


def _config(upstream: str, digest: str) -> dict[str, Any]:
    return {
        "store": {"kind": "memory"},
        "providers": [{"name": "up", "kind": "openai", "base_url": upstream + "/v1"}],
        "models": [{"name": "bench", "deployments": [{"provider": "up", "model": _UPSTREAM_MODEL}]}],
        "tenants": [{"id": "bench", "keys": [{"id": "bench", "digest": digest}]}],
        # Issue 2's overhead is the bare proxy: no guard runs (bench.suite measures full enforcement).
        "guard_policies": {"default": {"input": {"injection": {"enabled": False}, "spotlight": "off"}}},
    }


def _load(url: str, model: str, key: str, *, stream: bool, concurrency: int, requests: int) -> Result:
    return asyncio.run(run_load(url, model=model, key=key, stream=stream, concurrency=concurrency, requests=requests))


def overhead_rows(requests: int, concurrencies: tuple[int, ...] = (1, 16), rounds: int = 5) -> list[dict[str, object]]:
    """Run every cell; one row per (stream, concurrency).

    Each cell is ``rounds`` paired rounds of ``requests // rounds`` requests: the fake upstream direct and
    the gateway back to back (which goes first flips every round). The added p50 and TTFT are the medians of
    the per-round differences, so host drift between the two sides of a pair cannot move them; the
    smallest and largest round are reported beside the median.
    """
    from proxy.auth import digest_key

    per_round = max(1, requests // max(1, rounds))
    rows: list[dict[str, object]] = []
    with start_fake_upstream() as fake, start_gateway(_config(fake.base_url, digest_key(_KEY))) as gateway:
        sides = {
            "direct": (fake.base_url + "/v1/chat/completions", _UPSTREAM_MODEL, "x"),
            "gateway": (gateway.base_url + "/v1/chat/completions", "bench", _KEY),
        }
        for stream in (False, True):
            for concurrency in concurrencies:
                fake_cpu, gw_cpu = cpu_seconds(fake.pid), cpu_seconds(gateway.pid)
                results: dict[str, list[Result]] = {"direct": [], "gateway": []}
                for index in range(max(1, rounds)):
                    for name in ("direct", "gateway") if index % 2 == 0 else ("gateway", "direct"):
                        url, model, key = sides[name]
                        results[name].append(
                            _load(url, model, key, stream=stream, concurrency=concurrency, requests=per_round)
                        )
                direct, via = results["direct"], results["gateway"]
                added = [g.p(50) - d.p(50) for d, g in zip(direct, via, strict=True)]
                added_ttft = [g.p(50, "ttft") - d.p(50, "ttft") for d, g in zip(direct, via, strict=True)]
                done = max(1, sum(len(g.latencies_ms) for g in via))
                rows.append(
                    {
                        "mode": "stream" if stream else "unary",
                        "concurrency": concurrency,
                        "rounds": len(added),
                        "direct_p50_ms": round(statistics.median(d.p(50) for d in direct), 3),
                        "gateway_p50_ms": round(statistics.median(g.p(50) for g in via), 3),
                        "added_p50_ms": round(statistics.median(added), 3),
                        "added_p50_min_max_ms": f"{min(added):.3f}..{max(added):.3f}",
                        "gateway_p99_ms": round(statistics.median(g.p(99) for g in via), 3),
                        "added_ttft_p50_ms": round(statistics.median(added_ttft), 3) if stream else None,
                        "direct_rps": round(statistics.median(d.rps for d in direct), 1),
                        "gateway_rps": round(statistics.median(g.rps for g in via), 1),
                        "gateway_cpu_ms_per_req": round((cpu_seconds(gateway.pid) - gw_cpu) * 1000 / done, 3),
                        "fake_cpu_s": round(cpu_seconds(fake.pid) - fake_cpu, 2),
                        "errors": sum(r.errors for r in (*direct, *via)),
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the overhead table (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench overhead")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--requests", type=int, default=2000, help="requests per cell, split over the rounds")
    parser.add_argument("--rounds", type=int, default=5, help="paired direct/gateway rounds per cell")
    args = parser.parse_args(argv)
    print_rows(overhead_rows(args.requests, rounds=args.rounds), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
