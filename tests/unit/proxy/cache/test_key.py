"""Cache keys: tenants never share an entry, equal requests hit, and every semantic change misses."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.cache import ResponseCache, request_key
from proxy.cache.key import is_deterministic, policy_fingerprints
from proxy.pipeline.decode import decode_chat_request
from proxy.store import MemoryStore
from schemas.chat import ChatCompletion, Choice, ResponseMessage, Usage
from schemas.config import GatewayConfig, TenantConfig

TENANT_A = TenantConfig(id="acme")
TENANT_B = TenantConfig(id="globex")

text = st.text(max_size=30)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": text},
)
bodies = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["m1", "m2"]),
        "messages": st.lists(message, min_size=1, max_size=4),
        "temperature": st.just(0),
    },
    optional={
        "seed": st.integers(0, 2**31),
        "top_p": st.floats(0, 1),
        "max_tokens": st.integers(1, 4096),
        "n": st.integers(1, 4),
        "stop": st.one_of(text, st.lists(text, max_size=3)),
        "presence_penalty": st.floats(-2, 2),
        "frequency_penalty": st.floats(-2, 2),
        "logit_bias": st.dictionaries(st.integers(0, 50_000).map(str), st.integers(-100, 100), max_size=3),
        "tools": st.lists(
            st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries({"name": text})}),
            max_size=2,
        ),
        "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}]),
    },
)


def key_of(body: dict[str, Any], tenant: str = "acme", policy: str = "p1", encoded: bytes | None = None) -> str:
    request, raw = decode_chat_request(encoded if encoded is not None else msgspec.json.encode(body))
    return request_key(tenant=tenant, alias=request.model, request=request, raw=raw, policy_fingerprint=policy)


def completion(tag: str) -> ChatCompletion:
    return ChatCompletion(
        id=f"c-{tag}",
        model="m",
        choices=[Choice(message=ResponseMessage(content=f"answer {tag}"), finish_reason="stop")],
        usage=Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5),
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=6, unique_by=lambda b: msgspec.json.encode(b, order="sorted")))
def test_no_request_of_one_tenant_ever_hits_an_entry_of_another(requests: list[dict[str, Any]]) -> None:
    async def scenario() -> None:
        cache = ResponseCache(MemoryStore())
        seen: set[str | None] = set()
        for i, body in enumerate(requests):
            request, raw = decode_chat_request(msgspec.json.encode(body))
            plan = cache.plan(TENANT_A, request, raw)
            hit = await cache.lookup(plan)
            assert (hit is not None) == (plan.digest in seen)
            seen.add(plan.digest)
            if hit is None:
                await cache.finish(plan, completion(f"a{i}"), cost_micro_usd=7)
        for body in requests:
            request, raw = decode_chat_request(msgspec.json.encode(body))
            assert await cache.lookup(cache.plan(TENANT_B, request, raw)) is None
            hit = await cache.lookup(cache.plan(TENANT_A, request, raw))
            assert hit is not None
            assert hit.completion.id.startswith("c-a")
            assert hit.saved_micro_usd == 7

    asyncio.run(scenario())


@settings(max_examples=60, deadline=None)
@given(bodies, st.booleans(), st.one_of(st.none(), text), st.booleans())
def test_the_same_request_spelled_differently_has_the_same_key(
    body: dict[str, Any], stream: bool, user: str | None, pretty: bool
) -> None:
    variant = dict(reversed(list(body.items())))
    variant["stream"] = stream
    if stream:
        variant["stream_options"] = {"include_usage": True}
    if user is not None:
        variant["user"] = user
    variant["temperature"] = 0.0
    if "max_tokens" in variant:
        variant["max_completion_tokens"] = variant.pop("max_tokens")
    variant["top_logprobs"] = None  # null is the same as absent
    encoded = msgspec.json.encode(variant)
    if pretty:
        encoded = msgspec.json.format(encoded, indent=3)
    assert key_of(variant, encoded=encoded) == key_of(body)


CHANGES: list[tuple[str, Any]] = [
    ("model", lambda b: "m2" if b["model"] == "m1" else "m1"),
    ("temperature", lambda b: 0.5),
    ("seed", lambda b: b.get("seed", -1) + 1),
    ("top_p", lambda b: 0.123 if b.get("top_p") != 0.123 else 0.5),
    ("max_tokens", lambda b: b.get("max_tokens", 0) + 1),
    ("n", lambda b: b.get("n", 0) + 5),
    ("stop", lambda b: ["<never-generated>", *([b["stop"]] if isinstance(b.get("stop"), str) else b.get("stop", []))]),
    ("presence_penalty", lambda b: 1.5 if b.get("presence_penalty") != 1.5 else -1.0),
    ("frequency_penalty", lambda b: 1.5 if b.get("frequency_penalty") != 1.5 else -1.0),
    ("logit_bias", lambda b: {**b.get("logit_bias", {}), "99999": 1}),
    ("tools", lambda b: [*b.get("tools", []), {"type": "function", "function": {"name": "extra"}}]),
    ("response_format", lambda b: {"type": "json_schema", "json_schema": {"name": "x"}}),
    ("tool_choice", lambda b: "none"),
    ("reasoning_effort", lambda b: "high"),
    ("messages", lambda b: [*b["messages"], {"role": "user", "content": "one more"}]),
    ("messages", lambda b: [{**b["messages"][0], "content": b["messages"][0]["content"] + "!"}, *b["messages"][1:]]),
    ("messages", lambda b: [{**b["messages"][0], "role": "developer"}, *b["messages"][1:]]),
]


@settings(max_examples=60, deadline=None)
@given(bodies, st.sampled_from(range(len(CHANGES))))
def test_changing_any_semantic_field_changes_the_key(body: dict[str, Any], which: int) -> None:
    name, change = CHANGES[which]
    changed = {**body, name: change(body)}
    assert key_of(changed) != key_of(body)


@given(bodies)
def test_tenant_and_guard_policy_are_part_of_the_key(body: dict[str, Any]) -> None:
    base = key_of(body)
    assert key_of(body, tenant="globex") != base
    assert key_of(body, policy="p2") != base
    assert len(base) == 64
    assert int(base, 16) >= 0


def test_only_deterministic_requests_are_cacheable_by_default() -> None:
    def req(**fields: Any) -> Any:
        return decode_chat_request(msgspec.json.encode({"model": "m", "messages": [], **fields}))[0]

    assert is_deterministic(req(temperature=0))
    assert is_deterministic(req(temperature=1, seed=3))
    assert not is_deterministic(req())
    assert not is_deterministic(req(temperature=0.2))


def test_policy_fingerprint_follows_the_policy_and_its_rules_file(tmp_path: Any) -> None:
    config = msgspec.convert(
        {"guard_policies": {"a": {}, "b": {"input": {"injection": {"rules_file": "rules.yaml"}}}}}, GatewayConfig
    )
    (tmp_path / "rules.yaml").write_text("rules: []\n")
    first = policy_fingerprints(config, tmp_path)
    assert first["a"] != first["b"]
    (tmp_path / "rules.yaml").write_text("rules: [x]\n")
    second = policy_fingerprints(config, tmp_path)
    assert second["a"] == first["a"]
    assert second["b"] != first["b"]
