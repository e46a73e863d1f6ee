"""deploy/alerts.yml and deploy/grafana-dashboard.json: valid, and built on metrics the gateway exports.

With ``promtool`` on PATH (Debian: ``apt-get install prometheus``) the rules are checked by it and
unit-tested with synthetic series (each alert fires on a spike and stays quiet on steady traffic).
Without it the structural checks still run; the promtool tests are skipped, never faked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from proxy.telemetry import METRIC_NAMES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALERTS = DEPLOY / "alerts.yml"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
_METRIC = re.compile(r"\b(gateway_[a-z_]+)\b")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# `make test` puts the binary beside the venv's python (Makefile: PROMTOOL); else one on PATH.
_VENV_PROMTOOL = Path(sys.executable).parent / "promtool"
PROMTOOL = str(_VENV_PROMTOOL) if _VENV_PROMTOOL.exists() else shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _known(name: str) -> bool:
    base = next((name.removesuffix(s) for s in _HISTOGRAM_SUFFIXES if name.endswith(s)), name)
    return name in METRIC_NAMES or base in METRIC_NAMES


def test_alert_rules_are_structured_and_use_exported_metrics() -> None:
    rules = _rules()
    names = {rule["alert"] for rule in rules}
    assert {
        "GatewayTenantSpendSpike",
        "GatewayErrorRateHigh",
        "GatewayFallbackSurge",
        "GatewayGuardBlockSurge",
    } <= names
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in ("info", "warning", "critical")
        assert rule["annotations"]["summary"]
        used = set(_METRIC.findall(rule["expr"]))
        assert used, rule["alert"]
        assert all(_known(m) for m in used), (rule["alert"], used)


def test_dashboard_queries_use_exported_metrics() -> None:
    dashboard = msgspec.json.decode(DASHBOARD.read_bytes())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for expr in exprs for m in _METRIC.findall(expr)}
    assert all(_known(m) for m in used), used
    # Every exported metric is on the dashboard.
    assert {m for m in METRIC_NAMES if any(u == m or u.startswith(m + "_") for u in used)} == set(METRIC_NAMES)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    assert PROMTOOL is not None
    run = subprocess.run([PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def _series(labels: str, values: str) -> dict[str, str]:
    return {"series": labels, "values": values}


_RULE_TESTS: dict[str, Any] = {
    "rule_files": [str(ALERTS)],
    "evaluation_interval": "1m",
    "tests": [
        {
            # acme spends 1000 µ$/min for a day, then 100000 µ$/min (6 $/h): a spike. beta stays flat.
            "interval": "1m",
            "input_series": [
                _series('gateway_cost_micro_usd_total{tenant="acme",model="m"}', "0+1000x1500 1500000+100000x120"),
                _series('gateway_cost_micro_usd_total{tenant="beta",model="m"}', "0+1000x1620"),
            ],
            "alert_rule_test": [
                {
                    "eval_time": "1590m",
                    "alertname": "GatewayTenantSpendSpike",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "warning", "tenant": "acme"},
                            "exp_annotations": {
                                "summary": "Spend spike for tenant acme",
                                "description": "Tenant acme spent 6M micro-USD in the last hour, "
                                "over 3x its usual hourly spend.",
                            },
                        }
                    ],
                },
                {"eval_time": "1400m", "alertname": "GatewayTenantSpendSpike", "exp_alerts": []},
            ],
        },
        {
            # 10 req/s; upstream errors jump from none to 2 req/s after 30 minutes.
            "interval": "1m",
            "input_series": [
                _series('gateway_requests_total{tenant="acme",model="m",status="200"}', "0+600x60"),
                _series(
                    'gateway_request_errors_total{tenant="acme",model="m",code="upstream_timeout"}', "0x30 0+120x30"
                ),
                _series('gateway_request_errors_total{tenant="acme",model="m",code="rate_limit_exceeded"}', "0+300x60"),
            ],
            "alert_rule_test": [
                {"eval_time": "25m", "alertname": "GatewayErrorRateHigh", "exp_alerts": []},
                {
                    "eval_time": "50m",
                    "alertname": "GatewayErrorRateHigh",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "critical", "tenant": "acme"},
                            "exp_annotations": {
                                "summary": "Error rate over 5% for tenant acme",
                                "description": "20% of tenant acme's requests fail on the gateway or provider side.",
                            },
                        }
                    ],
                },
            ],
        },
        {
            "interval": "1m",
            "input_series": [
                _series('gateway_requests_total{tenant="acme",model="m",status="200"}', "0+600x60"),
                _series('gateway_fallbacks_total{tenant="acme",model="m"}', "0x20 0+300x40"),
            ],
            "alert_rule_test": [
                {"eval_time": "15m", "alertname": "GatewayFallbackSurge", "exp_alerts": []},
                {
                    "eval_time": "55m",
                    "alertname": "GatewayFallbackSurge",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "warning", "model": "m"},
                            "exp_annotations": {
                                "summary": "Model m is served off its first deployment",
                                "description": "50% of m requests needed another deployment: "
                                "the primary provider is failing.",
                            },
                        }
                    ],
                },
            ],
        },
        {
            # A handful of injection blocks a day, then 10 per minute.
            "interval": "1m",
            "input_series": [
                _series(
                    'gateway_guard_verdicts_total{tenant="acme",stage="input",rule="prompt_injection_detected",action="block"}',
                    "0+0.01x1500 15+10x60",
                ),
                _series(
                    'gateway_guard_verdicts_total{tenant="acme",stage="output",rule="pii",action="redact"}',
                    "0+50x1560",
                ),
            ],
            "alert_rule_test": [
                {"eval_time": "1400m", "alertname": "GatewayGuardBlockSurge", "exp_alerts": []},
                {
                    "eval_time": "1540m",
                    "alertname": "GatewayGuardBlockSurge",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "tenant": "acme",
                                "stage": "input",
                                "rule": "prompt_injection_detected",
                            },
                            "exp_annotations": {
                                "summary": "Guard block surge: input rule prompt_injection_detected for tenant acme",
                                "description": "100 blocks in 10 minutes by prompt_injection_detected, "
                                "over 3x the usual rate.",
                            },
                        }
                    ],
                },
            ],
        },
        {
            "interval": "1m",
            "input_series": [
                _series('gateway_circuit_breaker_state{deployment="openai/gpt-4o-mini",instance="a"}', "0x10 2x20"),
                _series('gateway_circuit_breaker_state{deployment="openai/gpt-4o-mini",instance="b"}', "0x30"),
            ],
            "alert_rule_test": [
                {"eval_time": "12m", "alertname": "GatewayCircuitOpen", "exp_alerts": []},
                {
                    "eval_time": "25m",
                    "alertname": "GatewayCircuitOpen",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "warning", "deployment": "openai/gpt-4o-mini"},
                            "exp_annotations": {
                                "summary": "Circuit open for openai/gpt-4o-mini",
                                "description": "The gateway stopped sending traffic to openai/gpt-4o-mini "
                                "after repeated failures.",
                            },
                        }
                    ],
                },
            ],
        },
    ],
}


@needs_promtool
def test_alerts_fire_on_spikes_and_stay_quiet_otherwise(tmp_path: Path) -> None:
    assert PROMTOOL is not None
    tests = tmp_path / "alerts.test.yml"
    tests.write_text(yaml.safe_dump(_RULE_TESTS, sort_keys=False))
    run = subprocess.run([PROMTOOL, "test", "rules", str(tests)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
