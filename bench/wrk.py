"""Non-streaming load with ``wrk`` (Debian package ``wrk``): fixed concurrency, bounded in time and count.

A generated Lua script sets the POST body (its user message numbered, so no two requests carry the same
text) and the bearer header and prints one machine-readable ``BENCH``
line from wrk's ``done`` hook (requests, duration, error counts, p50/p99/mean latency in microseconds).
With ``limit`` the script stops wrk's single thread after that many responses, so the memory benchmark can
send an exact-ish request count; the duration is always the hard cap. wrk runs with one thread: on two cores
the load generator must stay small, and one epoll thread drives 64 connections easily.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import msgspec

__all__ = ["WrkResult", "run_wrk", "wrk_available"]

_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
local head, tail = [==[{head}]==], [==[{tail}]==]
local sent = 0
local limit = {limit}
local count = 0
function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil, head .. sent .. tail)
end
{response_hook}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %.1f %.1f %.1f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""

_RESPONSE_HOOK = """
function response(status, headers, body)
  count = count + 1
  if count >= limit then wrk.thread:stop() end
end
"""


@dataclass
class WrkResult:
    """One wrk run: completed requests, wall time and latency percentiles."""

    requests: int
    duration_s: float
    errors: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        """Requests per second over the run."""
        return self.requests / self.duration_s if self.duration_s else 0.0


def wrk_available() -> bool:
    """Whether ``wrk`` is on PATH."""
    return shutil.which("wrk") is not None


def _body_parts(model: str) -> tuple[str, str]:
    """The body around the request number: every request's user message differs (see ``bench.loadgen``)."""
    payload = {"model": model, "messages": [{"role": "user", "content": "hello benchmark world 0"}], "stream": False}
    head, tail = msgspec.json.encode(payload).decode().split("world 0", 1)
    return head + "world ", tail


def run_wrk(
    url: str, *, model: str, key: str, concurrency: int, seconds: float, limit: int = 0, timeout_s: float = 10
) -> WrkResult:
    """POST chat completions to ``url`` with ``concurrency`` connections for ``seconds`` (or ``limit`` responses).

    Raises:
        RuntimeError: wrk is missing, failed, or printed no result line.
    """
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk not found on PATH (apt-get install wrk; `make bench` does it)")
    hook = _RESPONSE_HOOK if limit > 0 else ""
    head, tail = _body_parts(model)
    script = _SCRIPT.format(head=head, tail=tail, key=key, limit=limit, response_hook=hook)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    duration = max(1, round(seconds))
    argv = [binary, "-t1", f"-c{concurrency}", f"-d{duration}s", f"--timeout={round(timeout_s)}s", "-s", handle.name]
    try:
        done = subprocess.run(
            [*argv, url], capture_output=True, text=True, timeout=duration + timeout_s + 15, check=False
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            fields = line.split()[1:]
            requests, micros, *errors = (int(v) for v in fields[:7])
            p50, p99, mean = (float(v) / 1000 for v in fields[7:10])
            return WrkResult(requests, micros / 1e6, sum(errors), p50, p99, mean)
    raise RuntimeError(f"wrk failed (status {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
