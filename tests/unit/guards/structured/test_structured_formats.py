"""The dependency-free format checks (date-time, time, duration, hostname)."""

from __future__ import annotations

import pytest

from guards.structured.formats import format_checker, is_date_time, is_duration, is_hostname, is_time


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-02-29T23:59:59Z", True),
        ("2024-02-29t23:59:59.123+05:30", True),
        ("2016-12-31T23:59:60Z", True),
        ("2023-02-29T00:00:00Z", False),
        ("2024-13-01T00:00:00Z", False),
        ("2024-01-01T24:00:00Z", False),
        ("2024-01-01T00:00:00", False),
        ("2024-01-01 00:00:00Z", False),
        ("2024-01-01T00:00:00+24:00", False),
        (42, True),
    ],
)
def test_date_time(value: object, ok: bool) -> None:
    assert is_date_time(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("08:30:00Z", True),
        ("08:30:00.5-03:00", True),
        ("08:30:00", False),
        ("8:30:00Z", False),
        ("08:61:00Z", False),
        (None, True),
    ],
)
def test_time(value: object, ok: bool) -> None:
    assert is_time(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("P1Y2M3DT4H5M6S", True),
        ("PT30S", True),
        ("P2W", True),
        ("P1D", True),
        ("P", False),
        ("PT", False),
        ("P1DT", False),
        ("P1W2D", False),
        ("1D", False),
        (3, True),
    ],
)
def test_duration(value: object, ok: bool) -> None:
    assert is_duration(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("example.com", True),
        ("a-b.example.com.", True),
        ("localhost", True),
        ("-bad.com", False),
        ("a..b", False),
        ("", False),
        ("a" * 64 + ".com", False),
        (("a" * 60 + ".") * 5, False),
        (1, True),
    ],
)
def test_hostname(value: object, ok: bool) -> None:
    assert is_hostname(value) is ok


def test_format_checker_is_fresh_and_complete() -> None:
    first, second = format_checker(), format_checker()
    assert first is not second
    assert first.checkers is not second.checkers
    assert {"date-time", "time", "duration", "hostname", "email", "uuid", "ipv4", "regex"} <= set(first.checkers)
    assert first.conforms("2024-01-01T00:00:00Z", "date-time")
    assert not first.conforms("no_pe.com", "hostname")
