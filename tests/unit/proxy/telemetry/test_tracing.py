"""Exporter selection from the OTel environment, span writing, and the cost of telemetry when it is off."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from proxy.settings import TelemetryEnvironment, telemetry_environment
from proxy.telemetry import Telemetry, TracingSetupError, tracing
from proxy.telemetry.tracing import build_tracer_provider
from schemas.telemetry import TelemetryConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from proxy.routing.attempts import AttemptRecord


def test_environment_defaults_to_no_exporter() -> None:
    env = telemetry_environment({})
    assert env.traces_exporters == ()
    assert env.otlp_protocol == "http/protobuf"
    assert env.prometheus_multiproc_dir is None


def test_environment_reads_the_standard_variables() -> None:
    env = telemetry_environment(
        {
            "OTEL_TRACES_EXPORTER": "otlp, console",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": "edge-gw",
            "PROMETHEUS_MULTIPROC_DIR": "/tmp/prom",
        }
    )
    assert env.traces_exporters == ("otlp", "console")
    assert env.otlp_protocol == "http/protobuf"
    assert env.service_name == "edge-gw"
    assert env.prometheus_multiproc_dir == "/tmp/prom"
    assert telemetry_environment({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}).traces_exporters == ()
    assert telemetry_environment({"OTEL_TRACES_EXPORTER": "none"}).traces_exporters == ()
    assert telemetry_environment({"OTEL_TRACES_EXPORTER": "NoOp"}).traces_exporters == ("noop",)


def test_provider_follows_the_environment() -> None:
    config = TelemetryConfig()
    assert build_tracer_provider(config, TelemetryEnvironment()) is None
    console = build_tracer_provider(config, TelemetryEnvironment(traces_exporters=("console",)))
    assert console is not None
    console.shutdown()
    otlp = build_tracer_provider(config, TelemetryEnvironment(traces_exporters=("otlp",), service_name="edge"))
    assert otlp is not None
    assert otlp.resource.attributes["service.name"] == "edge"
    otlp.shutdown()
    assert (
        build_tracer_provider(TelemetryConfig(tracing=False), TelemetryEnvironment(traces_exporters=("otlp",))) is None
    )
    noop = build_tracer_provider(config, TelemetryEnvironment(traces_exporters=("noop",)))
    assert noop is not None
    noop.shutdown()
    with pytest.raises(TracingSetupError, match="zipkin"):
        build_tracer_provider(config, TelemetryEnvironment(traces_exporters=("zipkin",)))
    with pytest.raises(TracingSetupError, match="grpc"):
        build_tracer_provider(config, TelemetryEnvironment(traces_exporters=("otlp",), otlp_protocol="grpc"))


def test_noop_exporter_builds_and_batches_every_span_then_drops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """``OTEL_TRACES_EXPORTER=noop``: a real tracer and batch processor; the spans reach the exporter."""
    made: list[tracing.DiscardingSpanExporter] = []

    class Recorded(tracing.DiscardingSpanExporter):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(tracing, "DiscardingSpanExporter", Recorded)
    telemetry = Telemetry(
        TelemetryConfig(metrics=False, access_log=False), telemetry_environment({"OTEL_TRACES_EXPORTER": "noop"})
    )
    assert telemetry.tracing
    _one_request(telemetry)
    telemetry.shutdown()  # flushes the batch processor
    (exporter,) = made
    assert exporter.exported == 5  # the root span and its four phases
    assert tracing.DiscardingSpanExporter().export([]) is SpanExportResult.SUCCESS


def test_span_tree_from_a_trace(make_record: Callable[..., AttemptRecord]) -> None:
    exporter = InMemorySpanExporter()
    telemetry = Telemetry(
        TelemetryConfig(metrics=False, access_log=False),
        TelemetryEnvironment(),
        provider_kinds={"up": "openai", "claude": "anthropic"},
        span_exporter=exporter,
    )
    rt = telemetry.start("req-1")
    rt.identify("acme", "k1")
    rt.model = "m"
    with rt.phase("auth"):
        pass
    rt.attempt_starting()
    rt.attempt_starting()
    rt.records = [make_record(1, "error"), make_record(2, "ok", alias="b", provider="claude", model="haiku")]
    rt.add_phase("settle", time.perf_counter_ns())
    telemetry.finish(rt)
    telemetry.finish(rt)  # idempotent
    spans = exporter.get_finished_spans()
    (root,) = (s for s in spans if s.kind == SpanKind.SERVER)
    assert root.attributes is not None
    assert root.name == "chat m"
    assert rt.trace_id == format(root.context.trace_id, "032x")
    assert root.attributes["gen_ai.provider.name"] == "anthropic"
    assert root.attributes["gen_ai.system"] == "anthropic"
    assert root.attributes["gen_ai.response.model"] == "haiku"
    assert root.attributes["gateway.fallback"] is True
    assert sorted(s.name for s in spans) == ["chat gpt-x", "chat haiku", "chat m", "gateway.auth", "gateway.settle"]
    assert len(spans) == 5
    assert root.parent is None
    assert root.context is not None
    for span in spans:
        assert span.context is not None
        assert span.context.trace_id == root.context.trace_id
        assert span.context.trace_flags.sampled
        assert span.instrumentation_scope is not None
        assert span.instrumentation_scope.name == "proxy.telemetry"
        if span is not root:
            assert span.parent is not None
            assert span.parent.span_id == root.context.span_id
    assert len({s.context.span_id for s in spans if s.context is not None}) == 5


def test_caller_trace_is_continued_and_its_sampling_decision_kept() -> None:
    exporter = InMemorySpanExporter()
    telemetry = Telemetry(
        TelemetryConfig(metrics=False, access_log=False), TelemetryEnvironment(), span_exporter=exporter
    )
    trace_id, span_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    rt = telemetry.start("sampled", f"00-{trace_id}-{span_id}-01")
    with rt.phase("auth"):
        pass
    telemetry.finish(rt)
    assert rt.trace_id == trace_id
    spans = exporter.get_finished_spans()
    (root,) = (s for s in spans if s.kind == SpanKind.SERVER)
    assert root.parent is not None
    assert root.parent.is_remote
    assert format(root.parent.span_id, "016x") == span_id
    assert {format(s.context.trace_id, "032x") for s in spans if s.context is not None} == {trace_id}
    exporter.clear()
    # The caller did not sample this trace: the parent-based sampler drops it, children included.
    unsampled = telemetry.start("unsampled", f"00-{trace_id}-{span_id}-00")
    with unsampled.phase("auth"):
        pass
    telemetry.finish(unsampled)
    assert unsampled.trace_id == trace_id
    assert exporter.get_finished_spans() == ()


def _one_request(telemetry: Telemetry) -> None:
    rt = telemetry.start("req")
    rt.identify("acme", "k1")
    for name in ("auth", "input_guards", "admission", "settle"):
        with rt.phase(name):
            pass
    rt.attempt_starting()
    rt.first_token()
    telemetry.finish(rt)


def _per_request_us(telemetry: Telemetry, n: int = 3000) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(n):
            _one_request(telemetry)
        best = min(best, (time.perf_counter() - started) / n * 1e6)
    return best


def test_tracing_off_costs_nothing_measurable() -> None:
    """Micro-benchmark: every telemetry call a request makes, with tracing off, against tracing on.

    The gateway's measured budget is ~410 us added per request; telemetry with tracing off must stay
    a rounding error of it (printed with ``-s``).
    """
    env = TelemetryEnvironment()
    off = Telemetry(TelemetryConfig(metrics=False, access_log=False), env)
    assert not off.tracing
    on = Telemetry(TelemetryConfig(metrics=False, access_log=False), env, span_exporter=InMemorySpanExporter())
    assert on.tracing
    cost_off = _per_request_us(off)
    cost_on = _per_request_us(on, n=500)
    print(f"\ntelemetry per request: tracing off {cost_off:.2f} us, tracing on (in-memory export) {cost_on:.2f} us")
    assert cost_off < 25
    assert cost_off * 3 < cost_on
