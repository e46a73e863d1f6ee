"""Directives: how a request tells the fake upstream how to behave.

A directive is a ``;``-separated list of ``key=value`` settings. It comes from three
places, merged in this order (later wins, key by key):

1. the default script set with ``POST /_control/script {"directive": ...}``;
2. the next queued one-shot script (``{"directive": ..., "count": N}``);
3. the request's MODEL name: ``fake;chunks=5;delay_ms=20;fault=drop_after:3``. The first
   segment without ``=`` is the model's name and is ignored here.

Keys:

* ``chunks=K``: split the text into K chunks (default: one chunk per word).
* ``delay_ms=D``: sleep D ms before each chunk.
* ``words=N``: answer with N words of fixed lorem text instead of echoing the last user message.
* ``content=TEXT`` / ``content_b64=B64``: answer with this literal text (base64 lets it hold ``;``).
* ``tool=NAME`` with ``args=JSON`` / ``args_b64=B64``: "call" tool NAME with those arguments
  (finish reason ``tool_calls`` / ``tool_use``); no text unless ``content`` is also given.
* ``finish=stop|length``: force the finish reason.
* ``usage=none``: never report usage.
* ``cache_read=N`` / ``cache_write=N``: Anthropic cache usage to report.
* ``retry_after=S``: ``Retry-After`` header on error statuses.
* ``fail_first=N`` (+ ``fail_status=S``, default 500): the first N requests with the same merged
  directive fail with that status, later ones succeed (a retry target).
* ``fault=...``: one of ``status:N``, ``hang_headers``, ``slow_first_byte:MS``, ``hang_after:K``,
  ``drop_after:K`` (TCP reset), ``close_after:K`` (clean close, no terminator),
  ``malformed_after:K`` (a garbage, non-UTF-8 line), ``truncated_after:K`` (a data event with cut
  JSON), ``error_after:K`` (an in-band provider error event), ``html`` (200 text/html).
  ``K`` counts content chunks delivered before the fault.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

import msgspec

__all__ = ["Directive", "DirectiveError", "FaultKind", "merge_settings", "parse_directive", "split_settings"]

FaultKind = Literal[
    "none",
    "status",
    "hang_headers",
    "slow_first_byte",
    "hang_after",
    "drop_after",
    "close_after",
    "malformed_after",
    "truncated_after",
    "error_after",
    "html",
]

_FAULTS_WITH_ARG = frozenset(
    {
        "status",
        "slow_first_byte",
        "hang_after",
        "drop_after",
        "close_after",
        "malformed_after",
        "truncated_after",
        "error_after",
    }
)
_FAULTS_NO_ARG = frozenset({"hang_headers", "html"})
_INT_KEYS = frozenset({"chunks", "words", "cache_read", "cache_write", "fail_first", "fail_status"})
_FLOAT_KEYS = frozenset({"delay_ms", "retry_after"})
_TEXT_KEYS = frozenset({"content", "content_b64", "tool", "args", "args_b64", "finish", "usage", "fault"})


class DirectiveError(ValueError):
    """A directive has an unknown key or a malformed value (answered with HTTP 400)."""


class Directive(msgspec.Struct, frozen=True, kw_only=True):
    """The parsed behaviour for one request."""

    chunks: int | None = None
    delay_ms: float = 0.0
    words: int | None = None
    content: str | None = None
    tool: str | None = None
    args: str = "{}"
    finish: str | None = None
    usage: bool = True
    cache_read: int = 0
    cache_write: int = 0
    retry_after: float | None = None
    fail_first: int = 0
    fail_status: int = 500
    fault: FaultKind = "none"
    fault_arg: int = 0
    key: str = ""
    """The canonical merged directive text; ``fail_first`` counts requests per key."""


def split_settings(text: str, *, skip_name: bool) -> dict[str, str]:
    """Split ``a=1;b=2`` (optionally preceded by a model name segment) into a dict.

    Raises:
        DirectiveError: a segment after the name has no ``=``.
    """
    out: dict[str, str] = {}
    for index, segment in enumerate(text.split(";")):
        stripped = segment.strip()
        if not stripped:
            continue
        key, sep, value = stripped.partition("=")
        if not sep:
            if skip_name and index == 0:
                continue
            raise DirectiveError(f"directive segment {stripped!r} is not key=value")
        out[key.strip()] = value.strip()
    return out


def merge_settings(*layers: dict[str, str]) -> dict[str, str]:
    """Merge setting layers; later layers win key by key."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer)
    return merged


def _b64(value: str, key: str) -> str:
    padded = value + "=" * (-len(value) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise DirectiveError(f"{key} is not valid base64 of UTF-8 text") from exc


def _number(key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise DirectiveError(f"{key}={value!r} is not a number") from exc
    if number < 0:
        raise DirectiveError(f"{key} must not be negative")
    return number


def _fault(value: str) -> tuple[FaultKind, int]:
    name, sep, arg = value.partition(":")
    if name in _FAULTS_NO_ARG and not sep:
        return name, 0  # type: ignore[return-value]  # narrowed by the set membership above
    if name in _FAULTS_WITH_ARG and sep:
        return name, int(_number(f"fault {name}", arg))  # type: ignore[return-value]  # same
    raise DirectiveError(f"unknown or malformed fault {value!r}")


def _text_fields(settings: dict[str, str]) -> dict[str, object]:
    fields: dict[str, object] = {}
    for key in ("content", "args"):
        if f"{key}_b64" in settings:
            fields[key] = _b64(settings[f"{key}_b64"], f"{key}_b64")
        elif key in settings:
            fields[key] = settings[key]
    if "tool" in settings:
        fields["tool"] = settings["tool"]
    if "finish" in settings:
        if settings["finish"] not in ("stop", "length"):
            raise DirectiveError("finish must be stop or length")
        fields["finish"] = settings["finish"]
    if "usage" in settings:
        if settings["usage"] not in ("none", "yes"):
            raise DirectiveError("usage must be none or yes")
        fields["usage"] = settings["usage"] == "yes"
    if "fault" in settings:
        fields["fault"], fields["fault_arg"] = _fault(settings["fault"])
    return fields


def parse_directive(settings: dict[str, str]) -> Directive:
    """Build a ``Directive`` from merged settings.

    Raises:
        DirectiveError: unknown key or malformed value.
    """
    fields: dict[str, object] = {}
    for key, value in settings.items():
        if key in _INT_KEYS:
            fields[key] = int(_number(key, value))
        elif key in _FLOAT_KEYS:
            fields[key] = _number(key, value)
        elif key not in _TEXT_KEYS:
            raise DirectiveError(f"unknown directive key {key!r}")
    fields.update(_text_fields(settings))
    if fields.get("chunks") == 0:
        raise DirectiveError("chunks must be at least 1")
    fields["key"] = ";".join(f"{k}={settings[k]}" for k in sorted(settings))
    return msgspec.convert(fields, Directive)
