"""Instructions per request: the gateway under ``valgrind --tool=callgrind``, a count that noise cannot move.

``python -m bench instructions [--config bare|enforced] [--stream] [--traces noop|otlp] [--requests N] [--json]``

Latency and even CPU seconds swing by a factor of two on this 2-core machine when other work runs
beside the benchmark (steal time, shared caches); instruction counts repeat within about 1-2%. The
gateway runs under callgrind with instrumentation off; after a warm-up of 30 requests it is switched
on (``callgrind_control -i on``), ``--requests`` sequential requests are sent (a new connection each,
from this process), then the process settles for a few seconds (the span batch thread exports), and
the total is dumped and divided by the request count. Only user-space instructions of the gateway
process are counted: not the kernel (socket calls), not Redis, not the fake upstream.

Configs: ``bare`` is issue 2's overhead setup (memory store, no guards, no tracing: ``bench.overhead``);
``enforced`` is the full enforcement of ``bench.stack`` (Redis limits, injection screen, PII and leak
output guards, metrics, access log, tracing with the no-op or OTLP exporter). Needs ``valgrind``
(``apt-get install valgrind``); a run takes about 15 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import msgspec

from bench.procs import free_port
from bench.stack import KEY, MODEL, UPSTREAM_MODEL, Stack, add_traces_argument, enforced_config

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["count_instructions", "main"]

_WARMUP = 30
_SETTLE_S = 6.0
"""Longer than the span batch processor's 5 s schedule: its export is part of a request's cost."""


def _bare_config(upstream: str) -> dict[str, Any]:
    from proxy.auth import digest_key

    return {
        "store": {"kind": "memory"},
        "providers": [{"name": "up", "kind": "openai", "base_url": upstream + "/v1"}],
        "models": [{"name": MODEL, "deployments": [{"provider": "up", "model": UPSTREAM_MODEL}]}],
        "tenants": [{"id": "bench", "keys": [{"id": "bench", "digest": digest_key(KEY)}]}],
        "guard_policies": {"default": {"input": {"injection": {"enabled": False}, "spotlight": "off"}}},
    }


def _request(url: str, number: int, *, stream: bool) -> None:
    # A different text each time, as in the other benchmarks: a repeated one would hit the screen memo.
    text = f"Hello there, how are you? ({number})"
    body = {"model": MODEL, "messages": [{"role": "user", "content": text}], "stream": stream}
    request = urllib.request.Request(
        url, msgspec.json.encode(body), {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"the gateway answered {response.status}")


def _total(out: Path) -> int:
    total = 0
    for part in out.parent.glob(out.name + "*"):  # one file per thread
        for line in part.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
                break
    return total


def count_instructions(config: str, *, stream: bool, traces: str, requests: int) -> float:
    """Millions of gateway instructions per request."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise RuntimeError("valgrind not found (apt-get install valgrind)")
    with Stack(traces=traces) as stack:
        fake = stack.fake_upstream()
        settings = enforced_config(fake.url, stack.redis().url) if config == "enforced" else _bare_config(fake.url)
        path = stack.dir / "gateway.yaml"
        path.write_bytes(msgspec.yaml.encode(settings))
        out = stack.dir / "callgrind.out"
        port = free_port()
        argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", sys.executable]
        argv += ["-m", "proxy", "serve", "--config", str(path), "--host", "127.0.0.1", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        # issue 2's overhead setup traces nothing; the enforced gateway traces as --traces says
        env = stack.traces_env() if config == "enforced" else {"OTEL_TRACES_EXPORTER": "none"}
        gateway = stack.spawn("gateway", argv, lambda: _healthy(url), url=url, env=env, wait_s=600)
        chat = url + "/v1/chat/completions"
        for number in range(_WARMUP):
            _request(chat, number, stream=stream)
        time.sleep(_SETTLE_S)
        control = ["callgrind_control"]
        subprocess.run([*control, "-i", "on", str(gateway.pid)], check=True, capture_output=True)
        for number in range(_WARMUP, _WARMUP + requests):
            _request(chat, number, stream=stream)
        time.sleep(_SETTLE_S)
        subprocess.run([*control, "-d", str(gateway.pid)], check=True, capture_output=True)
        subprocess.run([*control, "-i", "off", str(gateway.pid)], check=True, capture_output=True)
        return _total(out) / requests / 1e6


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return int(response.status) == 200
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    """Run and print one count."""
    parser = argparse.ArgumentParser(prog="python -m bench instructions")
    parser.add_argument("--config", choices=("bare", "enforced"), default="enforced")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    add_traces_argument(parser)
    args = parser.parse_args(argv)
    millions = count_instructions(args.config, stream=args.stream, traces=args.traces, requests=args.requests)
    row = {
        "config": args.config,
        "mode": "stream" if args.stream else "unary",
        "traces": args.traces if args.config == "enforced" else "none",
        "requests": args.requests,
        "m_instructions_per_request": round(millions, 3),
    }
    if args.json:
        sys.stdout.write(msgspec.json.encode(row).decode() + "\n")
    else:
        print(" | ".join(f"{k}={v}" for k, v in row.items()))
    return 0
