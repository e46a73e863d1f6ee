"""Cost of exact limits: Redis round trips per request and the latency the gateway adds, limits on vs off.

```
python -m bench.limits [--requests N] [--json]
```

Starts its own private ``redis-server`` on a free loopback port, the fake upstream (``python -m fakeupstream``)
and two gateway processes (``python -m proxy serve``): one on that Redis, one on the in-memory store. Then:

* **Round trips**: ``INFO commandstats`` before and after N requests of a tenant with every limit (requests,
  tokens, spend), non-streaming and streaming, must show exactly 2N ``EVALSHA`` calls (one admission, one
  settle per request). A ``MONITOR`` connection checks that the gateway sent no other command: commands run
  inside the Lua scripts are listed by MONITOR as ``[0 lua]`` and are not round trips.
* **Latency**: N sequential non-streaming requests per mode, interleaved: straight to the fake upstream, then
  through the gateway for a tenant with no limits (still metered in Redis), a tenant with limits on Redis, and a
  tenant with limits on the memory store. "Added" is the gateway's p50 minus the direct p50.

Bounded: every step has a timeout and the whole run takes well under a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import redis

from proxy.auth import digest_key

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["main"]

_HOST = "127.0.0.1"
_ADMIN = "gw-bench-admin-0123456789abcdef"
_PRICE = {"input_per_mtok_usd": 2.5, "output_per_mtok_usd": 10.0}
_UPSTREAM_MODEL = "bench;words=8"
_BODY = {"model": "m", "messages": [{"role": "user", "content": "How many round trips?"}], "max_tokens": 16}
_LIMITED = {"requests_per_minute": 1_000_000, "tokens_per_minute": 100_000_000, "spend": {"usd": 1000}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((_HOST, 0))
        return int(s.getsockname()[1])


def _key(tenant: str) -> str:
    return f"gw-bench-{tenant}-0123456789abcdefghij"


def _wait(check: Any, what: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        with contextlib.suppress(OSError, redis.RedisError, http.client.HTTPException):
            if check():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout}s")
        time.sleep(0.05)


def _spawn(cmd: Sequence[str], log: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)


def _killpg(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(_HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


@contextlib.contextmanager
def _processes(workdir: Path) -> Iterator[dict[str, int]]:
    """Redis, the fake upstream and two gateways; yields their ports."""
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("redis-server not found on PATH (apt-get install redis-server)")
    procs: list[subprocess.Popen[bytes]] = []
    ports = {"redis": _free_port(), "upstream": _free_port(), "gw_redis": _free_port(), "gw_memory": _free_port()}
    try:
        procs.append(
            _spawn(
                [server, "--port", str(ports["redis"]), "--bind", _HOST, "--save", "", "--appendonly", "no"],
                workdir / "redis.log",
                cwd=workdir,
            )
        )
        up = [sys.executable, "-m", "fakeupstream", "--host", _HOST, "--port", str(ports["upstream"])]
        procs.append(_spawn(up, workdir / "upstream.log"))
        _wait(lambda: redis.Redis(port=ports["redis"]).ping(), "redis-server", procs[0])
        _wait(lambda: _get(ports["upstream"], "/_control/stats") == 200, "fake upstream", procs[1])
        for name, store in (
            ("gw_redis", {"kind": "redis", "url": f"redis://{_HOST}:{ports['redis']}/0"}),
            ("gw_memory", {"kind": "memory"}),
        ):
            path = workdir / f"{name}.yaml"
            path.write_bytes(msgspec.yaml.encode(_config(store, ports["upstream"])))
            cmd = [sys.executable, "-m", "proxy", "serve", "--config", str(path), "--host", _HOST]
            procs.append(_spawn([*cmd, "--port", str(ports[name])], workdir / f"{name}.log"))
        for name, proc in zip(("gw_redis", "gw_memory"), procs[2:], strict=True):
            check = lambda name=name: _get(ports[name], "/healthz") == 200  # noqa: E731
            _wait(check, f"gateway {name} (log: {workdir / name}.log)", proc, timeout=40)
        yield ports
    finally:
        for proc in reversed(procs):
            _killpg(proc)


def _config(store: dict[str, Any], upstream_port: int) -> dict[str, Any]:
    return {
        "store": store,
        "admin": {"key_digest": digest_key(_ADMIN)},
        "providers": [{"name": "up", "kind": "openai", "base_url": f"http://{_HOST}:{upstream_port}/v1"}],
        "models": [{"name": "m", "deployments": [{"provider": "up", "model": _UPSTREAM_MODEL}], "price": _PRICE}],
        # the limits are under test, not the guards: no injection classifier (CPU per request on 2 cores)
        "guard_policies": {"default": {"input": {"injection": {"classifier": False}}}},
        "tenants": [
            {"id": t, "limits": limits, "keys": [{"id": f"{t}-key", "digest": digest_key(_key(t))}]}
            for t, limits in (("unlimited", {}), ("limited", _LIMITED))
        ],
    }


class _Client:
    """One keep-alive connection; ``post`` returns the seconds from send to the last body byte."""

    def __init__(self, port: int, path: str, tenant: str | None) -> None:
        self._conn = http.client.HTTPConnection(_HOST, port, timeout=10)
        self._path = path
        self._headers = {"content-type": "application/json"}
        if tenant is not None:
            self._headers["authorization"] = f"Bearer {_key(tenant)}"

    def post(self, body: dict[str, Any]) -> float:
        data = msgspec.json.encode(body)
        started = time.perf_counter()
        self._conn.request("POST", self._path, body=data, headers=self._headers)
        resp = self._conn.getresponse()
        resp.read()
        elapsed = time.perf_counter() - started
        if resp.status != 200:
            raise RuntimeError(f"{self._path} answered {resp.status}")
        return elapsed

    def close(self) -> None:
        self._conn.close()


class _Monitor:
    """``MONITOR`` in a thread: counts commands sent by clients (not those run inside Lua scripts)."""

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection((_HOST, port), timeout=5)
        self._sock.sendall(b"MONITOR\r\n")
        self._file = self._sock.makefile("rb")
        if not self._file.readline().startswith(b"+OK"):
            raise RuntimeError("MONITOR refused")
        self.client: dict[str, int] = {}
        self.lua = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in self._file:
                _, _, rest = line.partition(b" [")
                source, _, command = rest.partition(b"] ")
                name = command.split(b" ", 1)[0].strip(b'"\r\n').decode().lower()
                if source.endswith(b"lua"):
                    self.lua += 1
                elif name:
                    self.client[name] = self.client.get(name, 0) + 1

    def stop(self) -> None:
        self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=5)


def _evalsha_calls(client: redis.Redis) -> int:
    stats: dict[str, dict[str, int]] = client.info("commandstats")
    return stats.get("cmdstat_evalsha", {}).get("calls", 0)


_CONNECT_COMMANDS = ("hello", "client", "select", "auth")


def _round_trips(ports: dict[str, int], n: int) -> dict[str, Any]:
    rds = redis.Redis(port=ports["redis"])
    clients = {t: _Client(ports["gw_redis"], "/v1/chat/completions", t) for t in ("limited", "unlimited")}
    out: dict[str, Any] = {}
    try:
        for client in clients.values():
            client.post(_BODY)  # scripts loaded, connections open: the steady state
        time.sleep(0.2)
        for case, tenant, stream in (
            ("limits, unary", "limited", False),
            ("limits, stream", "limited", True),
            ("no limits, unary", "unlimited", False),
        ):
            body = _BODY | {"stream": True} if stream else _BODY
            before = _evalsha_calls(rds)
            monitor = _Monitor(ports["redis"])
            for _ in range(n):
                clients[tenant].post(body)
            deadline = time.monotonic() + 5  # a stream settles just after its last byte
            while _evalsha_calls(rds) - before < 2 * n and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.1)
            monitor.stop()
            evalsha = _evalsha_calls(rds) - before
            # Opening a pooled connection (when a settle overlaps the next admit) sends HELLO and
            # CLIENT SETINFO once: connection set-up, not a per-request round trip.
            others = {k: v for k, v in monitor.client.items() if k not in ("evalsha", "info", *_CONNECT_COMMANDS)}
            out[case] = {
                "requests": n,
                "evalsha": evalsha,
                "evalsha_per_request": evalsha / n,
                "client_commands_per_request": monitor.client.get("evalsha", 0) / n,
                "connection_setup_commands": {k: v for k, v in monitor.client.items() if k in _CONNECT_COMMANDS},
                "other_client_commands": others,
                "lua_internal_commands_per_request": monitor.lua / n,
                "exact": evalsha == 2 * n and monitor.client.get("evalsha", 0) == 2 * n and not others,
            }
    finally:
        for client in clients.values():
            client.close()
        rds.close()
    return out


def _latency(ports: dict[str, int], n: int, warmup: int) -> dict[str, dict[str, float]]:
    modes = {
        "direct upstream": _Client(ports["upstream"], "/v1/chat/completions", None),
        "gateway, no limits (redis)": _Client(ports["gw_redis"], "/v1/chat/completions", "unlimited"),
        "gateway, limits on (redis)": _Client(ports["gw_redis"], "/v1/chat/completions", "limited"),
        "gateway, limits on (memory)": _Client(ports["gw_memory"], "/v1/chat/completions", "limited"),
    }
    samples: dict[str, list[float]] = {name: [] for name in modes}
    direct_body = _BODY | {"model": _UPSTREAM_MODEL}
    try:
        for i in range(warmup + n):
            for name, client in modes.items():  # interleaved, so drift hits every mode alike
                took = client.post(direct_body if name == "direct upstream" else _BODY)
                if i >= warmup:
                    samples[name].append(took * 1000)
    finally:
        for client in modes.values():
            client.close()
    base = statistics.median(samples["direct upstream"])
    table: dict[str, dict[str, float]] = {}
    for name, ms in samples.items():
        ms.sort()
        p50 = statistics.median(ms)
        table[name] = {
            "p50_ms": round(p50, 3),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3),
            "mean_ms": round(statistics.fmean(ms), 3),
            "added_p50_ms": round(p50 - base, 3),
        }
    return table


def _print_table(result: dict[str, Any]) -> None:
    print(f"Redis round trips per request ({result['requests']} requests each; limits = requests, tokens, spend)")
    print(f"  {'case':<17} {'EVALSHA/req':>12} {'client cmds/req':>16} {'Lua-internal/req':>17}  exact")
    for kind, row in result["round_trips"].items():
        print(
            f"  {kind:<17} {row['evalsha_per_request']:>12.2f} {row['client_commands_per_request']:>16.2f} "
            f"{row['lua_internal_commands_per_request']:>17.1f}  {row['exact']}"
        )
    print(f"\nLatency, sequential non-streaming requests ({result['requests']} per mode, interleaved)")
    print(f"  {'mode':<30} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'added p50':>10}")
    for name, row in result["latency"].items():
        print(
            f"  {name:<30} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['mean_ms']:>8.2f} "
            f"{row['added_p50_ms']:>10.2f}"
        )
    on, off = result["latency"]["gateway, limits on (redis)"], result["latency"]["gateway, no limits (redis)"]
    print(f"\n  limits on vs off (redis): {on['p50_ms'] - off['p50_ms']:+.2f} ms at p50")


def run(requests: int = 200, warmup: int = 20) -> dict[str, Any]:
    """Run the benchmark and return its numbers (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp, _processes(Path(tmp)) as ports:
        started = time.monotonic()
        trips = _round_trips(ports, requests)
        latency = _latency(ports, requests, warmup)
        return {
            "requests": requests,
            "round_trips": trips,
            "latency": latency,
            "seconds": round(time.monotonic() - started, 2),
        }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: prints a table, or JSON with ``--json``; exit code 1 if the round trips are not exact."""
    parser = argparse.ArgumentParser(prog="python -m bench.limits", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", "-n", type=int, default=200, help="requests per measurement (default 200)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = run(args.requests, args.warmup)
    if args.json:
        print(msgspec.json.encode(result).decode())
    else:
        _print_table(result)
    return 0 if all(row["exact"] for row in result["round_trips"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
