"""Observability over real servers: the span tree of a request, /metrics after known traffic, no leaks.

The gateway runs under uvicorn on loopback, the upstream is the fake provider as a real
HTTP server, and spans go to an in-memory exporter injected in place of the OTLP one.
"""

from __future__ import annotations

import base64
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import msgspec
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from fakeupstream import FakeUpstream
from proxy.telemetry import Telemetry
from tests.support.gateway import GatewayServer, make_key

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from opentelemetry.sdk.trace import ReadableSpan

EMAIL = "alice.doe@example.com"
ANSWER = f"Please write to {EMAIL} for the invoice details today"
PROVIDER_SECRET = "sk-planted-provider-secret-0123456789abcdef"
PROMPT_MARKER = "PROMPT-MARKER-7f3a9c"


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def obs_config(fake: FakeUpstream, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "store": {"kind": "memory"},
        "retry": {"attempts": 2, "backoff_base_ms": 1, "backoff_max_ms": 5},
        "providers": [
            {"name": "up", "kind": "openai", "base_url": fake.base_url + "/v1", "api_key_env": "UP_KEY"},
            {"name": "claude", "kind": "anthropic", "base_url": fake.base_url, "api_key_env": "UP_KEY"},
        ],
        "models": [
            {
                "name": "primary",
                "deployments": [{"provider": "up", "model": "fake;fault=status:500"}],
                "fallbacks": ["backup"],
                "price": {"input_per_mtok_usd": 1, "output_per_mtok_usd": 2},
            },
            {
                "name": "backup",
                "deployments": [{"provider": "claude", "model": f"claude-fake;content_b64={_b64(ANSWER)}"}],
                "price": {"input_per_mtok_usd": 3, "output_per_mtok_usd": 15},
            },
            {
                "name": "words",
                "deployments": [{"provider": "up", "model": "fake;words=7"}],
                "price": {"input_per_mtok_usd": 2, "output_per_mtok_usd": 8},
            },
            {"name": "echo", "deployments": [{"provider": "up", "model": "fake"}]},
        ],
        "tenants": [{"id": "acme", "guard_policy": "obs", "cache": {"mode": "auto"}}],
        "guard_policies": {
            "obs": {
                "input": {"injection": {"classifier": False}},
                "output": {"pii": {"entities": ["EMAIL_ADDRESS"], "action": "redact"}},
            }
        },
    }
    config.update(overrides)
    return config


class Served:
    """A started gateway with an in-memory span exporter."""

    def __init__(self, fake: FakeUpstream, tmp_path: Path, **overrides: Any) -> None:
        self.key, record = make_key("acme", key_id="obs-key")
        self.server = GatewayServer(
            obs_config(fake, **overrides), tmp_path, extra_keys=(record,), environ={"UP_KEY": PROVIDER_SECRET}
        )
        self.spans = InMemorySpanExporter()
        self.server.state.telemetry = Telemetry.from_settings(self.server.settings, span_exporter=self.spans)
        self.server.start()
        self.url = self.server.base_url

    def post(self, client: httpx.Client, body: dict[str, Any], **headers: str) -> httpx.Response:
        return client.post(
            self.url + "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {self.key}", **headers}
        )

    def roots(self, count: int) -> list[ReadableSpan]:
        """Wait for ``count`` finished root spans (telemetry finishes after the response, in a task)."""
        deadline = time.monotonic() + 5
        while True:
            roots = [s for s in self.spans.get_finished_spans() if s.kind == SpanKind.SERVER]
            if len(roots) >= count or time.monotonic() > deadline:
                assert len(roots) == count, [s.name for s in roots]
                return roots
            time.sleep(0.02)

    def children(self, root: ReadableSpan) -> list[ReadableSpan]:
        assert root.context is not None
        return [
            s
            for s in self.spans.get_finished_spans()
            if s.parent is not None and s.parent.span_id == root.context.span_id
        ]


@pytest.fixture
def served(fake: FakeUpstream, tmp_path: Path) -> Iterator[Served]:
    gateway = Served(fake, tmp_path)
    try:
        yield gateway
    finally:
        gateway.server.stop()


def _attr(span: ReadableSpan, name: str) -> Any:
    assert span.attributes is not None
    return span.attributes.get(name)


def test_streamed_retry_fallback_redaction_span_tree(served: Served, fake: FakeUpstream) -> None:
    with httpx.Client(timeout=20) as client:
        response = served.post(
            client,
            {
                "model": "primary",
                "messages": [{"role": "user", "content": "send me the contact"}],
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            **{
                "x-request-id": "obs-stream-1",
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            },
        )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "obs-stream-1"
    assert EMAIL not in response.text
    assert "EMAIL_ADDRESS" in response.text
    usage = fake.stats().records[-1].usage
    assert usage is not None

    (root,) = served.roots(1)
    assert root.name == "chat primary"
    assert root.context is not None
    # The caller's traceparent is continued.
    assert format(root.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert _attr(root, "gen_ai.operation.name") == "chat"
    assert _attr(root, "gen_ai.request.model") == "primary"
    assert str(_attr(root, "gen_ai.response.model")).startswith("claude-fake")
    assert _attr(root, "gen_ai.provider.name") == "anthropic"
    assert _attr(root, "gateway.tenant") == "acme"
    assert _attr(root, "gateway.key_id") == "obs-key"
    assert _attr(root, "gateway.request_id") == "obs-stream-1"
    assert _attr(root, "gateway.attempts") == 3
    assert _attr(root, "gateway.fallback") is True
    assert _attr(root, "gen_ai.usage.input_tokens") == usage.prompt_tokens
    assert _attr(root, "gen_ai.usage.output_tokens") == usage.completion_tokens
    # backup: 3 $/Mtok in, 15 $/Mtok out = 3 and 15 micro-dollars per token; failed attempts cost nothing.
    assert _attr(root, "gateway.cost.actual_micro_usd") == usage.prompt_tokens * 3 + usage.completion_tokens * 15
    assert _attr(root, "gateway.cost.reserved_micro_usd") > _attr(root, "gateway.cost.actual_micro_usd")
    assert _attr(root, "gateway.cache.status") in ("bypass", "miss")
    assert "output:pii:EMAIL_ADDRESS:redact" in _attr(root, "gateway.guard.verdicts")
    assert 0 < _attr(root, "gateway.ttft_ms") < (root.end_time - root.start_time) / 1e6  # type: ignore[operator]

    children = served.children(root)
    names = [c.name for c in children]
    for name in ("gateway.auth", "gateway.input_guards", "gateway.cache", "gateway.output_guards", "gateway.settle"):
        assert names.count(name) == 1, names
    assert names.count("gateway.admission") == 2  # one reservation per alias tried: primary, then backup
    attempts = sorted(
        (c for c in children if c.kind == SpanKind.CLIENT), key=lambda s: _attr(s, "gateway.attempt.number")
    )
    assert [_attr(a, "gateway.attempt.outcome") for a in attempts] == ["error", "error", "ok"]
    assert [_attr(a, "gateway.model_alias") for a in attempts] == ["primary", "primary", "backup"]
    assert [_attr(a, "gen_ai.provider.name") for a in attempts] == ["openai", "openai", "anthropic"]
    assert _attr(attempts[0], "error.type") == "upstream_status"
    assert _attr(attempts[2], "gen_ai.usage.output_tokens") == usage.completion_tokens
    for earlier, later in itertools.pairwise(attempts):
        assert earlier.end_time is not None
        assert later.start_time is not None
        assert earlier.end_time <= later.start_time
    for child in children:
        assert child.context is not None
        assert child.context.trace_id == root.context.trace_id
        assert root.start_time is not None
        assert root.end_time is not None
        assert child.start_time is not None
        assert child.end_time is not None
        assert root.start_time <= child.start_time <= child.end_time <= root.end_time, child.name
    (guards,) = (c for c in children if c.name == "gateway.output_guards")
    assert _attr(guards, "gateway.guard.verdicts") == ("output:pii:EMAIL_ADDRESS:redact",)


def test_cache_hit_span_has_no_upstream_or_admission(served: Served, fake: FakeUpstream) -> None:
    body = {"model": "words", "messages": [{"role": "user", "content": "cache me"}], "temperature": 0}
    with httpx.Client(timeout=20) as client:
        first = served.post(client, body)
        served.roots(1)
        second = served.post(client, body)
    assert first.status_code == second.status_code == 200
    assert second.json()["choices"] == first.json()["choices"]
    assert len(fake.stats().records) == 1
    miss, hit = sorted(served.roots(2), key=lambda s: s.start_time or 0)
    assert _attr(miss, "gateway.cache.status") == "miss"
    assert _attr(hit, "gateway.cache.status") == "hit"
    assert _attr(hit, "gateway.cost.actual_micro_usd") == 0
    assert _attr(hit, "gateway.attempts") == 0
    names = sorted(c.name for c in served.children(hit))
    assert names == ["gateway.auth", "gateway.cache", "gateway.input_guards"]
    (cache_span,) = (c for c in served.children(hit) if c.name == "gateway.cache")
    assert _attr(cache_span, "gateway.cache.status") == "hit"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_after_known_traffic(fake: FakeUpstream, tmp_path: Path) -> None:
    gateway = Served(
        fake, tmp_path, tenants=[{"id": "acme", "guard_policy": "obs", "limits": {"requests_per_minute": 4}}]
    )
    try:
        with httpx.Client(timeout=20) as client:
            for i in range(3):
                assert served_ok(
                    gateway, client, {"model": "words", "messages": [{"role": "user", "content": f"q{i}"}]}
                )
            assert (
                gateway.post(client, {"model": "nope", "messages": [{"role": "user", "content": "x"}]}).status_code
                == 404
            )
            assert (
                gateway.post(
                    client, {"model": "words", "messages": [{"role": "user", "content": "q3"}], "stream": True}
                ).status_code
                == 200
            )
            refused = gateway.post(client, {"model": "words", "messages": [{"role": "user", "content": "q4"}]})
            assert refused.status_code == 429
            gateway.roots(6)
            scrape = client.get(gateway.url + "/metrics")
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        samples = _samples(scrape.text)
        records = fake.stats().records
        assert len(records) == 4
        tokens_in = sum(r.usage.prompt_tokens for r in records if r.usage is not None)
        tokens_out = sum(r.usage.completion_tokens for r in records if r.usage is not None)
        assert tokens_out == 4 * 7
        base = {"tenant": "acme", "model": "words"}
        assert _value(samples, "gateway_requests_total", status="200", **base) == 4
        assert _value(samples, "gateway_requests_total", tenant="acme", model="none", status="404") == 1
        assert _value(samples, "gateway_requests_total", status="429", **base) == 1
        assert _value(samples, "gateway_request_errors_total", code="rate_limit_exceeded", **base) == 1
        assert _value(samples, "gateway_request_errors_total", tenant="acme", model="none", code="model_not_found") == 1
        assert _value(samples, "gateway_limit_rejections_total", tenant="acme", reason="rate_limit_exceeded") == 1
        assert _value(samples, "gateway_tokens_total", direction="input", **base) == tokens_in
        assert _value(samples, "gateway_tokens_total", direction="output", **base) == tokens_out
        # words: 2 $/Mtok in, 8 $/Mtok out = 2 and 8 micro-dollars per token.
        assert _value(samples, "gateway_cost_micro_usd_total", **base) == tokens_in * 2 + tokens_out * 8
        assert (
            _value(samples, "gateway_upstream_attempts_total", deployment="up/fake;words=7", outcome="ok", code="") == 4
        )
        assert _value(samples, "gateway_request_duration_seconds_count", stream="false", **base) == 4
        assert _value(samples, "gateway_request_duration_seconds_count", stream="true", **base) == 1
        assert _value(samples, "gateway_time_to_first_token_seconds_count", **base) == 1
        assert _value(samples, "gateway_circuit_breaker_state", deployment="up/fake;words=7") == 0
        assert _value(samples, "gateway_open_reservations", tenant="acme") == 0
        assert _value(samples, "gateway_fallbacks_total", **base) == 0
        assert not any("key_id" in dict(labels) for _, labels in samples)
    finally:
        gateway.server.stop()


def served_ok(gateway: Served, client: httpx.Client, body: dict[str, Any]) -> bool:
    return gateway.post(client, body).status_code == 200


def test_fallback_and_breaker_metrics_and_key_id_label(fake: FakeUpstream, tmp_path: Path) -> None:
    gateway = Served(
        fake, tmp_path, telemetry={"metrics_include_key_id": True}, retry={"attempts": 1, "breaker_failures": 1}
    )
    try:
        with httpx.Client(timeout=20) as client:
            assert (
                gateway.post(client, {"model": "primary", "messages": [{"role": "user", "content": "x"}]}).status_code
                == 200
            )
            gateway.roots(1)
            samples = _samples(client.get(gateway.url + "/metrics").text)
        assert _value(samples, "gateway_fallbacks_total", tenant="acme", model="primary") == 1
        assert _value(samples, "gateway_circuit_breaker_state", deployment="up/fake;fault=status:500") == 2
        assert (
            _value(samples, "gateway_requests_total", tenant="acme", model="primary", status="200", key_id="obs-key")
            == 1
        )
        assert (
            _value(
                samples,
                "gateway_upstream_attempts_total",
                deployment="up/fake;fault=status:500",
                outcome="error",
                code="upstream_status",
            )
            == 1
        )
        assert (
            _value(samples, "gateway_guard_verdicts_total", tenant="acme", stage="output", rule="pii", action="redact")
            == 1
        )
    finally:
        gateway.server.stop()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def gateway_logs() -> Iterator[_Collect]:
    """Every record of the ``gateway`` loggers, at DEBUG (attached below the root: Litestar reconfigures it)."""
    handler = _Collect()
    loggers = [logging.getLogger(name) for name in ("gateway", "gateway.access", "litestar", "uvicorn")]
    levels = [lg.level for lg in loggers]
    access = loggers[1]
    propagate = access.propagate
    # The access logger has its own handler, so it must not also reach the one on "gateway".
    access.propagate = False
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        access.propagate = propagate
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def test_no_secret_or_prompt_in_spans_logs_or_metrics(
    fake: FakeUpstream, tmp_path: Path, gateway_logs: _Collect
) -> None:
    gateway = Served(fake, tmp_path)
    try:
        with httpx.Client(timeout=20) as client:
            messages = [{"role": "user", "content": f"{PROMPT_MARKER} say it back"}]
            assert gateway.post(client, {"model": "echo", "messages": messages}).status_code == 200
            assert gateway.post(client, {"model": "echo", "messages": messages, "stream": True}).status_code == 200
            assert gateway.post(client, {"model": "primary", "messages": messages, "stream": True}).status_code == 200
            assert gateway.post(client, {"model": "words", "messages": messages, "max_tokens": -5}).status_code == 400
            bad_key = client.post(
                gateway.url + "/v1/chat/completions",
                json={"model": "echo", "messages": messages},
                headers={"authorization": f"Bearer {gateway.key}x"},
            )
            assert bad_key.status_code == 401
            gateway.roots(5)
            metrics_text = client.get(gateway.url + "/metrics").text
    finally:
        gateway.server.stop()
    # The echo model really did carry the marker through the gateway: the check below is not vacuous.
    assert any(PROMPT_MARKER in str(r.body) for r in fake.stats().records)
    records = gateway_logs.records
    access = [r.getMessage() for r in records if r.name == "gateway.access"]
    assert len(access) == 5
    lines = [msgspec.json.decode(line) for line in access]
    assert {line["status"] for line in lines} == {200, 400, 401}
    assert all(line["request_id"] for line in lines)
    assert any(line.get("trace_id") for line in lines)
    assert any(r.name == "gateway.routing" for r in records)  # debug lines were captured too
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    spans = "\n".join(span.to_json() for span in gateway.spans.get_finished_spans())
    assert PROMPT_MARKER in str(fake.stats().records[0].body)
    for planted in (PROVIDER_SECRET, gateway.key, PROMPT_MARKER, "say it back"):
        assert planted not in logged
        assert planted not in spans
        assert planted not in metrics_text
