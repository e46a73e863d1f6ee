"""Observability configuration (the ``telemetry:`` section): traces, metrics and the access log.

Where spans go is not configured here: the standard OpenTelemetry environment variables
choose the exporter (``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_*``), as every OTel SDK
does, and ``proxy.settings`` is the only place that reads them. This section only says what
the gateway records. Every default keeps identifiers that could grow without bound (API key
ids as metric labels) and request content (prompts) out of the telemetry.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas.base import ConfigStruct

__all__ = ["TelemetryConfig"]


class TelemetryConfig(ConfigStruct, kw_only=True):
    """What the gateway records about each request."""

    tracing: bool = True
    """Emit one trace per request when an exporter is configured; ``false`` forces the no-op path."""
    service_name: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] = "genai-gateway"
    """``service.name`` of the spans (``OTEL_SERVICE_NAME`` wins when set)."""
    metrics: bool = True
    """Serve Prometheus metrics on ``/metrics``."""
    metrics_include_key_id: bool = False
    """Add a ``key_id`` label to request, token and cost metrics (one series per key: mind cardinality)."""
    access_log: bool = True
    """One JSON line per request on the ``gateway.access`` logger."""
    log_prompts: bool = False
    """Put the request's message text in the access log line (truncated). Off: prompts can hold personal data."""
    prompt_log_chars: Annotated[int, msgspec.Meta(ge=0, le=65_536)] = 2_000
    """How much prompt text an access log line keeps when ``log_prompts`` is on."""
