"""RouteTable: weighted order over healthy deployments, standbys, open circuits last, fallback chains."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from proxy.providers.fake import FakeProvider
from proxy.routing.breaker import BreakerPolicy
from proxy.routing.table import RouteTable
from schemas.config import Deployment, ModelConfig
from schemas.providers import FakeProviderConfig, Timeouts


def table(models: list[ModelConfig], seed: int = 42, policy: BreakerPolicy | None = None) -> RouteTable:
    providers = {name: (FakeProvider(FakeProviderConfig(name=name)), Timeouts()) for name in ("a", "b", "c", "d")}
    return RouteTable(models, providers, rng=random.Random(seed), breaker=policy)


def model(name: str, *deps: tuple[str, int], fallbacks: tuple[str, ...] = ()) -> ModelConfig:
    return ModelConfig(
        name=name,
        deployments=[Deployment(provider=p, model="m", weight=w) for p, w in deps],
        fallbacks=list(fallbacks),
    )


def firsts(routes: RouteTable, alias: str, n: int) -> Counter[str]:
    return Counter(routes.candidates(alias)[0].deployment.provider for _ in range(n))


def test_first_choice_follows_the_weights() -> None:
    routes = table([model("x", ("a", 3), ("b", 1))])
    counts = firsts(routes, "x", 8000)
    share = counts["a"] / 8000
    assert 0.73 < share < 0.77  # 3:1; the seeded RNG makes this exact run reproducible


def test_three_way_split() -> None:
    routes = table([model("x", ("a", 5), ("b", 3), ("c", 2))], seed=3)
    counts = firsts(routes, "x", 10000)
    assert counts["a"] / 10000 == pytest.approx(0.5, abs=0.02)
    assert counts["b"] / 10000 == pytest.approx(0.3, abs=0.02)
    assert counts["c"] / 10000 == pytest.approx(0.2, abs=0.02)


def test_every_deployment_is_listed_once_so_a_failure_can_move_on() -> None:
    routes = table([model("x", ("a", 3), ("b", 1), ("c", 1))])
    for _ in range(50):
        order = [c.deployment.provider for c in routes.candidates("x")]
        assert sorted(order) == ["a", "b", "c"]


def test_same_seed_same_sequence() -> None:
    one = table([model("x", ("a", 1), ("b", 1))], seed=9)
    two = table([model("x", ("a", 1), ("b", 1))], seed=9)
    assert [firsts(one, "x", 1) for _ in range(20)] == [firsts(two, "x", 1) for _ in range(20)]


def test_zero_weight_is_a_standby_after_the_weighted_ones() -> None:
    routes = table([model("x", ("c", 0), ("a", 1), ("b", 1))])
    for _ in range(30):
        assert routes.candidates("x")[-1].deployment.provider == "c"


def test_open_circuits_go_last_and_traffic_shifts_to_healthy_ones() -> None:
    routes = table([model("x", ("a", 9), ("b", 1))], policy=BreakerPolicy(failures=1, cooldown_s=60))
    breaker = routes.breaker("a/m")
    assert breaker is not None
    breaker.record_failure()
    assert routes.breakers() == {"a/m": "open", "b/m": "closed"}
    for _ in range(30):
        assert [c.deployment.provider for c in routes.candidates("x")] == ["b", "a"]


def test_fallback_aliases_follow_in_order_and_cycles_stop() -> None:
    routes = table(
        [
            model("x", ("a", 1), fallbacks=("y", "z")),
            model("y", ("b", 1), fallbacks=("x",)),
            model("z", ("c", 1), fallbacks=("y",)),
        ]
    )
    assert [(c.alias, c.label) for c in routes.candidates("x")] == [("x", "a/m"), ("y", "b/m"), ("z", "c/m")]
    assert [c.alias for c in routes.candidates("z")] == ["z", "y", "x"]


def test_a_deployment_shared_by_two_aliases_has_one_breaker() -> None:
    routes = table([model("x", ("a", 1)), model("y", ("a", 1))], policy=BreakerPolicy(failures=1))
    assert routes.candidates("x")[0].breaker is routes.candidates("y")[0].breaker
    assert routes.breaker("a/m") is routes.candidates("x")[0].breaker
    assert routes.breaker("nope") is None


def test_breaker_policy_reaches_every_breaker() -> None:
    policy = BreakerPolicy(failures=2, cooldown_s=1.5)
    routes = table([model("x", ("a", 1), ("b", 1))], policy=policy)
    assert {c.breaker.policy for c in routes.candidates("x")} == {policy}
