"""Gateway overhead: the fake upstream called directly vs through the gateway (no guards, memory store).

``python -m bench overhead [--json] [--requests N]``: for streaming and non-streaming, at
concurrency 1 and 16, prints p50/p99 latency, time to first token, requests/s, and the
gateway's added p50. The fake upstream and the gateway are separate processes; the
fake's CPU is reported to show it is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bench.loadgen import print_rows, run_load
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


def overhead_rows(requests: int, concurrencies: tuple[int, ...] = (1, 16)) -> list[dict[str, object]]:
    """Run every cell; one row per (stream, concurrency)."""
    from proxy.auth import digest_key

    rows: list[dict[str, object]] = []
    with start_fake_upstream() as fake, start_gateway(_config(fake.base_url, digest_key(_KEY))) as gateway:
        for stream in (False, True):
            for concurrency in concurrencies:
                fake_cpu = cpu_seconds(fake.pid)
                direct = asyncio.run(
                    run_load(
                        fake.base_url + "/v1/chat/completions",
                        model=_UPSTREAM_MODEL,
                        key="x",
                        stream=stream,
                        concurrency=concurrency,
                        requests=requests,
                    )
                )
                gw_cpu = cpu_seconds(gateway.pid)
                via = asyncio.run(
                    run_load(
                        gateway.base_url + "/v1/chat/completions",
                        model="bench",
                        key=_KEY,
                        stream=stream,
                        concurrency=concurrency,
                        requests=requests,
                    )
                )
                done = max(1, len(via.latencies_ms))
                rows.append(
                    {
                        "mode": "stream" if stream else "unary",
                        "concurrency": concurrency,
                        "direct_p50_ms": round(direct.p(50), 3),
                        "gateway_p50_ms": round(via.p(50), 3),
                        "added_p50_ms": round(via.p(50) - direct.p(50), 3),
                        "gateway_p99_ms": round(via.p(99), 3),
                        "added_ttft_p50_ms": round(via.p(50, "ttft") - direct.p(50, "ttft"), 3) if stream else None,
                        "direct_rps": round(direct.rps, 1),
                        "gateway_rps": round(via.rps, 1),
                        "gateway_cpu_ms_per_req": round((cpu_seconds(gateway.pid) - gw_cpu) * 1000 / done, 3),
                        "fake_cpu_s": round(cpu_seconds(fake.pid) - fake_cpu, 2),
                        "errors": direct.errors + via.errors,
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the overhead table (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench overhead")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    print_rows(overhead_rows(args.requests), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
