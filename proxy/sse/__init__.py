"""Server-sent events: an incremental decoder and the encoder for what the gateway emits."""

from __future__ import annotations

from proxy.sse.decoder import SSEDecodeError, SSEDecoder, SSEEvent
from proxy.sse.encoder import DONE, KEEPALIVE, encode_data, encode_error

__all__ = ["DONE", "KEEPALIVE", "SSEDecodeError", "SSEDecoder", "SSEEvent", "encode_data", "encode_error"]
