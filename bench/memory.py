"""Gateway memory under sustained load: RSS after 1,000 and after 100,000 requests (target: under 10% growth).

``python -m bench memory [--requests N] [--max-seconds S] [--json]``

One gateway with full enforcement (``bench.stack.enforced_config``) in front of a fast fake upstream
(``words=4``), non-streaming, concurrency 64, driven by wrk. RSS (``VmRSS`` of the gateway's process tree)
is read at start, after the first 1,000 requests (the warm-up: caches, pools and lazily built objects
exist by then) and after ``--requests`` in total. The load runs in bounded chunks; when ``--max-seconds``
runs out first, the count reached is reported instead, and the row says so.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass

import msgspec

from bench.stack import KEY, MODEL, Stack, add_traces_argument, enforced_config, tree_rss_bytes
from bench.wrk import run_wrk

__all__ = ["MemoryResult", "format_memory", "main", "run_memory"]

_WARM = 1_000
_CONCURRENCY = 64
_CHUNK_S = 15.0


@dataclass
class MemoryResult:
    """RSS readings (MiB) and the request counts they were taken at."""

    start_mib: float
    warm_requests: int
    warm_mib: float
    total_requests: int
    final_mib: float
    growth_pct: float
    seconds: float
    capped: bool
    """True when the time cap stopped the run before the requested count."""
    errors: int


def _mib(pid: int) -> float:
    return round(tree_rss_bytes(pid) / 2**20, 1)


def run_memory(requests: int = 100_000, max_seconds: float = 200.0, traces: str = "noop") -> MemoryResult:
    """Drive one enforced gateway to ``requests`` (or ``max_seconds``) and read its RSS along the way."""
    with Stack(traces=traces) as stack:
        fake = stack.fake_upstream()
        redis = stack.redis()
        config = enforced_config(fake.url, redis.url, upstream_model="fake;words=4")
        gateway = stack.gateway(config)
        url = gateway.url + "/v1/chat/completions"
        start_mib = _mib(gateway.pid)
        started = time.monotonic()
        first = run_wrk(url, model=MODEL, key=KEY, concurrency=_CONCURRENCY, seconds=6, limit=_WARM)
        done, errors = first.requests, first.errors
        warm_mib = _mib(gateway.pid)
        rate = max(first.rps, 50.0)
        while done < requests:
            left = max_seconds - (time.monotonic() - started)
            if left < 1:
                break
            remaining = requests - done
            # a chunk that should finish the run is cut by count (with a margin in time), others by time
            needed = remaining / rate
            if needed <= _CHUNK_S:
                chunk = run_wrk(
                    url,
                    model=MODEL,
                    key=KEY,
                    concurrency=_CONCURRENCY,
                    seconds=min(left, needed * 1.5 + 2),
                    limit=remaining,
                )
            else:
                chunk = run_wrk(url, model=MODEL, key=KEY, concurrency=_CONCURRENCY, seconds=min(left, _CHUNK_S))
            done += chunk.requests
            errors += chunk.errors
            rate = max(chunk.rps, 50.0)
        final_mib = _mib(gateway.pid)
        return MemoryResult(
            start_mib=start_mib,
            warm_requests=first.requests,
            warm_mib=warm_mib,
            total_requests=done,
            final_mib=final_mib,
            growth_pct=round(100 * (final_mib - warm_mib) / warm_mib, 1) if warm_mib else 0.0,
            seconds=round(time.monotonic() - started, 1),
            capped=done < requests,
            errors=errors,
        )


def format_memory(result: MemoryResult) -> list[str]:
    """Markdown table lines for one memory run."""
    lines = ["| RSS at start | after N1 requests | after N2 requests | growth N1->N2 | seconds | errors |"]
    lines.append("|---|---|---|---|---|---|")
    capped = " (time cap reached)" if result.capped else ""
    lines.append(
        f"| {result.start_mib} MiB | {result.warm_mib} MiB (N1={result.warm_requests:,}) | "
        f"{result.final_mib} MiB (N2={result.total_requests:,}{capped}) | {result.growth_pct}% | "
        f"{result.seconds} | {result.errors} |"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run and print the memory benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench memory")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--max-seconds", type=float, default=200.0)
    parser.add_argument("--json", action="store_true")
    add_traces_argument(parser)
    args = parser.parse_args(argv)
    result = run_memory(args.requests, args.max_seconds, args.traces)
    if args.json:
        sys.stdout.write(msgspec.json.encode(asdict(result)).decode() + "\n")
    else:
        print("\n".join(format_memory(result)))
    return 0
