"""OpenAI-style rate-limit headers."""

from __future__ import annotations

import pytest

from proxy.limits.headers import format_reset, rate_limit_headers, retry_headers
from proxy.store.base import BucketState


@pytest.mark.parametrize(("ms", "text"), [(0, "0ms"), (20, "20ms"), (1000, "1s"), (1500, "1.5s"), (360_000, "6m0s")])
def test_reset_format(ms: int, text: str) -> None:
    assert format_reset(ms) == text


def test_headers_use_the_tightest_bucket_and_hide_debt() -> None:
    states = [
        BucketState("t:rq", "requests", 100, 50, 30_000),
        BucketState("k:a:rq", "requests", 10, 2, 48_000),
        BucketState("t:tk", "tokens", 1000, -5, 61_000),
    ]
    assert rate_limit_headers(states) == {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-reset-requests": "48s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "1m1s",
    }


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_headers(1) == (1.0, {"retry-after-ms": "1"})
    assert retry_headers(2001) == (3.0, {"retry-after-ms": "2001"})
