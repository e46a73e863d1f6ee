"""Retry policy: what is retried on the same deployment, what only falls back, full-jitter backoff."""

from __future__ import annotations

import random

import pytest

from proxy.errors import (
    ContentBlockedError,
    GatewayError,
    InvalidRequestError,
    InvalidStructuredOutputError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.providers.openai import OpenAIProvider
from proxy.routing.policy import backoff_delay, is_health_failure, retry_same
from schemas.config import RetryConfig
from schemas.providers import OpenAIProviderConfig

RETRY = RetryConfig(backoff_base_ms=100, backoff_max_ms=1000, retry_after_cap_s=2)


def mapped(status: int) -> GatewayError:
    provider = OpenAIProvider(OpenAIProviderConfig(name="up"), None)
    return provider.map_error(status, {"retry-after": "1"}, b'{"error": {"message": "no"}}')


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 408, 529])
def test_transient_statuses_are_retried_and_counted(status: int) -> None:
    error = mapped(status)
    assert retry_same(error)
    assert is_health_failure(error)


@pytest.mark.parametrize("status", [401, 403, 404])
def test_deployment_statuses_fall_back_without_retry(status: int) -> None:
    error = mapped(status)
    assert isinstance(error, UpstreamError)  # the loop falls back on any UpstreamError
    assert not retry_same(error)
    assert is_health_failure(error)


@pytest.mark.parametrize("status", [400, 413, 422])
def test_client_statuses_are_neither_retried_nor_fallen_back(status: int) -> None:
    error = mapped(status)
    assert isinstance(error, InvalidRequestError)
    assert not isinstance(error, UpstreamError)
    assert not retry_same(error)
    assert not is_health_failure(error)


@pytest.mark.parametrize(
    "error",
    [
        UpstreamTimeoutError("t"),
        UpstreamUnavailableError("u"),
        UpstreamProtocolError("p"),
        UpstreamRateLimitError("r"),
        UpstreamStatusError("s"),
    ],
)
def test_transport_failures_are_retried(error: GatewayError) -> None:
    assert retry_same(error)
    assert is_health_failure(error)


def test_verdicts_on_the_output_do_not_count_against_the_provider() -> None:
    assert not is_health_failure(InvalidStructuredOutputError("bad json"))
    assert not retry_same(InvalidStructuredOutputError("bad json"))
    assert not is_health_failure(ContentBlockedError("blocked"))


def test_in_band_provider_error_falls_back_without_retry() -> None:
    error = UpstreamError("upstream reported an error mid-stream")
    assert not retry_same(error)
    assert is_health_failure(error)


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    rng = random.Random(7)
    error = UpstreamTimeoutError("t")
    for number, ceiling in [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (9, 1.0)]:
        delays = [backoff_delay(number, RETRY, error, rng) for _ in range(2000)]
        assert all(d is not None and 0 <= d <= ceiling for d in delays)
        values = [d for d in delays if d is not None]
        # Full jitter: spread over the whole range, not clustered at the ceiling.
        assert min(values) < ceiling * 0.05
        assert max(values) > ceiling * 0.95
        assert abs(sum(values) / len(values) - ceiling / 2) < ceiling * 0.05


def test_retry_after_is_honoured_exactly_up_to_the_cap() -> None:
    rng = random.Random(1)
    assert backoff_delay(0, RETRY, UpstreamRateLimitError("r", retry_after=1.5), rng) == 1.5
    assert backoff_delay(3, RETRY, UpstreamRateLimitError("r", retry_after=2.0), rng) == 2.0
    assert backoff_delay(0, RETRY, UpstreamRateLimitError("r", retry_after=2.5), rng) is None


def test_a_429_without_retry_after_backs_off_with_jitter() -> None:
    delay = backoff_delay(0, RETRY, UpstreamRateLimitError("r"), random.Random(3))
    assert delay is not None
    assert 0 <= delay <= 0.1


def test_mapped_429_carries_retry_after() -> None:
    error = mapped(429)
    assert isinstance(error, UpstreamRateLimitError)
    assert error.retry_after == 1.0
