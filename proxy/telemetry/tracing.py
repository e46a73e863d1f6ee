"""OpenTelemetry traces: one root span per request, written after the fact from a ``RequestTrace``.

Span tree (every child carries explicit start and end times taken on the request path)::

    chat <alias>                    SERVER  gen_ai.* + gateway.* attributes, status code
    ├── gateway.auth
    ├── gateway.input_guards        gateway.guard.verdicts (input)
    ├── gateway.cache               gateway.cache.status
    ├── gateway.admission           one per model alias tried (a fallback alias has its own price)
    ├── chat <upstream model>       CLIENT, one per upstream attempt (from AttemptRecords)
    ├── gateway.output_guards       first to last filter call; gateway.guard.cpu_ms, verdicts (output)
    └── gateway.settle

Attribute names follow the GenAI semantic conventions (``gen_ai.operation.name``,
``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.provider.name`` and the older
``gen_ai.system``, ``gen_ai.usage.*``); the gateway's own are under ``gateway.``. Error
*codes* are recorded, never messages (a provider's error text could echo a prompt).

The exporter is chosen by the standard environment variables, read by ``proxy.settings``:
``OTEL_TRACES_EXPORTER=otlp|console|noop|none`` (here ``none`` by default: nothing leaves the
process unless asked) and ``OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf|grpc``. Spans go
through a ``BatchSpanProcessor``, so exporting never happens on the event loop. With no
exporter, no tracer provider exists at all and ``Telemetry`` skips this module.

``noop`` is the gateway's own value (not in the OTel spec): every span is built, ended and
handed to the ``BatchSpanProcessor`` exactly as with a real exporter, and the batches are then
dropped by ``DiscardingSpanExporter``. It measures what tracing costs the gateway itself
(benchmarks, issue 9's "tracing with a no-op exporter") without a collector or the
exporter's serialisation; ``none`` instead builds no tracer at all.

Spans are built finished. A request's spans are written once it is over, with every start and
end time already known, so ``SpanWriter`` makes the SDK's finished-span type (``ReadableSpan``,
what exporters receive) directly and hands each to the provider's span processors
(``on_end``), instead of opening and ending live spans through ``Tracer.start_span``. The
spans, their ids, parents, attributes and the sampling decision are the same; the live-span
machinery (context lookups, a sampler call, attribute re-validation and two locks per span)
cost about 21 us per span, 8 spans a request, a quarter of an enforced request's CPU. The
root span asks the provider's sampler (``OTEL_TRACES_SAMPLER``, parent-based by default);
its children follow its decision, as a parent-based sampler makes them do. ``on_start`` is
not called: the processors built here (batch and simple) do nothing in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.util.types import AttributeValue

    from proxy.settings import TelemetryEnvironment
    from proxy.telemetry.context import RequestTrace
    from schemas.telemetry import TelemetryConfig

__all__ = ["DiscardingSpanExporter", "SpanWriter", "TracingSetupError", "build_tracer_provider", "build_tracing"]


class TracingSetupError(Exception):
    """The OTel environment names an exporter or protocol this installation cannot provide."""


class DiscardingSpanExporter(SpanExporter):
    """``OTEL_TRACES_EXPORTER=noop``: accepts every batch and drops it (counting the spans it saw)."""

    def __init__(self) -> None:
        self.exported = 0
        """Spans received so far (a check that spans really reach the exporter)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Drop ``spans``."""
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


def _otlp_exporter(protocol: str) -> SpanExporter:
    if protocol in ("http/protobuf", "http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError as exc:
            raise TracingSetupError(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the opentelemetry-exporter-otlp-proto-grpc package"
            ) from exc
        exporter: SpanExporter = GrpcExporter()
        return exporter
    raise TracingSetupError(f"unsupported OTLP protocol {protocol!r} (use http/protobuf or grpc)")


def build_tracer_provider(
    config: TelemetryConfig, env: TelemetryEnvironment, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider for this app, or ``None`` when tracing is off (see ``build_tracing``)."""
    built = build_tracing(config, env, exporter)
    return built[0] if built is not None else None


def build_tracing(
    config: TelemetryConfig, env: TelemetryEnvironment, exporter: SpanExporter | None = None
) -> tuple[TracerProvider, SpanProcessor] | None:
    """A tracer provider and its span processor, or ``None`` when tracing is off (no exporter, or disabled).

    ``exporter`` (tests: an ``InMemorySpanExporter``) is exported to synchronously and overrides the
    environment. The provider is not installed globally: two apps in one process stay separate.

    Raises:
        TracingSetupError: an unknown exporter name or an unavailable protocol.
    """
    if not config.tracing:
        return None
    processors: list[SpanProcessor] = []
    if exporter is not None:
        processors.append(SimpleSpanProcessor(exporter))
    else:
        for name in env.traces_exporters:
            if name == "otlp":
                processors.append(BatchSpanProcessor(_otlp_exporter(env.otlp_protocol)))
            elif name == "console":
                processors.append(BatchSpanProcessor(ConsoleSpanExporter()))
            elif name == "noop":
                processors.append(BatchSpanProcessor(DiscardingSpanExporter()))
            else:
                raise TracingSetupError(f"unsupported OTEL_TRACES_EXPORTER {name!r} (use otlp, console, noop or none)")
    if not processors:
        return None
    active = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]  # untyped in the SDK
    provider = TracerProvider(
        resource=Resource.create({"service.name": env.service_name or config.service_name}),
        active_span_processor=active,
    )
    for processor in processors:
        provider.add_span_processor(processor)
    return provider, active


class SpanWriter:
    """Turns finished ``RequestTrace``\\ s into finished spans, handed to the provider's processors."""

    def __init__(self, provider: TracerProvider, processor: SpanProcessor, provider_kinds: Mapping[str, str]) -> None:
        self._processor = processor
        self._sampler = provider.sampler
        self._ids = provider.id_generator
        self._resource = provider.resource
        self._scope = InstrumentationScope("proxy.telemetry")
        self._kinds = provider_kinds
        self._propagator = TraceContextTextMapPropagator()

    def write(self, rt: RequestTrace) -> str:
        """Emit the request's span tree; return its trace id (hex)."""
        parent: SpanContext | None = None
        parent_context = None
        if rt.traceparent:
            parent_context = self._propagator.extract({"traceparent": rt.traceparent})
            remote = trace.get_current_span(parent_context).get_span_context()
            parent = remote if remote.is_valid else None
        trace_id = parent.trace_id if parent is not None else self._ids.generate_trace_id()
        name = f"chat {rt.model or 'unknown'}"
        decision = self._sampler.should_sample(
            parent_context, trace_id, name, SpanKind.SERVER, self._root_attributes(rt)
        )
        if decision.decision is Decision.DROP:
            return format(trace_id, "032x")
        flags = TraceFlags.SAMPLED if decision.decision is Decision.RECORD_AND_SAMPLE else TraceFlags.DEFAULT
        if parent.trace_flags.random_trace_id if parent is not None else self._ids.is_trace_id_random():
            flags |= TraceFlags.RANDOM_TRACE_ID
        root = SpanContext(
            trace_id,
            self._ids.generate_span_id(),
            False,
            trace_flags=TraceFlags(flags),
            trace_state=decision.trace_state,
        )
        base, settle_start = rt.wall_ns - rt.start_ns, rt.end_ns
        for phase in rt.phases:
            attrs: dict[str, AttributeValue] = {}
            if phase.error_code:
                attrs["error.type"] = phase.error_code
            if phase.name == "input_guards":
                attrs["gateway.guard.verdicts"] = tuple(v.label() for v in rt.verdicts if v.stage == "input")
            elif phase.name == "cache":
                attrs["gateway.cache.status"] = rt.cache_status
            elif phase.name == "settle":
                settle_start = min(settle_start, phase.start_ns)
            self._emit(f"gateway.{phase.name}", root, attrs, base + phase.start_ns, base + phase.end_ns)
        self._attempts(rt, root, base, settle_start)
        if rt.guard_first_ns:
            attrs = {
                "gateway.guard.cpu_ms": rt.guard_ns / 1e6,
                "gateway.guard.verdicts": tuple(v.label() for v in rt.verdicts if v.stage == "output"),
            }
            self._emit("gateway.output_guards", root, attrs, base + rt.guard_first_ns, base + rt.guard_last_ns)
        error = rt.status >= 500 or (rt.stream and rt.outcome == "error")
        self._processor.on_end(
            ReadableSpan(
                name,
                context=root,
                parent=parent,
                resource=self._resource,
                attributes=decision.attributes,
                kind=SpanKind.SERVER,
                status=Status(StatusCode.ERROR) if error else Status(StatusCode.UNSET),
                start_time=rt.wall_ns,
                end_time=base + rt.end_ns,
                instrumentation_scope=self._scope,
            )
        )
        return format(trace_id, "032x")

    def _emit(
        self,
        name: str,
        parent: SpanContext,
        attrs: Mapping[str, AttributeValue],
        start: int,
        end: int,
        kind: SpanKind = SpanKind.INTERNAL,
        error: bool = False,
    ) -> None:
        self._processor.on_end(
            ReadableSpan(
                name,
                # A child shares its root's trace id, flags and state.
                context=SpanContext(
                    parent.trace_id,
                    self._ids.generate_span_id(),
                    False,
                    trace_flags=parent.trace_flags,
                    trace_state=parent.trace_state,
                ),
                parent=parent,
                resource=self._resource,
                attributes=attrs,
                kind=kind,
                status=Status(StatusCode.ERROR) if error else Status(StatusCode.UNSET),
                start_time=start,
                end_time=end,
                instrumentation_scope=self._scope,
            )
        )

    def _attempts(self, rt: RequestTrace, root: SpanContext, base: int, settle_start: int) -> None:
        previous_end = rt.start_ns
        for index, record in enumerate(rt.records):
            start = rt.attempt_starts[index] if index < len(rt.attempt_starts) else previous_end
            end = start + int(record.latency_ms * 1e6)
            if rt.stream and record.outcome == "ok":
                # A streamed attempt lives on after priming, until the relay finished (settle starts).
                end = max(end, settle_start)
            previous_end = end
            deployment = record.candidate.deployment
            attrs: dict[str, AttributeValue] = {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": deployment.model,
                "gen_ai.provider.name": self._kinds.get(deployment.provider, deployment.provider),
                "gateway.provider": deployment.provider,
                "gateway.deployment": record.candidate.label,
                "gateway.model_alias": record.candidate.alias,
                "gateway.attempt.number": record.number,
                "gateway.attempt.outcome": record.outcome,
                "gateway.attempt.latency_ms": round(record.latency_ms, 3),
            }
            if record.error_code:
                attrs["error.type"] = record.error_code
            usage = record.plan.usage if record.plan is not None else None
            if usage is not None:
                attrs["gen_ai.response.model"] = deployment.model
                attrs["gen_ai.usage.input_tokens"] = usage.prompt_tokens
                attrs["gen_ai.usage.output_tokens"] = usage.completion_tokens
            self._emit(
                f"chat {deployment.model}",
                root,
                attrs,
                base + start,
                base + end,
                SpanKind.CLIENT,
                error=record.outcome == "error",
            )

    def _root_attributes(self, rt: RequestTrace) -> dict[str, AttributeValue]:
        attrs: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "gateway.request_id": rt.request_id,
            "gateway.stream": rt.stream,
            "gateway.outcome": rt.outcome,
            "gateway.cache.status": rt.cache_status,
            "gateway.guard.verdicts": tuple(v.label() for v in rt.verdicts),
            "gateway.cost.reserved_micro_usd": rt.reserved_micro_usd,
            "gateway.cost.actual_micro_usd": rt.cost_micro_usd,
            "gen_ai.usage.input_tokens": rt.input_tokens,
            "gen_ai.usage.output_tokens": rt.output_tokens,
            "gateway.attempts": len(rt.records),
            "http.response.status_code": rt.status,
        }
        if rt.model:
            attrs["gen_ai.request.model"] = rt.model
        if rt.tenant:
            attrs["gateway.tenant"] = rt.tenant
        if rt.key_id:
            attrs["gateway.key_id"] = rt.key_id
        if rt.error_code:
            attrs["error.type"] = rt.error_code
        served = rt.served()
        if served is not None:
            deployment = served.candidate.deployment
            kind = self._kinds.get(deployment.provider, deployment.provider)
            attrs["gen_ai.response.model"] = deployment.model
            attrs["gen_ai.provider.name"] = kind
            attrs["gen_ai.system"] = kind
            attrs["gateway.deployment"] = served.candidate.label
            attrs["gateway.fallback"] = bool(rt.model) and served.candidate.alias != rt.model
        if rt.first_token_ns is not None:
            attrs["gateway.ttft_ms"] = round((rt.first_token_ns - rt.start_ns) / 1e6, 3)
        return attrs
