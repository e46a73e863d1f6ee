"""Integer cost arithmetic."""

from __future__ import annotations

from proxy.limits.pricing import MicroPrice, cost_micro_usd, micro_price
from proxy.limits.types import Usage
from schemas.limits import ModelPrice


def test_prices_convert_exactly_and_costs_round_up() -> None:
    price = micro_price(ModelPrice(input_per_mtok_usd=0.15, output_per_mtok_usd=0.6))
    assert price == MicroPrice(input=150_000, output=600_000, cached_input=150_000)
    assert cost_micro_usd(Usage(input_tokens=1, output_tokens=0), price) == 1  # 0.15 µ$ rounds up
    assert cost_micro_usd(Usage(input_tokens=20, output_tokens=0), price) == 3
    assert cost_micro_usd(Usage(input_tokens=0, output_tokens=0), price) == 0


def test_cached_tokens_are_part_of_input_and_never_more_than_it() -> None:
    price = MicroPrice(input=1_000_000, output=2_000_000, cached_input=500_000)
    assert cost_micro_usd(Usage(input_tokens=10, output_tokens=1, cached_input_tokens=4), price) == 6 + 2 + 2
    assert cost_micro_usd(Usage(input_tokens=10, output_tokens=0, cached_input_tokens=99), price) == 5
