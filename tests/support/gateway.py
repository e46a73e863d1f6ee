"""Run the real gateway on a free loopback port in a background thread (httpx's serve_in_thread).

In-process ASGI clients buffer whole responses, so anything about incremental delivery,
disconnects or real sockets goes through this: uvicorn, a real TCP port, the official SDKs.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Self

import msgspec
import uvicorn
from litestar.di import Provide

from proxy.app import create_app
from proxy.auth import digest_key, mint_key
from proxy.settings import load_settings
from schemas.keys import KeyRecord

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from types import TracebackType

    from litestar import Litestar

    from proxy.state import GatewayState

__all__ = ["GatewayServer", "demo_config", "make_key"]


def make_key(tenant: str, *, key_id: str = "test", scopes: tuple[str, ...] = ("chat",)) -> tuple[str, KeyRecord]:
    """A fresh key and the record that makes it valid (pass it as an extra static key)."""
    key = mint_key()
    return key, KeyRecord(key_id=key_id, tenant=tenant, digest=digest_key(key), scopes=scopes)


def demo_config(**overrides: Any) -> dict[str, Any]:
    """A small config: memory store, the in-process fake provider, one tenant."""
    config: dict[str, Any] = {
        "store": {"kind": "memory"},
        "providers": [{"name": "fake", "kind": "fake"}],
        "models": [
            {"name": "echo", "deployments": [{"provider": "fake", "model": "echo"}]},
            {"name": "lorem", "deployments": [{"provider": "fake", "model": "lorem:20"}]},
        ],
        "tenants": [{"id": "acme"}],
    }
    config.update(overrides)
    return config


class GatewayServer:
    """The gateway app under uvicorn in a thread, on an ephemeral port."""

    def __init__(
        self,
        config: Mapping[str, Any],
        tmp_path: Path,
        *,
        extra_keys: tuple[KeyRecord, ...] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        path = tmp_path / "gateway.yaml"
        path.write_bytes(msgspec.yaml.encode(dict(config)))
        self.settings = load_settings(path, environ=environ or {})
        self.app: Litestar = create_app(self.settings, extra_keys=extra_keys)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning", loop="asyncio", lifespan="on")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.base_url = ""

    @property
    def state(self) -> GatewayState:
        """The app's long-lived objects (for assertions on limits, breakers, ...)."""
        provider = self.app.dependencies["gateway"]
        assert isinstance(provider, Provide)
        state: GatewayState = provider.dependency()
        return state

    def start(self) -> str:
        """Start serving; return ``http://127.0.0.1:<port>``."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=15)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
