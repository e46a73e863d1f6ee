"""Gateway replicas as real processes: ``python -m proxy serve`` on a free loopback port.

Load and fault tests need what a thread cannot give: several processes sharing one store, and a replica that
dies with SIGKILL. Each process runs in its own session (process group), logs to a file in its directory, and is
killed with its whole group at teardown, so no uvicorn child outlives a test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import msgspec

from tests.support.redis import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from types import TracebackType

__all__ = ["GatewayProcess", "HttpReply", "gateway_processes", "http_request"]

_REPO = Path(__file__).resolve().parents[2]


class HttpReply(msgspec.Struct, frozen=True):
    """A plain HTTP answer: status, lower-cased headers, body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self.body)


def http_request(
    url: str, *, method: str = "GET", body: object = None, token: str | None = None, timeout: float = 10.0
) -> HttpReply:
    """One blocking request (stdlib only); error statuses are returned, not raised."""
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    data = None if body is None else msgspec.json.encode(body)
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return HttpReply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpReply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


class GatewayProcess:
    """One gateway replica: ``python -m proxy serve --config <dir>/gateway.yaml`` in its own process group."""

    def __init__(self, config: Mapping[str, Any], directory: Path, *, port: int | None = None) -> None:
        """Write the config; nothing starts until :meth:`launch` or :meth:`start`.

        Args:
            config: the gateway YAML as a mapping.
            directory: where the config and the process log go (created).
            port: the port to listen on (a free one when ``None``).
        """
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.config_path = directory / "gateway.yaml"
        self.config_path.write_bytes(msgspec.yaml.encode(dict(config)))
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The process id (also its process group id)."""
        assert self._proc is not None, "not launched"
        return self._proc.pid

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def log(self) -> str:
        """The process's output so far (for assertion messages)."""
        path = self.directory / "gateway.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def launch(self) -> None:
        """Start the process without waiting (several replicas then start in parallel)."""
        cmd = [sys.executable, "-m", "proxy", "serve", "--config", str(self.config_path)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        with (self.directory / "gateway.log").open("ab") as log:
            self._proc = subprocess.Popen(cmd, cwd=_REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 30.0, *, probe: str = "/healthz") -> str:
        """Wait until ``probe`` answers 200 (``/readyz``: the store answers too); return the base URL."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive:
                raise RuntimeError(f"gateway on port {self.port} exited:\n{self.log[-3000:]}")
            with contextlib.suppress(OSError):
                if http_request(self.base_url + probe, timeout=1.0).status == 200:
                    return self.base_url
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"gateway on port {self.port} not ready after {timeout}s:\n{self.log[-3000:]}")
            time.sleep(0.05)

    def start(self, timeout: float = 30.0, *, probe: str = "/healthz") -> str:
        """Launch and wait until ``probe`` answers 200; return the base URL."""
        self.launch()
        return self.wait_ready(timeout, probe=probe)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group and reap the process (SIGKILL: a crash, nothing flushed)."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=5)

    def stop(self) -> None:
        """SIGTERM (graceful: uvicorn drains and the lifespan settles), then SIGKILL the group if it lingers."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self.kill(signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)  # whatever is left of the group

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def gateway_processes(
    config: Mapping[str, Any], directory: Path, count: int, *, timeout: float = 60.0, probe: str = "/readyz"
) -> Iterator[Sequence[GatewayProcess]]:
    """``count`` replicas of one config, started in parallel, each taking traffic once ``probe`` answers 200
    (``/readyz`` by default, as a load balancer would); all stopped on exit."""
    procs = [GatewayProcess(config, directory / f"gw{i}") for i in range(count)]
    try:
        for proc in procs:
            proc.launch()
        for proc in procs:
            proc.wait_ready(timeout, probe=probe)
        yield procs
    finally:
        for proc in procs:
            proc.stop()
