"""Test helpers for the fake upstream: an in-thread server fixture and a subprocess wrapper.

* ``fake_upstream`` (fixture): a started ``FakeUpstream`` per test (in a thread, own event loop).
* ``FakeUpstreamProcess``: ``python -m fakeupstream`` in a subprocess, for tests that kill it
  ("kill the primary"); ``stats()``/``script()``/``reset()`` go through the control API.

Register the fixture with ``pytest_plugins = ["tests.support.fake_upstream"]`` in a conftest.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Self

import msgspec
import pytest

from fakeupstream import FakeUpstream, Stats

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

__all__ = ["FakeUpstreamProcess", "fake_upstream", "fake_upstream_factory"]

_REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_upstream() -> Iterator[FakeUpstream]:
    """A running in-process fake upstream, stopped after the test."""
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def fake_upstream_factory() -> Iterator[type[FakeUpstream]]:
    """Start several fakes (e.g. a primary and a fallback); all are stopped after the test."""
    started: list[FakeUpstream] = []

    class _Tracked(FakeUpstream):
        def start(self) -> str:
            started.append(self)
            return super().start()

    yield _Tracked
    for fake in started:
        fake.stop()


class FakeUpstreamProcess:
    """``python -m fakeupstream`` on a free loopback port, as a child process."""

    def __init__(self, api_key: str = "") -> None:
        self._api_key = api_key
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self, timeout: float = 15.0) -> str:
        """Start the process and wait for its ``listening on`` line; return the base URL."""
        cmd = [sys.executable, "-m", "fakeupstream", "--host", "127.0.0.1", "--port", "0"]
        if self._api_key:
            cmd += ["--api-key", self._api_key]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=_REPO)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # the server prints it first, flushed
        if not line.startswith("listening on "):
            self.kill()
            raise RuntimeError(f"fake upstream did not start: {line!r}")
        self.base_url = line.removeprefix("listening on ").strip()
        return self.base_url

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._proc is not None
        return self._proc.pid

    def kill(self) -> None:
        """SIGKILL: the process dies with its connections open (no graceful close)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()

    def _post(self, path: str, payload: object) -> None:
        req = urllib.request.Request(
            self.base_url + path,
            data=msgspec.json.encode(payload),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            resp.read()

    def stats(self) -> Stats:
        """``GET /_control/stats``."""
        with urllib.request.urlopen(self.base_url + "/_control/stats", timeout=5) as resp:
            return msgspec.json.decode(resp.read(), type=Stats)

    def script(self, directive: str, count: int | None = None) -> None:
        """``POST /_control/script``."""
        self._post("/_control/script", {"directive": directive, "count": count})

    def reset(self) -> None:
        """``POST /_control/reset``."""
        self._post("/_control/reset", {})

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
