"""Anthropic error responses and in-band ``error`` events -> ``GatewayError``.

What the client sees, by cause:

* its own request is bad (400 ``invalid_request_error``, 413): ``InvalidRequestError`` with the
  provider's message, sanitised (key-like strings and the gateway's key removed, truncated);
* the gateway's provider key or deployment is wrong (401, 403, 404): ``UpstreamStatusError`` with
  a fixed message. The CLIENT's key is fine, so this never reads as "invalid api key";
* 429 / ``rate_limit_error``: ``UpstreamRateLimitError`` with ``Retry-After`` (seconds or HTTP date);
* 503, 529 / ``overloaded_error``: ``UpstreamUnavailableError``; 408, 504 / ``timeout_error``:
  ``UpstreamTimeoutError``; other statuses: ``UpstreamStatusError``.
"""

from __future__ import annotations

import email.utils
import re
import time
from typing import TYPE_CHECKING

import msgspec

from proxy.errors import (
    InvalidRequestError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from proxy.errors import GatewayError

__all__ = ["error_from_type", "map_status", "parse_retry_after", "sanitise"]

_KEYLIKE = re.compile(r"(sk-ant-[\w-]+|sk-[\w-]{8,}|[A-Za-z0-9_-]{32,})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MAX_MESSAGE = 300
_CREDENTIALS = "The upstream provider rejected the gateway's credentials for this deployment."
_NOT_FOUND = "The upstream provider does not serve this deployment's model."


class _ErrorDetail(msgspec.Struct):
    type: str = ""
    message: str = ""


class _ErrorBody(msgspec.Struct):
    error: _ErrorDetail = msgspec.field(default_factory=_ErrorDetail)


def sanitise(message: str, secret: str | None = None) -> str:
    """Make a provider message safe to show a client: no keys, no control characters, bounded."""
    if secret:
        message = message.replace(secret, "[redacted]")
    message = _KEYLIKE.sub("[redacted]", _CONTROL.sub(" ", message)).strip()
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return message


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), if any."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_type(
    error_type: str, message: str, *, secret: str | None = None, retry_after: float | None = None
) -> GatewayError:
    """Map an Anthropic error ``type`` (from a body or an in-band event) to a gateway error."""
    if error_type == "invalid_request_error":
        return InvalidRequestError(
            f"The upstream model rejected the request: {sanitise(message, secret)}", code="upstream_invalid_request"
        )
    if error_type == "request_too_large":
        return InvalidRequestError("The request is too large for the upstream model.", code="request_too_large")
    if error_type in ("authentication_error", "permission_error"):
        return UpstreamStatusError(_CREDENTIALS)
    if error_type == "not_found_error":
        return UpstreamStatusError(_NOT_FOUND)
    if error_type == "rate_limit_error":
        return UpstreamRateLimitError("The upstream provider is rate limiting requests.", retry_after=retry_after)
    if error_type == "overloaded_error":
        return UpstreamUnavailableError("The upstream provider is overloaded.", retry_after=retry_after)
    if error_type == "timeout_error":
        return UpstreamTimeoutError("The upstream provider timed out.")
    return UpstreamStatusError("The upstream provider failed to answer.")


def _status_type(status: int) -> str:
    if status in (401, 403):
        return "authentication_error"
    if status == 404:
        return "not_found_error"
    if status == 413:
        return "request_too_large"
    if status == 429:
        return "rate_limit_error"
    if status in (503, 529):
        return "overloaded_error"
    if status in (408, 504):
        return "timeout_error"
    return "api_error"


def map_status(status: int, headers: Mapping[str, str], body: bytes, secret: str | None = None) -> GatewayError:
    """Map an Anthropic HTTP error response to a gateway error.

    The status decides the class; the body's ``error.type`` only refines a 400 (whose
    message is the one part of the body a client may see, sanitised).
    """
    try:
        detail = msgspec.json.decode(body, type=_ErrorBody).error
    except msgspec.DecodeError:
        detail = _ErrorDetail()
    retry_after = parse_retry_after(headers)
    if status == 400:
        if detail.type in ("", "invalid_request_error"):
            return error_from_type("invalid_request_error", detail.message or "invalid request", secret=secret)
        return error_from_type(detail.type, detail.message, secret=secret, retry_after=retry_after)
    return error_from_type(_status_type(status), detail.message, secret=secret, retry_after=retry_after)
