"""How the suite judges issue 9's targets: on paired medians, against LiteLLM with equivalent enforcement.

The ratios against LiteLLM's bare proxy are printed as references and never marked PASS or MISS, and the
LiteLLM config for the judged side carries every feature ``bench.litellm_bench`` maps to the gateway's.
"""

from __future__ import annotations

from bench.litellm_bench import PII_PATTERNS, litellm_config
from bench.paired import COMPARISONS, Paired
from bench.sidebyside import Row
from bench.suite import evaluate


def _row(target: str, mode: str, concurrency: int, rps: float, p50_ms: float = 1.0) -> Row:
    ttft = p50_ms if mode == "stream" else None
    return Row(target, mode, concurrency, 100, 0, rps, p50_ms, p50_ms, ttft, 0.5, 0.1, 10.0, 5.0)


def _paired(name: str, values: list[float]) -> Paired:
    return Paired(name, "x", values, [1.0] * len(values), [1.0] * len(values), 0)


def test_throughput_is_judged_against_enforced_litellm_and_bare_is_a_reference() -> None:
    rows = [
        _row("gateway", "unary", 16, 2000.0),
        _row("litellm", "unary", 16, 80.0),
        _row("litellm-bare", "unary", 16, 160.0),
    ]
    paired = [
        _paired("throughput c=16 unary vs LiteLLM", [24.0, 25.0, 26.0]),
        _paired("throughput c=16 unary vs bare LiteLLM", [11.0, 12.0, 13.0]),
    ]
    marks = {label: mark for label, _, mark in evaluate(rows, paired)}
    assert marks["throughput c=16 unary vs LiteLLM >= 20x"] == "PASS"
    assert marks["(reference) throughput c=16 unary vs bare LiteLLM"] == "-"
    judged = [c for c in COMPARISONS if c.judged]
    assert {c.baseline for c in judged if c.unit == "x"} == {"litellm"}
    assert {c.baseline for c in COMPARISONS if not c.judged} == {"litellm-bare"}


def test_a_ratio_under_the_target_is_a_miss_on_the_median_not_the_best_round() -> None:
    rows = [_row("gateway", "unary", 16, 2000.0), _row("litellm", "unary", 16, 50.0)]
    paired = [_paired("throughput c=16 unary vs LiteLLM", [18.0, 19.0, 40.0])]
    marks = {label: (value, mark) for label, value, mark in evaluate(rows, paired)}
    value, mark = marks["throughput c=16 unary vs LiteLLM >= 20x"]
    assert mark == "MISS"
    assert value.startswith("19.000x")
    assert "single cell 40.000x" in value


def test_enforced_litellm_config_carries_each_equivalent_feature() -> None:
    bare = litellm_config("http://127.0.0.1:9", "fake;words=16")
    enforced = litellm_config("http://127.0.0.1:9", "fake;words=16", redis_port=6390)
    assert set(bare) == {"model_list", "general_settings", "litellm_settings"}
    assert enforced["general_settings"]["master_key"].startswith("sk-")
    router = enforced["router_settings"]
    assert router["redis_port"] == 6390
    assert router["enable_pre_call_checks"] is True
    assert all("rpm" in d["litellm_params"] for d in enforced["model_list"])
    assert enforced["litellm_settings"]["callbacks"] == ["detect_prompt_injection"]
    modes = {g["litellm_params"]["mode"] for g in enforced["guardrails"]}
    assert modes == {"pre_call", "post_call"}
    for guardrail in enforced["guardrails"]:
        names = {p["pattern_name"] for p in guardrail["litellm_params"]["patterns"]}
        assert names == set(PII_PATTERNS)
        assert guardrail["litellm_params"]["default_on"] is True
