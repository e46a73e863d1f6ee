"""The access log: one JSON line per chat request on the ``gateway.access`` logger (the audit trail).

A line holds who (tenant, key id: never the key), what (requested alias, the deployment
that served it), how it went (status, outcome, error code, attempts, fallback, cache, guard
verdicts by rule) and what it cost (tokens, reserved and charged micro-dollars), with the
request id the client sent or was given (``x-request-id``) and the trace id, so a line, a
trace and a client's report can be joined. Request and response text is never logged,
unless the operator turns on ``telemetry.log_prompts``.

Lines are msgspec-encoded structs logged at INFO. Unless the operator configured the
``gateway.access`` logger itself (gave it a handler), the app adds a stdout handler at
startup that writes the bare JSON lines and stops them from propagating, so they are not
re-formatted by the framework's root logging configuration (Litestar prefixes level, time
and module) and a log shipper can parse every line as JSON.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

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


class AccessLog:
    """Writes ``AccessRecord`` lines; one per app."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(LOGGER_NAME)
        self._encoder = msgspec.json.Encoder()
        self._handler: logging.Handler | None = None
        """The stdout handler this app added (removed again at shutdown)."""

    def ensure_handler(self) -> None:
        """Give the access log a bare-JSON stdout handler unless it already has a handler."""
        logger = self._logger
        if logger.handlers:
            return
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        self._handler = handler

    def release_handler(self) -> None:
        """Undo ``ensure_handler`` (at app shutdown; the logger is process-wide)."""
        if self._handler is not None:
            self._logger.removeHandler(self._handler)
            self._logger.propagate = True
            self._logger.setLevel(logging.NOTSET)
            self._handler = None

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
        """Log the request's line (encoded only when the logger is enabled for INFO)."""
        if self._logger.isEnabledFor(logging.INFO):
            self._logger.info(self._encoder.encode(self.record(rt)).decode())
