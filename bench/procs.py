"""Processes a benchmark runs: the fake upstream and gateway servers, each a child process on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Self

import msgspec

__all__ = ["Child", "cpu_seconds", "free_port", "start_fake_upstream", "start_gateway"]

_REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and its reaped children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


class Child:
    """A child process in its own process group, killed (with its workers) on exit."""

    def __init__(self, argv: list[str], base_url: str, proc: subprocess.Popen[bytes]) -> None:
        self.argv = argv
        self.base_url = base_url
        self.proc = proc

    @property
    def pid(self) -> int:
        """The child's pid."""
        return self.proc.pid

    def stop(self) -> None:
        """Terminate the process group, then kill what is left."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_fake_upstream() -> Child:
    """``python -m fakeupstream`` on a free port."""
    port = free_port()
    argv = [sys.executable, "-m", "fakeupstream", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(argv, cwd=_REPO, stdout=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    _wait_http(base + "/_control/stats", proc)
    return Child(argv, base, proc)


def start_gateway(config: dict[str, Any], *, workers: int = 1, env: dict[str, str] | None = None) -> Child:
    """``gateway serve`` with ``config`` written to a temp file, on a free port."""
    port = free_port()
    handle = tempfile.NamedTemporaryFile("wb", suffix=".yaml", delete=False)  # noqa: SIM115 - lives with the child
    handle.write(msgspec.yaml.encode(config))
    handle.close()
    argv = [sys.executable, "-m", "proxy", "serve", "--config", handle.name, "--port", str(port)]
    argv += ["--workers", str(workers)]
    proc = subprocess.Popen(
        argv, cwd=_REPO, stdout=subprocess.DEVNULL, start_new_session=True, env={**os.environ, **(env or {})}
    )
    base = f"http://127.0.0.1:{port}"
    _wait_http(base + "/healthz", proc)
    return Child(argv, base, proc)
