"""The processes of the side-by-side benchmarks, and how their CPU and memory are read.

Everything listens on 127.0.0.1 on a free port, keeps its files in a temporary directory of the run, and is
killed (with its whole process group) when the ``Stack`` closes. The gateway runs with full enforcement:
a static key (auth from the in-process cache), request/token/spend limits on a private ``redis-server``
(one admission and one settle call per request), the default input policy (injection screen with the
classifier), the PII and leak output guards, Prometheus metrics, the access log, and tracing.

Tracing (``Stack(traces=...)``): ``noop`` (the default) runs the gateway with
``OTEL_TRACES_EXPORTER=noop``: every span is built, ended and batched by the SDK's ``BatchSpanProcessor``,
then dropped by the gateway's discarding exporter (issue 9's "tracing with a no-op exporter"). ``otlp``
instead exports OTLP/HTTP protobuf to a local nginx that answers 200 and discards (started once, on the
first gateway): that adds the exporter's serialisation, as against a real collector.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import msgspec

from bench.procs import free_port

if TYPE_CHECKING:
    import argparse

__all__ = [
    "KEY",
    "MODEL",
    "TRACES",
    "UPSTREAM_MODEL",
    "Proc",
    "Stack",
    "add_traces_argument",
    "enforced_config",
    "tree_cpu_seconds",
    "tree_pids",
    "tree_rss_bytes",
]

KEY = "gw-bench-suite-key-0123456789abcdef"
"""The bearer key every target is called with (the fake upstream ignores it)."""
MODEL = "bench"
UPSTREAM_MODEL = "fake;words=16"
"""16 words of lorem text: one chunk per word when streaming."""

TRACES = ("noop", "otlp")
"""How the enforced gateway's spans end: dropped by the no-op exporter, or sent over OTLP to a sink."""

_HOST = "127.0.0.1"
_REPO = Path(__file__).resolve().parents[1]
_BIG = 1_000_000_000


def add_traces_argument(parser: argparse.ArgumentParser) -> None:
    """``--traces noop|otlp`` for a benchmark's command line."""
    parser.add_argument(
        "--traces",
        choices=TRACES,
        default="noop",
        help="gateway spans: the no-op exporter (default), or OTLP/HTTP to a discarding sink",
    )


def tree_pids(pid: int) -> list[int]:
    """``pid`` and every live descendant (nginx workers, uvicorn workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid``, its live descendants and their reaped children."""
    total = 0.0
    for each in tree_pids(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def tree_rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` and its live descendants (``VmRSS``), in bytes."""
    total = 0
    for each in tree_pids(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


class Proc:
    """One child process in its own process group, answering on ``url``."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.name = name
        self.proc = proc
        self.url = url
        self.log = log

    @property
    def pid(self) -> int:
        """The child's pid (the root of its process tree)."""
        return self.proc.pid

    def cpu(self) -> float:
        """CPU seconds used so far by the whole process tree."""
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL what is left after 10 s."""
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def _probe_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def _probe_redis(port: int) -> bool:
    import socket

    try:
        with socket.create_connection((_HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Stack:
    """A temporary directory and the children started in it; closing stops them all, newest first."""

    def __init__(self, *, traces: str = "noop") -> None:
        if traces not in TRACES:
            raise ValueError(f"traces must be one of {TRACES}, not {traces!r}")
        self.dir = Path(tempfile.mkdtemp(prefix="gw-bench-"))
        self._procs: list[Proc] = []
        self.traces = traces
        self._sink: Proc | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every child and remove the directory."""
        while self._procs:
            self._procs.pop().stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def spawn(
        self, name: str, argv: list[str], ready: Any, *, url: str, env: dict[str, str] | None = None, wait_s: float = 40
    ) -> Proc:
        """Start ``argv``; wait until ``ready()`` is true (the child's log is named in the error)."""
        log = self.dir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                cwd=_REPO,
                stdout=subprocess.DEVNULL,
                stderr=out,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        child = Proc(name, proc, url, log)
        self._procs.append(child)
        deadline = time.monotonic() + wait_s
        while not ready():
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with status {proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come up within {wait_s} s (log: {log})")
            time.sleep(0.05)
        return child

    def redis(self) -> Proc:
        """A private ``redis-server`` that persists nothing."""
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server not found on PATH (`make redis-server` installs it)")
        port = free_port()
        argv = [server, "--port", str(port), "--bind", _HOST, "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.dir)]
        return self.spawn("redis", argv, lambda: _probe_redis(port), url=f"redis://{_HOST}:{port}/0")

    def fake_upstream(self) -> Proc:
        """``python -m fakeupstream`` on a free port."""
        port = free_port()
        argv = [sys.executable, "-m", "fakeupstream", "--host", _HOST, "--port", str(port)]
        url = f"http://{_HOST}:{port}"
        return self.spawn("fakeupstream", argv, lambda: _probe_http(url + "/_control/stats"), url=url)

    def traces_env(self) -> dict[str, str]:
        """The OTel environment of a gateway this stack starts (starts the OTLP sink on first use)."""
        if self.traces == "noop":
            return {"OTEL_TRACES_EXPORTER": "noop"}
        if self._sink is None:
            from bench.nginx import start_otlp_sink  # bench.nginx imports this module

            self._sink = start_otlp_sink(self)
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": self._sink.url + "/v1/traces",
        }

    def gateway(self, config: dict[str, Any], *, name: str = "gateway", workers: int = 1) -> Proc:
        """``python -m proxy serve`` with ``config``; spans (when the config traces) as ``traces`` says."""
        port = free_port()
        path = self.dir / f"{name}.yaml"
        path.write_bytes(msgspec.yaml.encode(config))
        argv = [sys.executable, "-m", "proxy", "serve", "--config", str(path), "--host", _HOST, "--port", str(port)]
        argv += ["--workers", str(workers)]
        env = self.traces_env()
        url = f"http://{_HOST}:{port}"
        return self.spawn(name, argv, lambda: _probe_http(url + "/healthz"), url=url, env=env)


def enforced_config(
    upstream: str,
    redis_url: str,
    *,
    upstream_model: str = UPSTREAM_MODEL,
    burst_rpm: int | None = None,
) -> dict[str, Any]:
    """The full-enforcement gateway config (limits high enough never to refuse the load).

    With ``burst_rpm`` a second tenant ``burst`` (key ``KEY + "-burst"``) gets a request bucket of that
    capacity, for the limit-accuracy check of the scale-out run.
    """
    from proxy.auth import digest_key

    limits = {
        "requests_per_minute": _BIG,
        "tokens_per_minute": _BIG,
        "spend": {"usd": 1_000_000, "window": "24h"},
    }
    tenants: list[dict[str, Any]] = [
        {"id": "bench", "limits": limits, "keys": [{"id": "bench", "digest": digest_key(KEY)}]},
    ]
    if burst_rpm is not None:
        tenants.append(
            {
                "id": "burst",
                "limits": {"requests_per_minute": burst_rpm},
                "keys": [{"id": "burst", "digest": digest_key(KEY + "-burst")}],
            }
        )
    return {
        "store": {"kind": "redis", "url": redis_url},
        "providers": [{"name": "up", "kind": "openai", "base_url": upstream + "/v1"}],
        "models": [
            {
                "name": MODEL,
                "deployments": [{"provider": "up", "model": upstream_model}],
                "price": {"input_per_mtok_usd": 2.5, "output_per_mtok_usd": 10.0},
            }
        ],
        "tenants": tenants,
        "guard_policies": {"default": {"input": {"injection": {}}, "output": {"pii": {}, "leak": {}}}},
    }
