"""Integer cost arithmetic: µ$ per million tokens in, µ$ out, always rounded up (never under-charge)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from proxy.limits.types import Usage
    from schemas.limits import ModelPrice

__all__ = ["MicroPrice", "cost_micro_usd", "micro_price"]


class MicroPrice(NamedTuple):
    """A :class:`~schemas.limits.ModelPrice` in integer µ$ per million tokens."""

    input: int
    output: int
    cached_input: int


@functools.lru_cache(maxsize=1024)
def micro_price(price: ModelPrice) -> MicroPrice:
    """Convert once (exact decimal arithmetic, rounded up); cached, as settle asks for it on every request."""
    return MicroPrice(price.input_micro_per_mtok, price.output_micro_per_mtok, price.cached_input_micro_per_mtok)


def cost_micro_usd(usage: Usage, price: MicroPrice) -> int:
    """``ceil((uncached_in * p_in + cached_in * p_cached + out * p_out) / 1e6)`` µ$.

    Cached tokens are a part of ``input_tokens`` (OpenAI's convention); a count larger than the input is
    treated as all-cached.
    """
    cached = min(max(usage.cached_input_tokens, 0), usage.input_tokens)
    units = (
        (usage.input_tokens - cached) * price.input + cached * price.cached_input + usage.output_tokens * price.output
    )
    return -(-units // 1_000_000)
