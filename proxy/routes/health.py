"""``/healthz`` (the process answers) and ``/readyz`` (the store answers and config is loaded)."""

from __future__ import annotations

from litestar import MediaType, Response, get

from proxy.routes.deps import Gateway

__all__ = ["healthz", "readyz"]


@get("/healthz", media_type=MediaType.JSON)
async def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(gateway: Gateway) -> Response[dict[str, object]]:
    """Readiness: 200 only when the shared store answers."""
    store_ok = await gateway.store.ping()
    body: dict[str, object] = {
        "status": "ok" if store_ok else "unavailable",
        "store": {"kind": gateway.settings.config.store.kind, "ok": store_ok},
        "models": len(gateway.routes.aliases),
    }
    return Response(body, status_code=200 if store_ok else 503, media_type=MediaType.JSON)
