"""The retry policy: which upstream failures are retried, fallen back from, or counted by breakers.

| failure (before the client saw content)                  | same deployment again | next deployment | breaker |
| -------------------------------------------------------- | --------------------- | --------------- | ------- |
| connect error, refused, reset before headers (503)       | yes, backoff          | yes             | failure |
| connect / first-byte / idle timeout (504, also 408)      | yes, backoff          | yes             | failure |
| malformed SSE, cut JSON, wrong content type, body cut    | yes, backoff          | yes             | failure |
| 429                                                      | yes, after Retry-After | yes            | failure |
| 5xx                                                      | yes, backoff          | yes             | failure |
| 401 / 403 / 404 from the provider                        | no                    | yes             | failure |
| 400 / 413 / 422 (the client's request is wrong)          | no                    | no: to client   | success |
| invalid structured output (a streamed JSON check failed) | no                    | yes             | success |
| output guard block                                       | no                    | no: to client   | success |

Why fall back on an upstream 401/403/404 but never retry it: those statuses describe the
*deployment* (a revoked gateway key, a model that deployment does not have), not the
client's request, so another deployment may well serve it while the same one never will;
and they count against the breaker so a misconfigured deployment stops costing an attempt
per request. A 400/413/422 describes the request itself: every deployment would refuse it,
so it goes straight back to the client (as a 400). A structured-output or guard verdict
means the provider is healthy, so it counts as a breaker success.

Backoff is exponential with full jitter (AWS architecture blog, "Exponential Backoff And
Jitter"): ``uniform(0, min(max, base * 2**n))``. A 429's ``Retry-After`` is honoured exactly
when it is at most ``retry_after_cap_s``; a longer one is not waited for at all: the loop
falls back to the next deployment at once (or, with none left, the 429 and its
Retry-After go to the client). No wait may cross the request deadline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxy.errors import (
    InvalidStructuredOutputError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

if TYPE_CHECKING:
    import random

    from proxy.errors import GatewayError
    from schemas.config import RetryConfig

__all__ = ["backoff_delay", "is_health_failure", "retry_same"]

_TRANSIENT = (UpstreamTimeoutError, UpstreamUnavailableError, UpstreamProtocolError, UpstreamRateLimitError)


def retry_same(error: GatewayError) -> bool:
    """Whether the same deployment may be tried again after ``error``."""
    if isinstance(error, UpstreamStatusError):
        return (error.upstream_status or 500) >= 500
    return isinstance(error, _TRANSIENT)


def is_health_failure(error: GatewayError) -> bool:
    """Whether ``error`` says the deployment is unhealthy (counts against its circuit breaker)."""
    return isinstance(error, UpstreamError) and not isinstance(error, InvalidStructuredOutputError)


def backoff_delay(retry_number: int, retry: RetryConfig, error: GatewayError, rng: random.Random) -> float | None:
    """Seconds to wait before retry ``retry_number`` (0-based); ``None``: do not retry, fall back.

    Full-jitter exponential backoff, or the provider's Retry-After when it is within the cap.
    """
    if isinstance(error, UpstreamRateLimitError) and error.retry_after is not None:
        return error.retry_after if error.retry_after <= retry.retry_after_cap_s else None
    ceiling = min(retry.backoff_max_ms, retry.backoff_base_ms * (2**retry_number)) / 1000
    return rng.uniform(0, ceiling)
