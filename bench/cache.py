"""Response cache: latency of a cache hit vs the same request going upstream, streaming and not.

``python -m bench cache [--json] [--requests N] [--concurrency C]``: one gateway process (memory store) in
front of the fake upstream, two tenants: ``hit`` caches every request (``mode: always``; the load repeats
one request, so after the warm-up every request is a hit) and ``bypass`` caches nothing. Prints p50/p99
latency and requests/s for both, streaming and non-streaming.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bench.loadgen import print_rows, run_load
from bench.procs import start_fake_upstream, start_gateway

__all__ = ["cache_rows", "main"]

_KEYS = {"always": "gw-bench-cache-hit-key", "never": "gw-bench-cache-bypass-key"}
_UPSTREAM_MODEL = "fake;words=64"


def _config(upstream: str) -> dict[str, Any]:
    from proxy.auth import digest_key

    return {
        "store": {"kind": "memory"},
        "providers": [{"name": "up", "kind": "openai", "base_url": upstream + "/v1"}],
        "models": [{"name": "bench", "deployments": [{"provider": "up", "model": _UPSTREAM_MODEL}]}],
        "tenants": [
            {"id": f"t-{mode}", "cache": {"mode": mode}, "keys": [{"id": f"k-{mode}", "digest": digest_key(key)}]}
            for mode, key in _KEYS.items()
        ],
    }


def cache_rows(requests: int, concurrency: int = 1) -> list[dict[str, object]]:
    """One row per (stream, cache mode)."""
    rows: list[dict[str, object]] = []
    with start_fake_upstream() as fake, start_gateway(_config(fake.base_url)) as gateway:
        for stream in (False, True):
            for mode, key in _KEYS.items():
                result = asyncio.run(
                    run_load(
                        gateway.base_url + "/v1/chat/completions",
                        model="bench",
                        key=key,
                        stream=stream,
                        concurrency=concurrency,
                        requests=requests,
                    )
                )
                rows.append(
                    {
                        "mode": "stream" if stream else "unary",
                        "cache": "hit" if mode == "always" else "bypass",
                        "concurrency": concurrency,
                        "p50_ms": round(result.p(50), 3),
                        "p99_ms": round(result.p(99), 3),
                        "ttft_p50_ms": round(result.p(50, "ttft"), 3) if stream else None,
                        "rps": round(result.rps, 1),
                        "errors": result.errors,
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the cache latency table (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench cache")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    print_rows(cache_rows(args.requests, args.concurrency), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
