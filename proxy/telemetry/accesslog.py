"""The access log: one JSON line per chat request on the ``gateway.access`` logger (the audit trail).

A line holds who (tenant, key id: never the key), what (requested alias, the deployment
that served it), how it went (status, outcome, error code, attempts, fallback, cache, guard
verdicts by rule) and what it cost (tokens, reserved and charged micro-dollars), with the
request id the client sent or was given (``x-request-id``) and the trace id, so a line, a
trace and a client's report can be joined. Request and response text is never logged,
unless the operator turns on ``telemetry.log_prompts``.

Lines are msgspec-encoded structs. When the operator configured the ``gateway.access``
logger (gave it a handler), lines are logged there at INFO. Otherwise the app writes the
bare JSON lines to stdout itself, buffered and flushed within 50 ms (or at 32 KiB, or at
shutdown): going through ``logging`` with a flush per line cost a record object, a lock
and a write syscall per request on the hot path. Either way a log shipper gets one JSON
object per line, never re-formatted by the framework's root logging configuration.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, BinaryIO

import msgspec

if TYPE_CHECKING:
    from proxy.telemetry.context import RequestTrace

__all__ = ["LOGGER_NAME", "AccessLog", "AccessRecord"]

LOGGER_NAME = "gateway.access"
"""The logger access lines go to (configure it to route them elsewhere)."""


class AccessRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One access log line."""

    ts: float
    """Unix time the request arrived, in seconds."""
    request_id: str
    tenant: str | None = None
    key_id: str | None = None
    model: str | None = None
    deployment: str | None = None
    stream: bool = False
    status: int
    outcome: str
    error_code: str | None = None
    latency_ms: float
    ttft_ms: float | None = None
    attempts: int = 0
    fallback: bool = False
    cache: str
    guard: list[str] = []
    input_tokens: int = 0
    output_tokens: int = 0
    reserved_micro_usd: int = 0
    cost_micro_usd: int = 0
    trace_id: str | None = None
    prompt: str | None = None


_FLUSH_DELAY_S = 0.05
_FLUSH_BYTES = 32 * 1024


class AccessLog:
    """Writes ``AccessRecord`` lines; one per app."""

    def __init__(self, logger: logging.Logger | None = None, stream: BinaryIO | None = None) -> None:
        self._logger = logger or logging.getLogger(LOGGER_NAME)
        self._encoder = msgspec.json.Encoder()
        self._stream = stream
        self._direct = False
        """True when this app writes lines to the stream itself (no operator handler)."""
        self._buffer = bytearray()
        self._timer: asyncio.TimerHandle | None = None

    def ensure_handler(self) -> None:
        """Write bare JSON lines to stdout ourselves unless the operator gave the logger a handler."""
        self._direct = not self._logger.handlers

    def release_handler(self) -> None:
        """Flush what is buffered (at app shutdown)."""
        self.flush()
        self._direct = False

    def flush(self) -> None:
        """Write the buffered lines now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._buffer:
            return
        stream = self._stream if self._stream is not None else sys.stdout.buffer
        data = bytes(self._buffer)
        self._buffer.clear()
        try:
            stream.write(data)
            stream.flush()
        except (OSError, ValueError):
            pass  # stdout closed or full: dropping access lines must never fail a request

    def record(self, rt: RequestTrace) -> AccessRecord:
        """The line for a finished request."""
        served = rt.served()
        end = rt.end_ns or rt.start_ns
        return AccessRecord(
            ts=rt.wall_ns / 1e9,
            request_id=rt.request_id,
            tenant=rt.tenant,
            key_id=rt.key_id,
            model=rt.model,
            deployment=served.candidate.label if served is not None else None,
            stream=rt.stream,
            status=rt.status,
            outcome=rt.outcome,
            error_code=rt.error_code,
            latency_ms=round((end - rt.start_ns) / 1e6, 3),
            ttft_ms=round((rt.first_token_ns - rt.start_ns) / 1e6, 3) if rt.first_token_ns is not None else None,
            attempts=len(rt.records),
            fallback=served is not None
            and bool(rt.records)
            and served.candidate.label != rt.records[0].candidate.label,
            cache=rt.cache_status,
            guard=[v.label() for v in rt.verdicts] + ([b.label()] if (b := rt.blocked_input()) is not None else []),
            input_tokens=rt.input_tokens,
            output_tokens=rt.output_tokens,
            reserved_micro_usd=rt.reserved_micro_usd,
            cost_micro_usd=rt.cost_micro_usd,
            trace_id=rt.trace_id,
            prompt=rt.prompt,
        )

    def write(self, rt: RequestTrace) -> None:
        """Emit the request's line."""
        if self._direct:
            self._encoder.encode_into(self.record(rt), self._buffer, -1)
            self._buffer += b"\n"
            if len(self._buffer) >= _FLUSH_BYTES:
                self.flush()
            elif self._timer is None:
                try:
                    self._timer = asyncio.get_running_loop().call_later(_FLUSH_DELAY_S, self.flush)
                except RuntimeError:
                    self.flush()  # no event loop (a synchronous caller): write at once
        elif self._logger.isEnabledFor(logging.INFO):
            self._logger.info(self._encoder.encode(self.record(rt)).decode())
