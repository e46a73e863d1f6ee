"""What the request path hands to :class:`~proxy.limits.policy.Limits` and gets back."""

from __future__ import annotations

import msgspec

from schemas.limits import ModelPrice

__all__ = ["Admission", "AdmissionRequest", "BucketReport", "Usage", "UsageReport"]


class AdmissionRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One upstream attempt asking to be admitted."""

    tenant: str
    key_id: str
    model: str
    """The model alias the client asked for (for messages and metrics)."""
    prompt_tokens: int
    """Counted offline (:class:`~proxy.limits.tokens.TokenCounter`)."""
    max_output_tokens: int | None
    """The request's ``max_tokens``/``max_completion_tokens``; ``None`` reserves ``model_max_output_tokens``."""
    price: ModelPrice
    model_max_output_tokens: int
    stream: bool
    reservation_id: str | None = None
    """Caller-chosen id (e.g. to make a retried admission idempotent); a random one when ``None``."""


class Admission(msgspec.Struct, frozen=True, kw_only=True):
    """A granted admission: what to send upstream, what was reserved, and the headers for the response."""

    reservation_id: str
    tenant: str
    key_id: str
    price: ModelPrice
    max_tokens: int
    """The ``max_tokens`` to send upstream. Always send it: that is what makes overspend impossible."""
    clamped: bool
    """``max_tokens`` is lower than asked because the budget affords no more."""
    prompt_tokens: int
    reserved_micro_usd: int
    headers: dict[str, str]
    """``x-ratelimit-*`` headers for the response."""
    degraded: bool = False
    """Admitted uncounted: the store was unreachable and every limit that applies fails open."""

    @property
    def reserved_tokens(self) -> int:
        """Tokens taken from the token buckets: prompt + ``max_tokens``."""
        return self.prompt_tokens + self.max_tokens


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """What an attempt actually consumed: the provider's usage, else counted tokens (e.g. on disconnect)."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    """Part of ``input_tokens`` served from the provider's prompt cache."""


class BucketReport(msgspec.Struct, frozen=True, kw_only=True):
    """One bucket's level for /admin/usage."""

    name: str
    """``tenant.requests``, ``tenant.tokens``, ``key.<id>.requests`` or ``key.<id>.tokens``."""
    limit_per_minute: int
    remaining: int
    reset_ms: int


class UsageReport(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's spend and bucket levels (the body of ``GET /admin/usage``)."""

    tenant: str
    window: str
    spent_micro_usd: int
    """Charged within the rolling window."""
    open_micro_usd: int
    """Reserved by requests in flight."""
    cap_micro_usd: int | None
    remaining_micro_usd: int | None
    """``cap - spent - open`` (never negative); ``None`` without a cap."""
    open_reservations: int
    concurrent_streams: int
    charged_total_micro_usd: int
    expired_reservations: int
    buckets: tuple[BucketReport, ...]
