"""Builders for telemetry unit tests: real ``AttemptRecord``/``Candidate`` objects without a route table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from proxy.routing.attempts import AttemptRecord
from proxy.routing.breaker import CircuitBreaker
from proxy.routing.table import Candidate
from schemas.config import Deployment, ModelConfig
from schemas.providers import Timeouts

if TYPE_CHECKING:
    from collections.abc import Callable


def candidate(alias: str = "m", provider: str = "up", model: str = "gpt-x") -> Candidate:
    deployment = Deployment(provider=provider, model=model)
    config = ModelConfig(name=alias, deployments=[deployment])
    return Candidate(alias, config, deployment, cast("Any", None), Timeouts(), CircuitBreaker())


def record(number: int, outcome: str, *, alias: str = "m", provider: str = "up", model: str = "gpt-x") -> AttemptRecord:
    rec = AttemptRecord(number, candidate(alias, provider, model))
    rec.outcome = outcome
    rec.latency_ms = 2.0
    if outcome == "error":
        rec.error_code = "upstream_status"
    return rec


@pytest.fixture
def make_record() -> Callable[..., AttemptRecord]:
    """``make_record(number, outcome, alias=..., provider=..., model=...)``."""
    return record
