"""``format`` assertions for structured outputs, without jsonschema's optional dependencies.

jsonschema checks ``date-time``, ``time``, ``duration`` and ``hostname`` only when extra
packages (rfc3339-validator, isoduration, fqdn) are installed. Those are among the formats
OpenAI's structured outputs support, so a client asking for ``"format": "date-time"`` must get
one; the checks here are small, dependency-free RFC 3339 / ISO 8601 / RFC 1123 versions.

``format_checker()`` returns a *new* ``FormatChecker`` (jsonschema's built-ins plus these), so
no shared mutable registry is touched.
"""

from __future__ import annotations

import datetime as dt
import re

from jsonschema import Draft202012Validator, FormatChecker

__all__ = ["format_checker", "is_date_time", "is_duration", "is_hostname", "is_time"]

_TIME = r"(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))"
_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt]" + _TIME)
_TIME_ONLY = re.compile(_TIME)
_DURATION = re.compile(r"P(?:\d+W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _time_ok(hour: str, minute: str, second: str, off_hour: str | None, off_minute: str | None) -> bool:
    # Second 60 is a leap second, which RFC 3339 allows.
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:
        return False
    return off_hour is None or (int(off_hour) <= 23 and int(off_minute or "0") <= 59)


def is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time`` (non-strings pass: ``format`` only constrains strings)."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second, _sign, off_hour, off_minute = match.groups()
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return _time_ok(hour, minute, second, off_hour, off_minute)


def is_time(value: object) -> bool:
    """RFC 3339 ``full-time`` (the offset is required, as JSON Schema says)."""
    if not isinstance(value, str):
        return True
    match = _TIME_ONLY.fullmatch(value)
    if match is None:
        return False
    hour, minute, second, _sign, off_hour, off_minute = match.groups()
    return _time_ok(hour, minute, second, off_hour, off_minute)


def is_duration(value: object) -> bool:
    """ISO 8601 duration as profiled by RFC 3339 appendix A (``P1DT2H``, ``PT30S``, ``P2W``)."""
    return not isinstance(value, str) or _DURATION.fullmatch(value) is not None


def is_hostname(value: object) -> bool:
    """RFC 1123 host name: dot-separated labels of at most 63 characters, 253 in all."""
    if not isinstance(value, str):
        return True
    name = value.removesuffix(".")
    if not name or len(name) > 253:
        return False
    return all(_LABEL.fullmatch(label) is not None for label in name.split("."))


def format_checker() -> FormatChecker:
    """A fresh checker: jsonschema's built-in format checks plus the ones above."""
    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)
    for name, check in (
        ("date-time", is_date_time),
        ("time", is_time),
        ("duration", is_duration),
        ("hostname", is_hostname),
    ):
        checker.checkers[name] = (check, ())
    return checker
