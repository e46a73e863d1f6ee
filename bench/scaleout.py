"""Scale-out: 1, 2 and 4 gateway processes on one Redis: throughput, and limit accuracy under a burst.

``python -m bench scaleout [--seconds S] [--json]``

For each N, N separate ``gateway serve`` processes (replicas: each its own port, config and Redis
connection pool) share one private redis-server. Throughput: N wrk processes at once, one per replica,
64/N connections each, non-streaming, full enforcement; the rows sum them. Limit accuracy: a tenant whose
request bucket holds ``--capacity`` requests per minute gets a burst of 3x that many requests, spread
round-robin over the N replicas at concurrency 64. Admission is one atomic Lua call in Redis, so the
admitted count must be the capacity, plus at most what the bucket refilled while the burst lasted.
Redis is flushed between rounds so every round starts with a full bucket.

On a 2-core machine N > 2 cannot add throughput (the fake upstream, Redis and wrk share the cores); the
row shows what the extra replicas cost, and the burst checks exactness across replicas, which is the
point of running several.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import aiohttp
import msgspec
import redis

from bench.stack import KEY, MODEL, Stack, add_traces_argument, enforced_config
from bench.wrk import run_wrk

__all__ = ["ScaleRow", "format_scaleout", "main", "run_scaleout"]

_CONCURRENCY = 64


@dataclass
class ScaleRow:
    """One replica count: throughput and the burst's admissions."""

    replicas: int
    rps: float
    p50_ms: float
    p99_ms: float
    gateway_cpu_ms_per_req: float
    errors: int
    burst_sent: int
    burst_admitted: int
    burst_refused: int
    burst_other: int
    capacity: int
    refill_allowance: int
    """Requests the bucket could have refilled while the burst lasted (capacity/60 per second)."""
    burst_seconds: float

    @property
    def accurate(self) -> bool:
        """Admitted no more than capacity + refill, and no fewer than the capacity."""
        return self.capacity <= self.burst_admitted <= self.capacity + self.refill_allowance


async def _burst(urls: list[str], total: int) -> tuple[dict[int, int], float]:
    body = msgspec.json.encode({"model": MODEL, "messages": [{"role": "user", "content": "burst"}]})
    headers = {"authorization": f"Bearer {KEY}-burst", "content-type": "application/json"}
    counts: dict[int, int] = {}
    targets = itertools.cycle(urls)
    pending = iter(range(total))
    connector = aiohttp.TCPConnector(limit=_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def worker() -> None:
            for _ in pending:
                try:
                    async with session.post(next(targets), data=body, headers=headers) as response:
                        await response.read()
                        counts[response.status] = counts.get(response.status, 0) + 1
                except (aiohttp.ClientError, TimeoutError):
                    counts[0] = counts.get(0, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(_CONCURRENCY)))
        return counts, time.perf_counter() - started


def _round(stack: Stack, replicas: int, fake_url: str, redis_url: str, *, seconds: float, capacity: int) -> ScaleRow:
    config = enforced_config(fake_url, redis_url, burst_rpm=capacity)
    gateways = [stack.gateway(config, name=f"gw{replicas}-{i}") for i in range(replicas)]
    urls = [g.url + "/v1/chat/completions" for g in gateways]
    per = max(1, _CONCURRENCY // replicas)
    with ThreadPoolExecutor(replicas) as pool:
        list(pool.map(lambda u: run_wrk(u, model=MODEL, key=KEY, concurrency=per, seconds=1), urls))
        cpu0 = sum(g.cpu() for g in gateways)
        results = list(pool.map(lambda u: run_wrk(u, model=MODEL, key=KEY, concurrency=per, seconds=seconds), urls))
    cpu = sum(g.cpu() for g in gateways) - cpu0
    done = sum(r.requests for r in results)
    counts, burst_s = asyncio.run(_burst(urls, 3 * capacity))
    for gateway in gateways:
        gateway.stop()
    return ScaleRow(
        replicas=replicas,
        rps=round(sum(r.rps for r in results), 1),
        p50_ms=round(max(r.p50_ms for r in results), 3),
        p99_ms=round(max(r.p99_ms for r in results), 3),
        gateway_cpu_ms_per_req=round(cpu * 1000 / max(1, done), 3),
        errors=sum(r.errors for r in results),
        burst_sent=3 * capacity,
        burst_admitted=counts.get(200, 0),
        burst_refused=counts.get(429, 0),
        burst_other=sum(n for status, n in counts.items() if status not in (200, 429)),
        capacity=capacity,
        refill_allowance=math.ceil(burst_s * capacity / 60) + 1,
        burst_seconds=round(burst_s, 2),
    )


def run_scaleout(
    counts: tuple[int, ...] = (1, 2, 4), *, seconds: float = 4.0, capacity: int = 300, traces: str = "noop"
) -> list[ScaleRow]:
    """One round per replica count, on one Redis and one fake upstream."""
    rows = []
    with Stack(traces=traces) as stack:
        fake = stack.fake_upstream()
        store = stack.redis()
        client = redis.Redis.from_url(store.url)
        try:
            for replicas in counts:
                client.flushall()
                rows.append(_round(stack, replicas, fake.url, store.url, seconds=seconds, capacity=capacity))
        finally:
            client.close()
    return rows


def format_scaleout(rows: list[ScaleRow]) -> list[str]:
    """Markdown table lines."""
    lines = [
        "| replicas | req/s | worst p50 ms | worst p99 ms | gateway CPU ms/req | errors "
        "| burst sent | admitted | 429 | other | capacity (+refill) | accurate |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {r.replicas} | {r.rps} | {r.p50_ms} | {r.p99_ms} | {r.gateway_cpu_ms_per_req} | {r.errors} "
        f"| {r.burst_sent} | {r.burst_admitted} | {r.burst_refused} | {r.burst_other} "
        f"| {r.capacity} (+{r.refill_allowance}) | {'PASS' if r.accurate else 'MISS'} |"
        for r in rows
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run and print the scale-out benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench scaleout")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--capacity", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    add_traces_argument(parser)
    args = parser.parse_args(argv)
    rows = run_scaleout(seconds=args.seconds, capacity=args.capacity, traces=args.traces)
    if args.json:
        sys.stdout.write(msgspec.json.encode([{**asdict(r), "accurate": r.accurate} for r in rows]).decode() + "\n")
    else:
        print("\n".join(format_scaleout(rows)))
    return 0
