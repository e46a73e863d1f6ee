"""The route table: which deployments can serve a model alias, in which order.

Built once from config. ``candidates(alias)`` returns the alias's deployments, then the
deployments of each fallback alias in turn (fallback chains are followed once each, so a
cycle in config cannot loop). Within one alias the order is:

1. deployments whose breaker is not open (closed or due for a half-open probe) with a
   positive weight, in weighted random order: each next one is drawn with probability
   ``weight / sum(weights left)``, so the first choice, which takes the traffic, splits
   it in proportion to the weights among healthy deployments only;
2. healthy standbys (weight 0), in config order: used only when every weighted one failed;
3. deployments whose circuit is open, last (the attempt loop skips them; they are listed so
   that a request still fails with "circuit open" rather than "unknown model").

One breaker exists per distinct ``provider/model`` label, shared by every alias using it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from proxy.routing.breaker import BreakerPolicy, CircuitBreaker

if TYPE_CHECKING:
    from collections.abc import Mapping

    from proxy.providers.base import Provider
    from schemas.config import Deployment, ModelConfig
    from schemas.providers import Timeouts

__all__ = ["Candidate", "RouteTable"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One deployment that may serve a request."""

    alias: str
    """The alias this deployment belongs to (differs from the requested one on fallback)."""
    model: ModelConfig
    deployment: Deployment
    provider: Provider
    timeouts: Timeouts
    breaker: CircuitBreaker

    @property
    def label(self) -> str:
        """``provider/model``, for headers, logs and metrics."""
        return f"{self.deployment.provider}/{self.deployment.model}"


class RouteTable:
    """Aliases -> deployments, with one circuit breaker per deployment."""

    def __init__(
        self,
        models: list[ModelConfig],
        providers: Mapping[str, tuple[Provider, Timeouts]],
        *,
        rng: random.Random | None = None,
        breaker: BreakerPolicy | None = None,
    ) -> None:
        self._models = {m.name: m for m in models}
        self._providers = providers
        self._rng = rng or random.Random()
        self.rng = self._rng
        """The process's routing RNG (deployment order, retry jitter): seeded once, not per request."""
        self._breakers: dict[str, CircuitBreaker] = {}
        policy = breaker or BreakerPolicy()
        for model in models:
            for dep in model.deployments:
                self._breakers.setdefault(f"{dep.provider}/{dep.model}", CircuitBreaker(policy))

    def model(self, alias: str) -> ModelConfig | None:
        """The config of an alias, if it exists."""
        return self._models.get(alias)

    @property
    def aliases(self) -> list[str]:
        """Every alias, in config order."""
        return list(self._models)

    def breakers(self) -> dict[str, str]:
        """Deployment label -> breaker state, for /admin and metrics."""
        return {label: breaker.state for label, breaker in self._breakers.items()}

    def breaker(self, label: str) -> CircuitBreaker | None:
        """The breaker of the deployment labelled ``provider/model``."""
        return self._breakers.get(label)

    def fallback_models(self, alias: str) -> list[ModelConfig]:
        """The alias and every alias its fallback chain reaches, in order, each once."""
        order: list[ModelConfig] = []
        seen: set[str] = set()
        queue = [alias]
        while queue:
            name = queue.pop(0)
            model = self._models.get(name)
            if model is None or name in seen:
                continue
            seen.add(name)
            order.append(model)
            queue.extend(model.fallbacks)
        return order

    def candidates(self, alias: str) -> list[Candidate]:
        """Every deployment that may serve ``alias``, in the order to try them."""
        out: list[Candidate] = []
        for model in self.fallback_models(alias):
            for dep in self._weighted_order(model.deployments):
                provider, timeouts = self._providers[dep.provider]
                breaker = self._breakers[f"{dep.provider}/{dep.model}"]
                out.append(Candidate(model.name, model, dep, provider, timeouts, breaker))
        return out

    def _weighted_order(self, deployments: list[Deployment]) -> list[Deployment]:
        if len(deployments) == 1:
            return list(deployments)
        healthy: list[Deployment] = []
        tripped: list[Deployment] = []
        for dep in deployments:
            is_open = self._breakers[f"{dep.provider}/{dep.model}"].state == "open"
            (tripped if is_open else healthy).append(dep)
        weighted = [d for d in healthy if d.weight > 0]
        order: list[Deployment] = []
        while weighted:
            pick = self._rng.choices(range(len(weighted)), weights=[d.weight for d in weighted])[0]
            order.append(weighted.pop(pick))
        return order + [d for d in healthy if d.weight == 0] + tripped
