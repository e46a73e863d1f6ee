"""Observability: one trace per request, Prometheus metrics and the JSON access log.

The request path uses ``Telemetry`` (``start``/``finish``) and the ``RequestTrace`` it returns;
``/metrics`` renders ``Telemetry.metrics``. See each module's docstring for what it records.
"""

from __future__ import annotations

from proxy.telemetry.accesslog import AccessLog, AccessRecord
from proxy.telemetry.context import ObservedFilter, RequestTrace, Verdict
from proxy.telemetry.metrics import METRIC_NAMES, GatewayMetrics
from proxy.telemetry.recorder import Telemetry
from proxy.telemetry.tracing import TracingSetupError

__all__ = [
    "METRIC_NAMES",
    "AccessLog",
    "AccessRecord",
    "GatewayMetrics",
    "ObservedFilter",
    "RequestTrace",
    "Telemetry",
    "TracingSetupError",
    "Verdict",
]
