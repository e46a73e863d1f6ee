"""Prometheus metrics: one registry per app, updated once per request from its ``RequestTrace``.

Every metric and its labels (``METRIC_NAMES`` lists them; deploy/alerts.yml and the Grafana
dashboard use exactly these)::

    gateway_requests_total{tenant,model,status[,key_id]}             counter
    gateway_request_errors_total{tenant,model,code}                  counter (pre-stream and in-band errors)
    gateway_request_duration_seconds{tenant,model,stream}           histogram
    gateway_time_to_first_token_seconds{tenant,model}                histogram (streams)
    gateway_tokens_total{tenant,model,direction[,key_id]}            counter (direction: input|output)
    gateway_cost_micro_usd_total{tenant,model[,key_id]}              counter (charged at settle)
    gateway_cache_requests_total{tenant,result}                      counter (hit|miss)
    gateway_guard_verdicts_total{tenant,stage,rule,action}           counter
    gateway_limit_rejections_total{tenant,reason}                    counter (rate/budget/concurrency codes)
    gateway_upstream_attempts_total{deployment,outcome,code}         counter
    gateway_fallbacks_total{tenant,model}                            counter (served off their first deployment)
    gateway_circuit_breaker_state{deployment}                        gauge 0 closed, 1 half-open, 2 open
    gateway_open_reservations{tenant}                                gauge (spend reservations held by this process)

``model`` is always the alias the client asked for, and only once it is known to exist;
``tenant`` comes from config; ``deployment`` is ``provider/model`` from config; codes and
rule names come from the gateway's own tables. So cardinality is bounded by config, never
by what clients send. ``key_id`` is added only with ``telemetry.metrics_include_key_id``.

Open reservations are counted in-process (admit +1, settle -1) rather than read from the
store at scrape time: a scrape must not cost a store round trip per tenant. Summed over
replicas it is the fleet's in-flight reservations; the store's own view (with expired
leases) stays on ``/admin/usage``.

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory, the same
for every worker, before the gateway starts (prometheus-client decides its storage when it
is imported). Each scrape then aggregates every worker's files; gauges use ``livesum``
(reservations) and ``livemax`` (breakers, the worst state any worker sees), and a worker
that exits is marked dead at shutdown.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prom_multiprocess

if TYPE_CHECKING:
    from collections.abc import Mapping

    from proxy.telemetry.context import RequestTrace

__all__ = ["BREAKER_STATES", "LIMIT_CODES", "METRIC_NAMES", "GatewayMetrics"]

LIMIT_CODES = frozenset({"rate_limit_exceeded", "budget_exceeded", "concurrency_limit_exceeded"})
"""Error codes that mean "refused by the tenant's own limits"."""
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
METRIC_NAMES = (
    "gateway_cache_degraded",
    "gateway_cache_requests_total",
    "gateway_cache_saved_micro_usd",
    "gateway_cache_store_errors",
    "gateway_circuit_breaker_state",
    "gateway_cost_micro_usd_total",
    "gateway_fallbacks_total",
    "gateway_guard_verdicts_total",
    "gateway_limit_rejections_total",
    "gateway_open_reservations",
    "gateway_request_duration_seconds",
    "gateway_request_errors_total",
    "gateway_requests_total",
    "gateway_time_to_first_token_seconds",
    "gateway_tokens_total",
    "gateway_upstream_attempts_total",
)
"""Every metric family this module exports (histograms add ``_bucket``/``_sum``/``_count``)."""

_NONE = "none"
_Metric = Counter | Gauge | Histogram
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class GatewayMetrics:
    """The gateway's metrics in a registry of its own (two apps in one process share nothing)."""

    def __init__(self, *, include_key_id: bool = False, multiproc_dir: str | None = None) -> None:
        self._key = include_key_id
        self._multiproc_dir = multiproc_dir
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        key = ("key_id",) if include_key_id else ()
        self.requests = Counter(
            "gateway_requests", "Chat requests by final HTTP status.", ("tenant", "model", "status", *key), registry=reg
        )
        self.errors = Counter(
            "gateway_request_errors",
            "Requests that ended in an error, by error code (including in-band stream errors).",
            ("tenant", "model", "code"),
            registry=reg,
        )
        self.duration = Histogram(
            "gateway_request_duration_seconds",
            "Request latency, to the last byte.",
            ("tenant", "model", "stream"),
            buckets=_LATENCY_BUCKETS,
            registry=reg,
        )
        self.ttft = Histogram(
            "gateway_time_to_first_token_seconds",
            "Streams: time until the first content was ready to send.",
            ("tenant", "model"),
            buckets=_TTFT_BUCKETS,
            registry=reg,
        )
        self.tokens = Counter(
            "gateway_tokens", "Tokens charged, by direction.", ("tenant", "model", "direction", *key), registry=reg
        )
        self.cost = Counter(
            "gateway_cost_micro_usd",
            "Spend charged at settle, in micro-dollars.",
            ("tenant", "model", *key),
            registry=reg,
        )
        self.cache = Counter("gateway_cache_requests", "Cache lookups by result.", ("tenant", "result"), registry=reg)
        self.verdicts = Counter(
            "gateway_guard_verdicts",
            "Guard decisions by stage, rule and action.",
            ("tenant", "stage", "rule", "action"),
            registry=reg,
        )
        self.rejections = Counter(
            "gateway_limit_rejections",
            "Requests refused by rate, concurrency or budget limits.",
            ("tenant", "reason"),
            registry=reg,
        )
        self.attempts = Counter(
            "gateway_upstream_attempts",
            "Upstream attempts by deployment and outcome.",
            ("deployment", "outcome", "code"),
            registry=reg,
        )
        self.fallbacks = Counter(
            "gateway_fallbacks",
            "Requests that left their first deployment (retry elsewhere or fallback alias).",
            ("tenant", "model"),
            registry=reg,
        )
        self.breakers = Gauge(
            "gateway_circuit_breaker_state",
            "Circuit breaker per deployment: 0 closed, 1 half-open, 2 open.",
            ("deployment",),
            registry=reg,
            multiprocess_mode="livemax",
        )
        self.cache_saved = Gauge(
            "gateway_cache_saved_micro_usd",
            "Spend avoided by cache hits since start (what the hits would have cost upstream).",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.cache_degraded = Gauge(
            "gateway_cache_degraded",
            "1 while the cache store is failing and the cache fails open (requests go upstream).",
            registry=reg,
            multiprocess_mode="livemax",
        )
        self.cache_store_errors = Gauge(
            "gateway_cache_store_errors",
            "Cache store operations that failed since start.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.reservations = Gauge(
            "gateway_open_reservations",
            "Spend reservations held by requests in flight in this process.",
            ("tenant",),
            registry=reg,
            multiprocess_mode="livesum",
        )

    def observe(self, rt: RequestTrace) -> None:
        """Count one finished request."""
        tenant = rt.tenant or _NONE
        model = rt.model or _NONE
        key = (rt.key_id or _NONE,) if self._key else ()
        self._child(self.requests, (tenant, model, str(rt.status), *key)).inc()
        if rt.error_code is not None:
            self._child(self.errors, (tenant, model, rt.error_code)).inc()
            if rt.error_code in LIMIT_CODES:
                self._child(self.rejections, (tenant, rt.error_code)).inc()
        elapsed = (rt.end_ns - rt.start_ns) / 1e9
        self._child(self.duration, (tenant, model, "true" if rt.stream else "false")).observe(elapsed)
        if rt.first_token_ns is not None:
            self._child(self.ttft, (tenant, model)).observe((rt.first_token_ns - rt.start_ns) / 1e9)
        if rt.input_tokens:
            self._child(self.tokens, (tenant, model, "input", *key)).inc(rt.input_tokens)
        if rt.output_tokens:
            self._child(self.tokens, (tenant, model, "output", *key)).inc(rt.output_tokens)
        if rt.cost_micro_usd:
            self._child(self.cost, (tenant, model, *key)).inc(rt.cost_micro_usd)
        if rt.cache_status in ("hit", "miss"):
            self._child(self.cache, (tenant, rt.cache_status)).inc()
        blocked = rt.blocked_input()
        for verdict in [*rt.verdicts, blocked] if blocked is not None else rt.verdicts:
            self._child(self.verdicts, (tenant, verdict.stage, verdict.rule, verdict.action)).inc()
        first_label = rt.records[0].candidate.label if rt.records else None
        for record in rt.records:
            self._child(self.attempts, (record.candidate.label, record.outcome, record.error_code or "")).inc()
        served = rt.served()
        if served is not None and served.candidate.label != first_label:
            self._child(self.fallbacks, (tenant, model)).inc()

    def _child(self, metric: _Metric, labels: tuple[str, ...]) -> Any:
        # ``labels()`` validates and takes a lock on every call; label sets are bounded, so memoize them.
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def reservation(self, tenant: str, delta: int) -> None:
        """A spend reservation was opened (+1) or settled (-n)."""
        self._child(self.reservations, (tenant,)).inc(delta)

    def set_breakers(self, states: Mapping[str, str]) -> None:
        """Publish each deployment's breaker state (called at scrape time and after attempts)."""
        for label, state in states.items():
            self._child(self.breakers, (label,)).set(BREAKER_STATES.get(state, 0))

    def set_cache(self, saved_micro_usd: int, store_errors: int, *, degraded: bool) -> None:
        """Publish the cache's process totals (called at scrape time)."""
        self.cache_saved.set(saved_micro_usd)
        self.cache_store_errors.set(store_errors)
        self.cache_degraded.set(1 if degraded else 0)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type; with several workers, every worker's values summed."""
        if self._multiproc_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        merged = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(merged, path=self._multiproc_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """At worker shutdown: drop this process's live gauges from the shared directory."""
        if self._multiproc_dir is not None:
            prom_multiprocess.mark_process_dead(os.getpid(), self._multiproc_dir)  # type: ignore[no-untyped-call]
