"""Configuration of rate limits, spend caps and model prices (``tenants[].limits``, ``models[].price``).

Money is integer micro-dollars (µ$) everywhere past config loading. Prices are written in the YAML as US dollars
per million tokens, like every provider's price page, and converted once with exact decimal arithmetic into
integer µ$ per million tokens, **rounded up**, so a price can only err in the provider's favour. A request's
cost is then ``ceil((uncached_in * p_in + cached_in * p_cached + out * p_out) / 1_000_000)`` µ$: one rounding,
upwards, so the gateway never under-charges. Spend caps are rounded **down** to whole µ$, so the cap can
never be exceeded by rounding.

Fail modes (what happens when the shared store is unreachable), chosen per limit:

* spend caps default to ``fail_closed`` (503): money must not leak while nobody is counting;
* request/token buckets and the concurrency limit default to ``fail_open``: they protect capacity, and
  refusing every request during a store outage is worse than briefly serving unmetered traffic. A tenant
  that prefers the opposite sets ``on_store_error: fail_closed``.

A request is refused with 503 if *any* limit that applies to it fails closed.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Annotated, Literal

import msgspec

from schemas.base import ConfigStruct

__all__ = [
    "FailMode",
    "KeyLimits",
    "ModelPrice",
    "SpendConfig",
    "TenantLimits",
    "parse_duration_ms",
]

FailMode = Literal["fail_open", "fail_closed"]
"""What a limit does while the store is unreachable: admit uncounted, or refuse with 503."""

_DURATION = re.compile(r"^([1-9][0-9]*)(ms|s|m|h|d)$")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_MICRO = Decimal(1_000_000)

NonNegativeUsd = Annotated[float, msgspec.Meta(ge=0)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


def parse_duration_ms(text: str) -> int:
    """Parse ``"30m"``, ``"24h"``, ``"7d"``, ``"90s"`` or ``"500ms"`` into milliseconds.

    Raises:
        ValueError: on anything else (no fractions, no zero, no compound durations).
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: expected <positive integer><ms|s|m|h|d>, e.g. '24h'")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def _usd_to_micro(usd: float, rounding: str) -> int:
    # str() gives the shortest repr, so 0.15 becomes Decimal("0.15") and not 0.1499999...
    return int((Decimal(str(usd)) * _MICRO).to_integral_value(rounding=rounding))


class ModelPrice(ConfigStruct, kw_only=True):
    """A model's price in US dollars per million tokens."""

    input_per_mtok_usd: NonNegativeUsd
    """Uncached prompt tokens."""
    output_per_mtok_usd: NonNegativeUsd
    """Generated tokens (including reasoning tokens)."""
    cached_input_per_mtok_usd: NonNegativeUsd | None = None
    """Prompt tokens served from the provider's cache; ``None`` means the input price."""

    @property
    def input_micro_per_mtok(self) -> int:
        """Input price in integer µ$ per million tokens, rounded up."""
        return _usd_to_micro(self.input_per_mtok_usd, ROUND_CEILING)

    @property
    def output_micro_per_mtok(self) -> int:
        """Output price in integer µ$ per million tokens, rounded up."""
        return _usd_to_micro(self.output_per_mtok_usd, ROUND_CEILING)

    @property
    def cached_input_micro_per_mtok(self) -> int:
        """Cached-input price in integer µ$ per million tokens, rounded up (the input price if unset)."""
        if self.cached_input_per_mtok_usd is None:
            return self.input_micro_per_mtok
        return _usd_to_micro(self.cached_input_per_mtok_usd, ROUND_CEILING)


class SpendConfig(ConfigStruct, kw_only=True):
    """A rolling-window spend cap."""

    usd: NonNegativeUsd
    """The cap in US dollars per window."""
    window: str = "24h"
    """Rolling window length: ``<n>ms|s|m|h|d`` (``"24h"``, ``"30m"``)."""
    when_short: Literal["reject", "clamp"] = "reject"
    """When the remaining budget affords fewer output tokens than asked: reject (429 budget_exceeded) or
    clamp ``max_tokens`` to what it affords (and reject when that is less than one token)."""
    on_store_error: FailMode = "fail_closed"
    """Behaviour while the store is unreachable."""

    def __post_init__(self) -> None:
        parse_duration_ms(self.window)

    @property
    def cap_micro_usd(self) -> int:
        """The cap in integer µ$, rounded down."""
        return _usd_to_micro(self.usd, ROUND_FLOOR)

    @property
    def window_ms(self) -> int:
        """The window length in milliseconds."""
        return parse_duration_ms(self.window)


class KeyLimits(ConfigStruct, kw_only=True):
    """Limits for one API key, applied on top of (never instead of) its tenant's limits."""

    requests_per_minute: PositiveInt | None = None
    """Request bucket capacity; refills continuously over a minute."""
    tokens_per_minute: PositiveInt | None = None
    """Token bucket capacity (prompt + max output tokens reserved, unused ones refunded)."""
    spend: SpendConfig | None = None
    """The key's own spend cap."""


class TenantLimits(ConfigStruct, kw_only=True):
    """A tenant's limits; every field is optional (``None`` means unlimited)."""

    requests_per_minute: PositiveInt | None = None
    """Request bucket capacity; refills continuously over a minute."""
    tokens_per_minute: PositiveInt | None = None
    """Token bucket capacity (prompt + max output tokens reserved, unused ones refunded)."""
    max_concurrent_streams: PositiveInt | None = None
    """Open streaming requests at once, across all replicas."""
    spend: SpendConfig | None = None
    """The tenant's rolling-window spend cap."""
    queue_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 0
    """``> 0``: wait up to this long for a request/token/concurrency slot instead of answering 429."""
    on_store_error: FailMode = "fail_open"
    """Fail mode of the request/token buckets and the concurrency limit (spend has its own)."""
    key_default: KeyLimits | None = None
    """Limits applied to every key of the tenant that has no entry in ``keys``."""
    keys: dict[str, KeyLimits] = {}
    """Per-key limits by key id."""

    def limits_for_key(self, key_id: str) -> KeyLimits | None:
        """The limits that apply to ``key_id`` on top of the tenant's, if any."""
        return self.keys.get(key_id, self.key_default)
