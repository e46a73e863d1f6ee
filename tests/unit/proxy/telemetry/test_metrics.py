"""``GatewayMetrics``: what one finished request adds, bounded labels, and multiprocess aggregation."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client.parser import text_string_to_metric_families

from proxy.telemetry import GatewayMetrics, RequestTrace
from proxy.telemetry.context import Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from proxy.routing.attempts import AttemptRecord

ROOT = Path(__file__).resolve().parents[4]


def _samples(metrics: GatewayMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def _trace(make_record: Callable[..., AttemptRecord], **changes: object) -> RequestTrace:
    rt = RequestTrace("r1", tenant="acme", key_id="k1", model="m", stream=True)
    rt.records = [make_record(1, "error"), make_record(2, "ok", alias="b", provider="claude", model="haiku")]
    rt.input_tokens, rt.output_tokens, rt.cost_micro_usd = 10, 20, 345
    rt.first_token_ns = rt.start_ns + 50_000_000
    rt.end_ns = rt.start_ns + 200_000_000
    rt.cache_status = "miss"
    rt.verdict("output", "pii", "redact", "EMAIL_ADDRESS")
    for name, value in changes.items():
        setattr(rt, name, value)
    return rt


def test_one_request_updates_every_family(make_record: Callable[..., AttemptRecord]) -> None:
    metrics = GatewayMetrics()
    metrics.observe(_trace(make_record))
    s = _samples(metrics)

    def v(name: str, **labels: str) -> float:
        return s.get((name, frozenset(labels.items())), 0.0)

    assert v("gateway_requests_total", tenant="acme", model="m", status="200") == 1
    assert v("gateway_tokens_total", tenant="acme", model="m", direction="input") == 10
    assert v("gateway_tokens_total", tenant="acme", model="m", direction="output") == 20
    assert v("gateway_cost_micro_usd_total", tenant="acme", model="m") == 345
    assert v("gateway_cache_requests_total", tenant="acme", result="miss") == 1
    assert v("gateway_guard_verdicts_total", tenant="acme", stage="output", rule="pii", action="redact") == 1
    assert v("gateway_upstream_attempts_total", deployment="up/gpt-x", outcome="error", code="upstream_status") == 1
    assert v("gateway_upstream_attempts_total", deployment="claude/haiku", outcome="ok", code="") == 1
    assert v("gateway_fallbacks_total", tenant="acme", model="m") == 1
    assert v("gateway_request_duration_seconds_count", tenant="acme", model="m", stream="true") == 1
    assert v("gateway_request_duration_seconds_sum", tenant="acme", model="m", stream="true") == 0.2
    assert v("gateway_time_to_first_token_seconds_bucket", tenant="acme", model="m", le="0.05") == 1
    assert v("gateway_time_to_first_token_seconds_bucket", tenant="acme", model="m", le="0.025") == 0
    assert v("gateway_request_errors_total", tenant="acme", model="m", code="upstream_status") == 0


def test_rejections_errors_and_input_blocks(make_record: Callable[..., AttemptRecord]) -> None:
    metrics = GatewayMetrics()
    budget = _trace(make_record, records=[], status=429, outcome="error", error_code="budget_exceeded")
    blocked = _trace(make_record, records=[], status=400, outcome="blocked", error_code="prompt_injection_detected")
    blocked.phases.append(Phase("input_guards", blocked.start_ns, blocked.start_ns + 1, "prompt_injection_detected"))
    metrics.observe(budget)
    metrics.observe(blocked)
    s = _samples(metrics)
    assert s[("gateway_limit_rejections_total", frozenset({("tenant", "acme"), ("reason", "budget_exceeded")}))] == 1
    key = frozenset(
        {("tenant", "acme"), ("stage", "input"), ("rule", "prompt_injection_detected"), ("action", "block")}
    )
    assert s[("gateway_guard_verdicts_total", key)] == 1
    errors = {dict(labels)["code"] for name, labels in s if name == "gateway_request_errors_total"}
    assert errors == {"budget_exceeded", "prompt_injection_detected"}


def test_key_id_label_only_when_enabled(make_record: Callable[..., AttemptRecord]) -> None:
    off, on = GatewayMetrics(), GatewayMetrics(include_key_id=True)
    for metrics in (off, on):
        metrics.observe(_trace(make_record))
    assert not any("key_id" in dict(labels) for _, labels in _samples(off))
    labelled = {
        name for name, labels in _samples(on) if dict(labels).get("key_id") == "k1" and not name.endswith("_created")
    }
    assert labelled == {"gateway_requests_total", "gateway_tokens_total", "gateway_cost_micro_usd_total"}


def test_unknown_tenant_and_model_share_one_label_value(make_record: Callable[..., AttemptRecord]) -> None:
    metrics = GatewayMetrics()
    for _ in range(3):
        metrics.observe(
            _trace(make_record, tenant=None, model=None, records=[], status=401, error_code="invalid_api_key")
        )
    s = _samples(metrics)
    key = frozenset({("tenant", "none"), ("model", "none"), ("status", "401")})
    assert s[("gateway_requests_total", key)] == 3


def test_breakers_and_reservations_gauges() -> None:
    metrics = GatewayMetrics()
    metrics.set_breakers({"up/a": "closed", "up/b": "half_open", "up/c": "open"})
    metrics.reservation("acme", 2)
    metrics.reservation("acme", -1)
    s = _samples(metrics)
    states = {dict(labels)["deployment"]: v for (n, labels), v in s.items() if n == "gateway_circuit_breaker_state"}
    assert states == {"up/a": 0, "up/b": 1, "up/c": 2}
    assert s[("gateway_open_reservations", frozenset({("tenant", "acme")}))] == 1


_WORKER = textwrap.dedent(
    """
    import sys
    from proxy.telemetry import GatewayMetrics, RequestTrace
    metrics = GatewayMetrics(multiproc_dir=sys.argv[1])
    rt = RequestTrace("r", tenant="acme", model="m")
    rt.cost_micro_usd = int(sys.argv[2])
    rt.end_ns = rt.start_ns + 1
    metrics.observe(rt)
    metrics.reservation("acme", 1)
    if sys.argv[3] == "render":
        sys.stdout.write(metrics.render()[0].decode())
    """
)


def test_several_worker_processes_are_summed(tmp_path: Path) -> None:
    # prometheus-client picks its storage at import time from PROMETHEUS_MULTIPROC_DIR: one process per worker.
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}

    def worker(cost: int, mode: str) -> str:
        run = subprocess.run(
            [sys.executable, "-c", _WORKER, str(tmp_path), str(cost), mode],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
            check=True,
        )
        return run.stdout

    worker(100, "quiet")
    text = worker(23, "render")
    samples = {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }
    assert samples[("gateway_cost_micro_usd_total", frozenset({("tenant", "acme"), ("model", "m")}))] == 123
    key = frozenset({("tenant", "acme"), ("model", "m"), ("status", "200")})
    assert samples[("gateway_requests_total", key)] == 2
