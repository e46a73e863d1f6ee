"""``GatewayState``: the long-lived objects of one process, built once by the composition root.

Handlers receive it through dependency injection; nothing here is a module global. The
protocols at the top are the seams the request path calls into the guard layers through,
so the pipeline does not depend on how a guard is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from proxy.cache import ResponseCache
from proxy.pipeline.stream import Detached
from proxy.telemetry import Telemetry

if TYPE_CHECKING:
    from proxy.auth import Authenticator, Principal
    from proxy.guard_stages import StructuredOutputs
    from proxy.guard_workers import GuardWorkers
    from proxy.limits import Limits, TokenCounter
    from proxy.pipeline.plan import FilterLike
    from proxy.reload import Reloader
    from proxy.routing.table import RouteTable
    from proxy.settings import Settings
    from proxy.store.base import Store
    from proxy.upstream import UpstreamClient
    from schemas.chat import ChatCompletionRequest, ChatMessage

__all__ = ["GatewayState", "InputStage", "OutputStage", "PreparedInput"]


@dataclass(slots=True)
class PreparedInput:
    """What the input guards decided: the messages to send and the context the output guards need."""

    messages: list[ChatMessage]
    system_prompt: str | None = None
    canaries: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    """Rule ids that fired (neutralize/observe); for audit, spans and metrics."""


class InputStage(Protocol):
    """Request-side guards: role policy, templates, spotlighting, injection screen."""

    def prepare(self, principal: Principal, request: ChatCompletionRequest, request_id: str) -> PreparedInput:
        """Return the messages to send, or raise a ``GatewayError`` (403 scope, 400 blocked)."""
        ...


class OutputStage(Protocol):
    """Response-side guards for one guard policy."""

    @property
    def active(self) -> bool:
        """False when the policy has no output guard (the relay then skips filtering)."""
        ...

    def plant(self, prepared: PreparedInput) -> PreparedInput:
        """Plant what the guards will look for later (a canary in the system prompt)."""
        ...

    def new_filter(self, prepared: PreparedInput) -> FilterLike:
        """A filter for one choice of one stream."""
        ...


class GatewayState:
    """Everything a request needs that outlives it.

    A plain class on purpose: Litestar models handler signatures with msgspec, which would
    try to resolve a dataclass's annotations; an opaque class is passed through as is.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        routes: RouteTable,
        client: UpstreamClient,
        store: Store,
        limits: Limits,
        auth: Authenticator,
        tokens: TokenCounter,
        input_stages: dict[str, InputStage] | None = None,
        output_stages: dict[str, OutputStage] | None = None,
        structured: StructuredOutputs | None = None,
        guard_workers: GuardWorkers | None = None,
        telemetry: Telemetry | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.settings = settings
        self.routes = routes
        self.client = client
        self.store = store
        self.limits = limits
        self.auth = auth
        self.tokens = tokens
        self.input_stages: dict[str, InputStage] = input_stages or {}
        """Guard policy name -> input stage."""
        self.output_stages: dict[str, OutputStage] = output_stages or {}
        """Guard policy name -> output stage."""
        self.structured = structured
        self.guard_workers = guard_workers
        """The output-guard worker pool (process mode), shared by reloads."""
        self.detached = Detached()
        self.cache = cache if cache is not None else ResponseCache(store)
        """The per-tenant response cache (``proxy.cache``)."""
        self.telemetry = telemetry or Telemetry.disabled()
        """Traces, metrics and the access log (``proxy.telemetry``)."""
        self.reloader: Reloader | None = None
        """Rebuilds the guard stages from the config file (set by the composition root)."""
