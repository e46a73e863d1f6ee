"""``GET /metrics``: Prometheus exposition of the gateway's metrics (``proxy.telemetry.metrics``).

Unauthenticated, as Prometheus scrapes expect: serve it on an internal network only (the
deploy/ load balancer does not route it). Circuit-breaker states are read at scrape time,
so an open circuit whose cooldown passed shows as half-open without any traffic. 404 when
``telemetry.metrics`` is off.
"""

from __future__ import annotations

from litestar import Response, get
from litestar.exceptions import NotFoundException

from proxy.routes.deps import Gateway

__all__ = ["metrics"]


@get("/metrics", sync_to_thread=False)
def metrics(gateway: Gateway) -> Response[bytes]:
    """The exposition text (every worker's values when ``PROMETHEUS_MULTIPROC_DIR`` is set)."""
    registry = gateway.telemetry.metrics
    if registry is None:
        raise NotFoundException("metrics are disabled")
    registry.set_breakers(gateway.routes.breakers())
    stats = gateway.cache.stats
    registry.set_cache(stats.saved_micro_usd, stats.store_errors, degraded=stats.degraded)
    body, content_type = registry.render()
    return Response(body, media_type=content_type)
