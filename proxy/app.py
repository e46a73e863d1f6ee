"""The composition root: ``create_app(settings)`` builds the Litestar app and its lifespan.

Everything long-lived (the store, the pooled upstream client, the route table, the guard
stages) is built here, once, inside the lifespan, and handed to handlers through one
dependency (``gateway``). There are no module globals: two apps in one process (as the
tests run them) share nothing. The guard worker pool (``proxy.guard_workers``) is one per app
too: started in the lifespan (it waits for the workers to be up) and stopped last.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException

from proxy.auth import Authenticator
from proxy.cache import ResponseCache
from proxy.errors import GatewayError
from proxy.guard_stages import build_stages
from proxy.guard_workers import GuardWorkers
from proxy.http_errors import handle_gateway_error, handle_http_exception, handle_unexpected
from proxy.input_guards import InputGuardsError
from proxy.limits import Limits, TokenCounter, encoding_name_for
from proxy.middleware import RequestIdMiddleware
from proxy.providers.registry import build_provider
from proxy.reload import Reloader
from proxy.routes.admin import admin_routes
from proxy.routes.chat import list_models
from proxy.routes.chat_asgi import chat_completions
from proxy.routes.health import healthz, readyz
from proxy.routes.metrics import metrics
from proxy.routing.breaker import breaker_policy
from proxy.routing.table import RouteTable
from proxy.settings import ConfigError
from proxy.state import GatewayState
from proxy.store.factory import create_store
from proxy.telemetry import Telemetry, TracingSetupError
from proxy.upstream import UpstreamClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from proxy.settings import Settings
    from schemas.keys import KeyRecord

__all__ = ["build_state", "create_app"]

_log = logging.getLogger("gateway")


def build_state(
    settings: Settings, extra_keys: Iterable[KeyRecord] = (), *, workers: GuardWorkers | None = None
) -> GatewayState:
    """Build every long-lived object from the settings (no I/O yet).

    ``workers``: the app's guard worker pool (a new, unstarted one when not given).
    """
    config = settings.config
    if workers is None:
        workers = GuardWorkers(p.output for p in config.guard_policies.values())
    providers = {
        p.name: (build_provider(p, settings.provider_keys.get(p.name)), p.timeouts)
        for p in config.providers
        if p.name not in settings.unconfigured_providers
    }
    models = []
    for model in config.models:
        deployments = [d for d in model.deployments if d.provider in providers]
        if deployments:
            models.append(msgspec.structs.replace(model, deployments=deployments))
        else:
            _log.warning("model %s is not served: none of its providers has its API key set", model.name)
    store = create_store(config.store)
    tokens = TokenCounter()
    for model in models:
        # Load the BPE ranks now: the first request should not pay a second of parsing.
        encoding = encoding_name_for(model.tokenizer or model.deployments[0].model)
        if encoding is not None:
            tokens.encoding(encoding)
    try:
        inputs, outputs, structured = build_stages(
            config, settings.path.parent if settings.path else None, workers=workers
        )
    except InputGuardsError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    try:
        telemetry = Telemetry.from_settings(settings)
    except TracingSetupError as exc:
        raise ConfigError(f"invalid telemetry environment: {exc}") from exc
    return GatewayState(
        settings=settings,
        routes=RouteTable(models, providers, breaker=breaker_policy(config.retry)),
        client=UpstreamClient(),
        store=store,
        limits=Limits(
            store,
            {t.id: t.limits for t in config.tenants},
            lease_ms=int(config.store.reservation_lease_s * 1000),
        ),
        auth=Authenticator(config.tenants, store, cache_ttl_s=config.server.key_cache_ttl_s, extra_keys=extra_keys),
        tokens=tokens,
        input_stages=inputs,
        output_stages=outputs,
        structured=structured,
        cache=ResponseCache.from_config(store, config, settings.path.parent if settings.path else None),
        telemetry=telemetry,
        guard_workers=workers,
    )


def create_app(settings: Settings, *, extra_keys: Iterable[KeyRecord] = ()) -> Litestar:
    """The gateway as an ASGI app; ``extra_keys`` are static keys added to the config's (the demo key)."""
    workers = GuardWorkers(p.output for p in settings.config.guard_policies.values())
    state = build_state(settings, extra_keys, workers=workers)

    reloader = Reloader(state, settings.path)
    state.reloader = reloader

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await state.client.start()
        await state.store.warm()
        await reloader.start()
        state.telemetry.startup()
        await workers.start()
        try:
            yield
        finally:
            await reloader.stop()
            await state.detached.drain()
            await workers.aclose()
            state.telemetry.shutdown()
            await state.client.aclose()
            await state.store.aclose()

    def provide_gateway() -> GatewayState:
        return state

    return Litestar(
        route_handlers=[chat_completions, list_models, healthz, readyz, metrics, *admin_routes],
        state=State({"gateway": state}),
        dependencies={"gateway": Provide(provide_gateway, sync_to_thread=False)},
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        middleware=[RequestIdMiddleware],
        lifespan=[lifespan],
        request_max_body_size=settings.config.server.max_body_bytes,
        openapi_config=None,
        debug=False,
    )
