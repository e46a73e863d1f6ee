"""What the gateway writes on an event stream: data events, the error event, ``[DONE]``, keep-alives."""

from __future__ import annotations

import msgspec

from schemas.errors import ErrorBody, ErrorResponse

__all__ = ["DONE", "KEEPALIVE", "encode_data", "encode_error"]

DONE = b"data: [DONE]\n\n"
"""The OpenAI end-of-stream marker; sent only after a complete, successful stream."""

KEEPALIVE = b": keep-alive\n\n"
"""A comment line: keeps idle connections open, ignored by every SSE client."""

_encoder = msgspec.json.Encoder()


def encode_data(payload: bytes) -> bytes:
    """Frame one JSON payload (which never contains a newline) as a ``data:`` event."""
    return b"data: " + payload + b"\n\n"


def encode_error(body: ErrorBody) -> bytes:
    """Frame the in-band error event that ends a stream after its first byte."""
    return encode_data(_encoder.encode(ErrorResponse(error=body)))
