"""OpenAI-style ``x-ratelimit-*`` response headers from the bucket levels an admission saw.

When both the tenant's and the key's bucket apply, the headers describe the tighter one (fewest remaining), as
that is the one a client will hit first. Reset durations use OpenAI's format (``"20ms"``, ``"1.5s"``, ``"6m0s"``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from proxy.store.base import BucketState

__all__ = ["format_reset", "rate_limit_headers", "retry_headers"]


def format_reset(ms: int) -> str:
    """``20ms``, ``1.5s``, ``6m0s``: how long until a bucket is full again."""
    if ms < 1000:
        return f"{max(ms, 0)}ms"
    minutes, rest_ms = divmod(ms, 60_000)
    seconds = f"{rest_ms / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def rate_limit_headers(states: Iterable[BucketState]) -> dict[str, str]:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` for the tightest bucket of each kind."""
    tightest: dict[str, BucketState] = {}
    for state in states:
        current = tightest.get(state.kind)
        if current is None or state.remaining < current.remaining:
            tightest[state.kind] = state
    headers: dict[str, str] = {}
    for kind, state in sorted(tightest.items()):
        headers[f"x-ratelimit-limit-{kind}"] = str(state.capacity)
        headers[f"x-ratelimit-remaining-{kind}"] = str(max(state.remaining, 0))
        headers[f"x-ratelimit-reset-{kind}"] = format_reset(state.reset_ms)
    return headers


def retry_headers(retry_after_ms: int) -> tuple[float, dict[str, str]]:
    """``Retry-After`` seconds (whole, at least 1) and the ``retry-after-ms`` header the OpenAI SDKs honour."""
    return float(max(1, math.ceil(retry_after_ms / 1000))), {"retry-after-ms": str(max(retry_after_ms, 0))}
