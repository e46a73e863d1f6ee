"""The gateway as a new user meets it: the official openai SDK against a real server on loopback."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx2 as httpx
import openai
import pytest

from tests.support.gateway import GatewayServer, demo_config, make_key

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ADMIN_KEY = "admin-secret-for-tests-0123456789"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayServer, str, str]]:
    key, record = make_key("acme", key_id="acme-web", scopes=("chat",))
    limited_key, limited = make_key("acme", key_id="acme-nochat", scopes=("system",))
    config = demo_config(
        admin={"key_env": "ADMIN_KEY"},
        server={"max_body_bytes": 64 * 1024},
        tenants=[{"id": "acme"}, {"id": "globex", "keys": []}],
    )
    with GatewayServer(
        config, tmp_path_factory.mktemp("gw"), extra_keys=(record, limited), environ={"ADMIN_KEY": ADMIN_KEY}
    ) as server:
        yield server, key, limited_key


def client(base_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0)


def test_non_streaming_returns_content_and_usage(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    response = client(server.base_url, key).chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "hello there world"}]
    )
    assert response.choices[0].message.content == "hello there world"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage is not None
    assert response.usage.completion_tokens == 3
    assert response.usage.prompt_tokens == 6


def test_streaming_returns_content_and_usage_when_asked(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    stream = client(server.base_url, key).chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    parts: list[str] = []
    usage = None
    finish = None
    for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(parts) == "stream me please"
    assert finish == "stop"
    assert usage is not None
    assert usage.completion_tokens == 3


def test_streaming_without_include_usage_sends_no_usage_chunk(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    chunks = list(
        client(server.base_url, key).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "a b"}], stream=True
        )
    )
    assert chunks
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


def test_wrong_key_raises_authentication_error(served: tuple[GatewayServer, str, str]) -> None:
    server, _, _ = served
    with pytest.raises(openai.AuthenticationError) as info:
        client(server.base_url, "gw-not-a-real-key").chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.code == "invalid_api_key"


def test_unknown_model_raises_not_found(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    with pytest.raises(openai.NotFoundError) as info:
        client(server.base_url, key).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.code == "model_not_found"
    assert info.value.param == "model"


def test_malformed_body_raises_bad_request_with_field_path(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    with pytest.raises(openai.BadRequestError) as info:
        client(server.base_url, key).chat.completions.create(
            model="echo",
            messages=[{"role": "user", "content": "x"}],
            extra_body={"max_tokens": "many"},
        )
    assert info.value.param == "max_tokens"


def test_a_message_without_its_required_fields_is_a_bad_request(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    with client(server.base_url, key) as sdk:
        with pytest.raises(openai.BadRequestError) as info:
            sdk.chat.completions.create(model="echo", messages=[{"role": "user"}])  # type: ignore[typeddict-item]
        assert info.value.param == "messages[0].content"
        # an assistant turn that is only tool calls is valid (content null), and reaches the model
        done = sdk.chat.completions.create(
            model="echo",
            messages=[
                {"role": "user", "content": "what is 6 x 7?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "mul", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
            ],
        )
    assert done.choices[0].message.content


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"messages": []}', None),
        (b'{"model": "echo", "messages": [{"role": "wizard", "content": "x"}]}', "messages[0].role"),
        (b'{"model": "echo", "messages": []}', "messages"),
        (b'{"model": "echo", "messages": [{"role": "user", "content": "x"}], "temperature": 9}', "temperature"),
        (b'{"model": "echo", "messages": [{"role": "user"}]}', "messages[0].content"),
        (b'{"model": "echo", "messages": [{"role": "system", "content": null}]}', "messages[0].content"),
        (
            b'{"model": "echo", "messages": [{"role": "user", "content": "x"}, {"role": "assistant"}]}',
            "messages[1].content",
        ),
        (
            b'{"model": "echo", "messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "42"}]}',
            "messages[1].tool_call_id",
        ),
    ],
)
def test_bad_bodies_get_400_envelopes_never_500(
    served: tuple[GatewayServer, str, str], body: bytes, param: str | None
) -> None:
    server, key, _ = served
    response = httpx.post(
        server.base_url + "/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param


def test_body_over_limit_is_413(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    with pytest.raises(openai.APIStatusError) as info:
        client(server.base_url, key).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x" * 100_000}]
        )
    assert info.value.status_code == 413
    assert info.value.code == "request_too_large"


def test_missing_chat_scope_is_403(served: tuple[GatewayServer, str, str]) -> None:
    server, _, limited_key = served
    with pytest.raises(openai.PermissionDeniedError):
        client(server.base_url, limited_key).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}]
        )


def test_models_lists_what_the_key_may_use(tmp_path: Path) -> None:
    key, record = make_key("acme")
    narrow = record.__class__(key_id="n", tenant="acme", digest=record.digest, models=("lor*",))
    with GatewayServer(demo_config(), tmp_path, extra_keys=(narrow,)) as server:
        ids = [m.id for m in client(server.base_url, key).models.list()]
        assert ids == ["lorem"]
        with pytest.raises(openai.NotFoundError):
            client(server.base_url, key).chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "x"}]
            )


def test_health_ready_and_request_id(served: tuple[GatewayServer, str, str]) -> None:
    server, _, _ = served
    assert httpx.get(server.base_url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.base_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["store"]["ok"] is True
    echoed = httpx.get(server.base_url + "/healthz", headers={"x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    minted = httpx.get(server.base_url + "/healthz", headers={"x-request-id": "bad id with spaces"})
    assert minted.headers["x-request-id"] != "bad id with spaces"
    assert len(minted.headers["x-request-id"]) == 32


def test_unknown_path_is_an_openai_404(served: tuple[GatewayServer, str, str]) -> None:
    server, _, _ = served
    response = httpx.get(server.base_url + "/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_admin_keys_create_use_and_revoke_within_a_second(served: tuple[GatewayServer, str, str]) -> None:
    server, _, _ = served
    admin = {"authorization": f"Bearer {ADMIN_KEY}"}
    created = httpx.post(server.base_url + "/admin/keys", json={"tenant": "globex", "key_id": "g1"}, headers=admin)
    assert created.status_code == 201
    new_key = created.json()["key"]
    listed = httpx.get(server.base_url + "/admin/keys?tenant=globex", headers=admin).json()["data"]
    assert [k["key_id"] for k in listed] == ["g1"]
    assert all("key" not in k and "digest" not in k for k in listed)
    sdk = client(server.base_url, new_key)
    assert sdk.chat.completions.create(model="echo", messages=[{"role": "user", "content": "hi"}]).choices
    revoked = httpx.delete(server.base_url + "/admin/keys/g1", headers=admin)
    assert revoked.status_code == 200
    started = time.monotonic()
    while True:
        try:
            sdk.chat.completions.create(model="echo", messages=[{"role": "user", "content": "hi"}])
        except openai.AuthenticationError:
            break
        assert time.monotonic() - started < 1.0, "revocation took longer than one second"
        time.sleep(0.05)


def test_admin_requires_the_admin_key(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    assert httpx.get(server.base_url + "/admin/tenants").status_code == 401
    assert httpx.get(server.base_url + "/admin/tenants", headers={"authorization": f"Bearer {key}"}).status_code == 403
    ok = httpx.get(server.base_url + "/admin/tenants", headers={"authorization": f"Bearer {ADMIN_KEY}"})
    assert [t["id"] for t in ok.json()["data"]] == ["acme", "globex"]


def test_wrong_method_on_chat_is_a_405_envelope(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    response = httpx.get(server.base_url + "/v1/chat/completions", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_wire_shape_keeps_the_fields_clients_key_on(served: tuple[GatewayServer, str, str]) -> None:
    server, key, _ = served
    headers = {"authorization": f"Bearer {key}"}
    body = {"model": "echo", "messages": [{"role": "user", "content": "a b"}]}
    unary = httpx.post(server.base_url + "/v1/chat/completions", json=body, headers=headers).json()
    assert unary["object"] == "chat.completion"
    assert unary["choices"][0]["index"] == 0
    assert unary["choices"][0]["finish_reason"] == "stop"
    streamed = httpx.post(server.base_url + "/v1/chat/completions", json=body | {"stream": True}, headers=headers)
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = [line[6:] for line in streamed.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    import msgspec

    chunks = [msgspec.json.decode(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(ch["index"] == 0 and "finish_reason" in ch for c in chunks for ch in c["choices"])
    models = httpx.get(server.base_url + "/v1/models", headers=headers).json()
    assert models["object"] == "list"
    assert all(m["object"] == "model" for m in models["data"])
