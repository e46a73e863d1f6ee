"""Strictness and unit conversion of the limits, store and key config types."""

from __future__ import annotations

import msgspec
import pytest

from schemas.keys import KeyRecord
from schemas.limits import ModelPrice, SpendConfig, TenantLimits, parse_duration_ms
from schemas.store import StoreConfig


@pytest.mark.parametrize(("text", "ms"), [("500ms", 500), ("30s", 30_000), ("30m", 1_800_000), ("24h", 86_400_000)])
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "0h", "1.5h", "24", "1h30m", "-1h"])
def test_bad_durations_fail_at_load(text: str) -> None:
    with pytest.raises(msgspec.ValidationError, match="invalid duration"):
        msgspec.convert({"usd": 1, "window": text}, SpendConfig)


def test_money_rounds_in_the_providers_favour() -> None:
    price = ModelPrice(input_per_mtok_usd=0.1234567, output_per_mtok_usd=3, cached_input_per_mtok_usd=0.075)
    assert (price.input_micro_per_mtok, price.output_micro_per_mtok) == (123_457, 3_000_000)
    assert price.cached_input_micro_per_mtok == 75_000
    assert SpendConfig(usd=0.0000019).cap_micro_usd == 1  # caps round down


def test_unknown_fields_and_bad_values_are_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="requests_per_minte"):
        msgspec.convert({"requests_per_minte": 5}, TenantLimits)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"requests_per_minute": 0}, TenantLimits)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"kind": "etcd"}, StoreConfig)


def test_defaults_fail_closed_for_spend_open_for_rates() -> None:
    assert SpendConfig(usd=1).on_store_error == "fail_closed"
    assert TenantLimits().on_store_error == "fail_open"


def test_key_record_round_trip_and_tolerance() -> None:
    record = KeyRecord(key_id="acme-web", tenant="acme", digest="sha256:" + "a" * 64)
    encoded = msgspec.json.encode(record)
    assert msgspec.json.decode(encoded, type=KeyRecord) == record
    newer = encoded[:-1] + b',"future_field":1}'
    assert msgspec.json.decode(newer, type=KeyRecord) == record
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"key_id":"x","tenant":"t","digest":"md5:00"}', type=KeyRecord)
