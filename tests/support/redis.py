"""Private redis-server processes for tests: a standalone server and a 3-master Redis Cluster.

Never touches 127.0.0.1:6379. Every server listens on a free loopback port chosen here, keeps its files in a
temporary directory, persists nothing (``--save "" --appendonly no``) and is stopped at teardown. If
``redis-server`` is not on PATH the fixtures fail (not skip) with a message saying how to install it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["RedisCluster", "RedisServer", "free_port", "redis_binaries"]

_HOST = "127.0.0.1"


def redis_binaries() -> tuple[str, str]:
    """Paths of ``redis-server`` and ``redis-cli``; fails the test when they are missing."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        pytest.fail(
            "redis-server/redis-cli not found on PATH: tests marked 'redis' or 'cluster' need Redis 7 "
            "(`make deps` installs it, or `apt-get install redis-server`)",
            pytrace=False,
        )
    return server, cli


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((_HOST, port))
        except OSError:
            return False
    return True


def free_port(*, cluster_bus: bool = False) -> int:
    """A free loopback port other than 6379 (with ``cluster_bus``, port + 10000 is free too)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((_HOST, 0))
            port = int(s.getsockname()[1])
        if port == 6379 or (cluster_bus and (port > 55535 or not _port_free(port + 10000))):
            continue
        return port
    raise RuntimeError("no free loopback port")


def _ping(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One private redis-server process; ``stop()`` and ``start()`` again keep the same port (fault tests)."""

    def __init__(self, directory: Path, *, port: int | None = None, extra: Sequence[str] = ()) -> None:
        self.port = port or free_port()
        self.directory = directory
        self._extra = tuple(extra)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{_HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start the process and wait until it answers PING."""
        server, _ = redis_binaries()
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [server, "--port", str(self.port), "--bind", _HOST, "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.directory), "--daemonize", "no", "--loglevel", "warning", *self._extra]
        log = (self.directory / f"redis-{self.port}.log").open("ab")
        self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while not _ping(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not start; see {self.directory}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and wait for it."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


class RedisCluster:
    """Three cluster-enabled masters joined with ``redis-cli --cluster create`` (no replicas)."""

    def __init__(self, directory: Path, masters: int = 3) -> None:
        self.nodes: list[RedisServer] = []
        for i in range(masters):
            port = free_port(cluster_bus=True)
            extra = ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"]
            extra += ["--cluster-node-timeout", "2000"]
            self.nodes.append(RedisServer(directory / f"node{i}", port=port, extra=extra))

    @property
    def url(self) -> str:
        """URL of the first node (the cluster client discovers the others)."""
        return self.nodes[0].url

    def start(self, timeout: float = 30.0) -> None:
        """Start the nodes, create the cluster, and wait for ``cluster_state:ok`` on every node."""
        _, cli = redis_binaries()
        try:
            for node in self.nodes:
                node.start()
            addresses = [f"{_HOST}:{n.port}" for n in self.nodes]
            subprocess.run(
                [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
                check=True,
                capture_output=True,
                timeout=timeout,
            )
            deadline = time.monotonic() + timeout
            while not all(self._state_ok(cli, n.port) for n in self.nodes):
                if time.monotonic() > deadline:
                    raise RuntimeError("Redis Cluster did not reach cluster_state:ok")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _state_ok(cli: str, port: int) -> bool:
        out = subprocess.run(
            [cli, "-h", _HOST, "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5
        )
        return "cluster_state:ok" in out.stdout

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.stop()
