"""Running the gateway under uvicorn (uvloop + httptools), one or several worker processes.

With ``--workers N`` uvicorn starts N processes from the import string
``proxy.asgi:app``; each loads the config named by ``GATEWAY_CONFIG`` itself. With
``--demo-key`` (the embedded ``make run`` setup) a random key is minted for the first
tenant, put in the store, and printed once with a curl example.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import uvicorn

from proxy.app import create_app
from proxy.auth import new_key
from proxy.settings import export_config_path

if TYPE_CHECKING:
    from proxy.settings import Settings
    from schemas.keys import KeyRecord

__all__ = ["freeze_startup_heap", "serve"]


def serve(settings: Settings, *, host: str | None, port: int | None, workers: int, demo_key: bool) -> int:
    """Serve until interrupted; returns the exit code."""
    server = settings.config.server
    bind_host = host or server.host
    bind_port = port if port is not None else server.port
    common: dict[str, object] = {
        "host": bind_host,
        "port": bind_port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_level": "info",
        "timeout_graceful_shutdown": 10,
        # Nothing reads the client address (the access log has no IP): rewriting it from
        # X-Forwarded-For would be one more middleware on every request for nothing.
        "proxy_headers": False,
    }
    if workers > 1:
        if demo_key:
            print("error: --demo-key needs a single worker (the memory store is per process)")
            return 2
        export_config_path(settings)
        uvicorn.run("proxy.asgi:app", workers=workers, **common)  # type: ignore[arg-type]
        return 0
    extra = _demo_key(settings, bind_host, bind_port) if demo_key else None
    app = create_app(settings, extra_keys=(extra,) if extra else ())
    freeze_startup_heap()
    uvicorn.run(app, **common)  # type: ignore[arg-type]
    return 0


def freeze_startup_heap() -> None:
    """Move everything built at startup out of the cyclic garbage collector's reach.

    The app's state (compiled rules, the classifier, Presidio and spaCy objects, the modules) is
    about 130,000 tracked objects that live as long as the process. A full collection walks all
    of them: measured at about 90 ms, a pause that lands on whichever request triggers it (the
    p99 outliers at concurrency 1). ``gc.freeze`` after one collection puts them in the permanent
    generation; a full collection then only walks what requests allocate. Only the serving
    process does this (the tests build apps in-process and keep the normal collector).
    """
    gc.collect()
    gc.freeze()


def _demo_key(settings: Settings, host: str, port: int) -> KeyRecord | None:
    tenants = settings.config.tenants
    if not tenants:
        print("no tenant in the config: no demo key")
        return None
    key, record = new_key(tenants[0].id, key_id="demo", scopes=("chat", "system"))
    model = settings.config.models[0].name if settings.config.models else "echo"
    print(
        f"\n  Gateway on http://{host}:{port}  (tenant {tenants[0].id!r}, store {settings.config.store.kind})\n"
        f"  Demo API key (valid while this process runs, shown once): {key}\n\n"
        f"  curl http://{host}:{port}/v1/chat/completions \\\n"
        f'    -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\\n'
        f'    -d \'{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello gateway"}}]}}\'\n',
        flush=True,
    )
    return record
