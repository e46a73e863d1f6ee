"""The gateway's configuration: one frozen tree of strict Structs, decoded once at startup.

The YAML shape is DESIGN.md §9. Cross-references (a deployment's provider, a fallback
alias, a tenant's guard policy) are checked by ``GatewayConfig.problems()`` so that
``gateway check-config`` and startup report every broken reference with its path.
Secrets are never in this tree: providers and the admin key name environment variables.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import ConfigStruct
from schemas.cache import CacheConfig
from schemas.input_guard_config import InputPolicy
from schemas.limits import ModelPrice, TenantLimits
from schemas.output_guard_config import OutputPolicy
from schemas.providers import ProviderConfig
from schemas.store import StoreConfig
from schemas.telemetry import TelemetryConfig

__all__ = [
    "AdminConfig",
    "Deployment",
    "GatewayConfig",
    "GuardPolicy",
    "KeyConfig",
    "ModelConfig",
    "RetryConfig",
    "ServerConfig",
    "TenantConfig",
]

Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$")]
Digest = Annotated[str, msgspec.Meta(pattern=r"^sha256:[0-9a-f]{64}$")]
Scope = Literal["chat", "system", "admin"]


class ServerConfig(ConfigStruct, kw_only=True):
    """Where and how the HTTP server listens."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8080
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    """Larger request bodies are refused with 413 before they are read in full."""
    key_cache_ttl_s: Annotated[float, msgspec.Meta(ge=0, le=1)] = 1.0
    """How long a replica trusts a cached key lookup; bounds how late a revocation takes effect."""


class AdminConfig(ConfigStruct, kw_only=True):
    """The admin API's key: a SHA-256 digest in the file, or an environment variable holding the key."""

    key_digest: Digest | None = None
    key_env: str | None = None


class RetryConfig(ConfigStruct, kw_only=True):
    """How routing retries one deployment and bounds the whole request."""

    attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 2
    """Attempts per deployment (1 = no retry)."""
    backoff_base_ms: Annotated[float, msgspec.Meta(ge=0)] = 100.0
    backoff_max_ms: Annotated[float, msgspec.Meta(ge=0)] = 2000.0
    retry_after_cap_s: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    """An upstream Retry-After longer than this is not waited for: the next deployment is tried."""
    deadline_s: Annotated[float, msgspec.Meta(gt=0)] = 120.0
    """Overall budget for every attempt of one request, before its first byte to the client."""
    breaker_failures: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    """Consecutive failed attempts that open a deployment's circuit breaker."""
    breaker_error_rate: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    """Failure fraction over ``breaker_window_s`` that opens the circuit (over 1 disables this trigger)."""
    breaker_window_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    breaker_min_requests: Annotated[int, msgspec.Meta(ge=1)] = 20
    """Attempts the window must hold before the error rate is judged."""
    breaker_cooldown_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    """How long an open circuit refuses traffic before one probe request is let through."""


class Deployment(ConfigStruct, kw_only=True):
    """One place a model alias can be served from."""

    provider: Name
    model: str
    weight: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 1


class ModelConfig(ConfigStruct, kw_only=True):
    """A model alias clients ask for."""

    name: Name
    deployments: Annotated[list[Deployment], msgspec.Meta(min_length=1)]
    fallbacks: list[Name] = []
    """Aliases tried, in order, when every deployment of this one failed."""
    price: ModelPrice = ModelPrice(input_per_mtok_usd=0, output_per_mtok_usd=0)
    max_output_tokens: Annotated[int, msgspec.Meta(ge=1)] = 4096
    tokenizer: str | None = None
    """tiktoken encoding for prompt counting; ``None`` guesses from the model name."""


class KeyConfig(ConfigStruct, kw_only=True):
    """A static API key written in config (as its digest)."""

    id: Name
    digest: Digest
    scopes: tuple[Scope, ...] = ("chat",)
    models: tuple[str, ...] = ("*",)
    """Glob patterns of model aliases the key may use."""


class TenantConfig(ConfigStruct, kw_only=True):
    """A tenant: its limits, its guard policy and its static keys."""

    id: Name
    limits: TenantLimits = TenantLimits()
    guard_policy: str = "default"
    keys: list[KeyConfig] = []
    cache: CacheConfig = CacheConfig()
    """The response cache for this tenant's requests (``schemas.cache``)."""


class GuardPolicy(ConfigStruct, kw_only=True):
    """The guards applied to a tenant's requests (input) and responses (output)."""

    input: InputPolicy = InputPolicy()
    output: OutputPolicy = OutputPolicy()
    """Output guards; every section is optional and ``{}`` runs none (the relay's fast path)."""


class GatewayConfig(ConfigStruct, kw_only=True):
    """The whole configuration file."""

    server: ServerConfig = ServerConfig()
    store: StoreConfig = StoreConfig()
    admin: AdminConfig = AdminConfig()
    retry: RetryConfig = RetryConfig()
    providers: list[ProviderConfig] = []
    models: list[ModelConfig] = []
    tenants: list[TenantConfig] = []
    guard_policies: dict[str, GuardPolicy] = msgspec.field(default_factory=lambda: {"default": GuardPolicy()})
    telemetry: TelemetryConfig = TelemetryConfig()
    """Traces, metrics and the access log (``schemas.telemetry``)."""

    def problems(self) -> list[str]:
        """Every broken cross-reference, as ``path: message`` lines (empty when the config is sound)."""
        out: list[str] = []
        providers = {p.name for p in self.providers}
        aliases = {m.name for m in self.models}
        _dupes(out, "providers", [p.name for p in self.providers])
        _dupes(out, "models", [m.name for m in self.models])
        _dupes(out, "tenants", [t.id for t in self.tenants])
        _dupes(out, "keys", [k.id for t in self.tenants for k in t.keys])
        for i, model in enumerate(self.models):
            for j, dep in enumerate(model.deployments):
                if dep.provider not in providers:
                    out.append(f"$.models[{i}].deployments[{j}].provider: unknown provider {dep.provider!r}")
            for j, alias in enumerate(model.fallbacks):
                if alias not in aliases or alias == model.name:
                    out.append(f"$.models[{i}].fallbacks[{j}]: unknown or self-referencing model {alias!r}")
        for i, tenant in enumerate(self.tenants):
            if tenant.guard_policy not in self.guard_policies:
                out.append(f"$.tenants[{i}].guard_policy: unknown guard policy {tenant.guard_policy!r}")
        return out


def _dupes(out: list[str], what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            out.append(f"$.{what}: duplicate name {name!r}")
        seen.add(name)
