"""The OpenAI error envelope: ``{"error": {"message", "type", "param", "code"}}``.

``param`` and ``code`` are always present (``null`` when empty), as in OpenAI's own
responses, so the official SDKs fill their exception attributes.
"""

from __future__ import annotations

import msgspec

__all__ = ["ErrorBody", "ErrorResponse"]


class ErrorBody(msgspec.Struct, kw_only=True):
    """The body of an OpenAI error."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(msgspec.Struct, kw_only=True):
    """The OpenAI error envelope."""

    error: ErrorBody
