"""``Telemetry``: the one object the request path talks to; traces, metrics and the access log behind it.

The request path creates a ``RequestTrace`` with ``start()``, writes plain values into it
as it goes, and hands it to ``finish()`` exactly once (``finish`` is idempotent, so every
exit path may call it). ``finish`` then writes the spans (when tracing is on), updates the
metrics and logs the access line, in that order, so the line carries the trace id.
Telemetry never fails a request: an exception in it is logged and swallowed.

Built once per app by the composition root; nothing here is a module global.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from proxy.settings import TelemetryEnvironment
from proxy.telemetry.accesslog import AccessLog
from proxy.telemetry.context import RequestTrace
from proxy.telemetry.metrics import GatewayMetrics
from proxy.telemetry.tracing import SpanWriter, build_tracing
from schemas.chat import message_text
from schemas.telemetry import TelemetryConfig

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from opentelemetry.sdk.trace.export import SpanExporter

    from proxy.settings import Settings
    from schemas.chat import ChatMessage

__all__ = ["Telemetry"]

_log = logging.getLogger("gateway.telemetry")


class Telemetry:
    """Per-app telemetry: a tracer provider (or none), a metrics registry (or none), an access log (or none)."""

    def __init__(
        self,
        config: TelemetryConfig,
        env: TelemetryEnvironment,
        *,
        provider_kinds: Mapping[str, str] | None = None,
        span_exporter: SpanExporter | None = None,
    ) -> None:
        """Build the outputs ``config`` asks for.

        Args:
            config: the ``telemetry:`` section.
            env: exporter choice and multiprocess directory (``proxy.settings.telemetry_environment``).
            provider_kinds: provider name -> ``openai``/``anthropic``/``fake``, for ``gen_ai.provider.name``.
            span_exporter: export spans here synchronously instead of what the environment names (tests).

        Raises:
            TracingSetupError: the environment names an exporter that is not available.
        """
        self.config = config
        tracing = build_tracing(config, env, span_exporter)
        self._provider = tracing[0] if tracing is not None else None
        self._spans = SpanWriter(*tracing, provider_kinds or {}) if tracing is not None else None
        self.metrics = (
            GatewayMetrics(include_key_id=config.metrics_include_key_id, multiproc_dir=env.prometheus_multiproc_dir)
            if config.metrics
            else None
        )
        self.access_log = AccessLog() if config.access_log else None

    @classmethod
    def from_settings(cls, settings: Settings, span_exporter: SpanExporter | None = None) -> Telemetry:
        """Telemetry for a loaded configuration."""
        config = settings.config
        kinds = {p.name: str(p.__struct_config__.tag) for p in config.providers}
        return cls(config.telemetry, settings.telemetry_env, provider_kinds=kinds, span_exporter=span_exporter)

    @classmethod
    def disabled(cls) -> Telemetry:
        """Telemetry that records nothing (for states built without one)."""
        return cls(TelemetryConfig(tracing=False, metrics=False, access_log=False), TelemetryEnvironment())

    @property
    def tracing(self) -> bool:
        """Whether spans are written."""
        return self._spans is not None

    def start(self, request_id: str, traceparent: str | None = None) -> RequestTrace:
        """A new request's record (the caller's ``traceparent`` is kept only when tracing is on)."""
        return RequestTrace(request_id, traceparent if self._spans is not None else None)

    def note_prompt(self, rt: RequestTrace, messages: Iterable[ChatMessage]) -> None:
        """Keep the request text for the access log, only when ``log_prompts`` is on."""
        if self.config.log_prompts and self.access_log is not None:
            text = "\n".join(message_text(m) for m in messages)
            rt.prompt = text[: self.config.prompt_log_chars]

    def reservation(self, tenant: str, delta: int) -> None:
        """A spend reservation opened (+1) or closed (-n), for the open-reservations gauge."""
        if self.metrics is not None and delta:
            self.metrics.reservation(tenant, delta)

    def fail(self, rt: RequestTrace, exc: BaseException) -> None:
        """Finish a request that raised ``exc`` (no-op when it is already finished)."""
        if not rt.finished:
            rt.fail(exc)
            self.finish(rt)

    def finish(self, rt: RequestTrace) -> None:
        """Write spans, metrics and the access line for a finished request, once."""
        if rt.finished:
            return
        rt.finished = True
        rt.end_ns = time.perf_counter_ns()
        try:
            if self._spans is not None:
                rt.trace_id = self._spans.write(rt)
            if self.metrics is not None:
                self.metrics.observe(rt)
                self.metrics.set_breakers({r.candidate.label: r.candidate.breaker.state for r in rt.records})
            if self.access_log is not None:
                self.access_log.write(rt)
        except Exception:  # noqa: BLE001 - telemetry must never fail or hide the request's own outcome
            _log.exception("telemetry for request %s failed", rt.request_id)

    def startup(self) -> None:
        """At app start: make sure the access log goes somewhere."""
        if self.access_log is not None:
            self.access_log.ensure_handler()

    def shutdown(self) -> None:
        """At app stop: flush pending spans, release this worker's multiprocess gauges."""
        if self.access_log is not None:
            self.access_log.release_handler()
        if self._provider is not None:
            self._provider.shutdown()
        if self.metrics is not None:
            self.metrics.close()
