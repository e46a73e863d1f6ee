"""An asyncio load generator for chat completions, streaming or not, at a fixed concurrency.

It records, per request, the latency to the full response and (for streams) the time to
the first content event. Runs are bounded by a request count and a wall-clock cap.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
import msgspec

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Result", "percentile", "print_rows", "request_bodies", "run_load"]


@dataclass
class Result:
    """The outcome of one load run."""

    latencies_ms: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0

    def p(self, q: float, which: str = "latency") -> float:
        """Percentile ``q`` (0-100) of latency or ttft, in ms."""
        return percentile(self.latencies_ms if which == "latency" else self.ttft_ms, q)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


async def _one(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], stream: bool, result: Result
) -> None:
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            if response.status != 200:
                await response.read()
                result.errors += 1
                return
            if stream:
                first = None
                async for line in response.content:
                    if first is None and line.startswith(b"data: {") and b'"content"' in line:
                        first = time.perf_counter()
                if first is not None:
                    result.ttft_ms.append((first - started) * 1000)
            else:
                await response.read()
    except (aiohttp.ClientError, TimeoutError):
        result.errors += 1
        return
    result.latencies_ms.append((time.perf_counter() - started) * 1000)


def request_bodies(model: str, *, stream: bool) -> Iterator[bytes]:
    """Chat request bodies whose one user message differs in every request ("hello benchmark world 17").

    A gateway remembers screen results of texts it has seen (a chat history comes back every turn), so a
    load that repeated one message would measure that memo, not the screening of a new message.
    """
    payload = {"model": model, "messages": [{"role": "user", "content": "hello benchmark world 0"}], "stream": stream}
    head, tail = msgspec.json.encode(payload).split(b"world 0", 1)
    for n in itertools.count():
        yield b"%sworld %d%s" % (head, n, tail)


async def run_load(
    url: str,
    *,
    model: str,
    key: str,
    stream: bool,
    concurrency: int,
    requests: int,
    max_seconds: float = 10.0,
    warmup: int = 20,
) -> Result:
    """POST ``requests`` chat completions with ``concurrency`` in flight; stop early at ``max_seconds``."""
    bodies = request_bodies(model, stream=stream)
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        scratch = Result()
        for _ in range(warmup):
            await _one(session, url, next(bodies), headers, stream, scratch)
        result = Result()
        remaining = requests
        deadline = time.perf_counter() + max_seconds
        started = time.perf_counter()

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                await _one(session, url, next(bodies), headers, stream, result)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - started
    return result


def print_rows(rows: list[dict[str, object]], *, as_json: bool) -> None:
    """Print benchmark rows as one JSON array, or as a Markdown table."""
    if as_json:
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
        return
    columns = list(rows[0])
    print(" | ".join(columns))
    print(" | ".join("---" for _ in columns))
    for row in rows:
        print(" | ".join("" if row[c] is None else str(row[c]) for c in columns))
