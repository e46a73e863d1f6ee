"""The OpenAI-compatible adapter: pass-through of unknown fields, gateway-owned fields, error mapping."""

from __future__ import annotations

import msgspec

from proxy.errors import (
    InvalidRequestError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.pipeline.decode import decode_chat_request
from proxy.providers.base import UpstreamCall
from proxy.providers.openai import OpenAIProvider
from schemas.chat import ChatMessage
from schemas.providers import OpenAIProviderConfig
from schemas.secret import Secret

SECRET = "sk-live-THIS-MUST-NEVER-LEAK-0123456789"


def call(body: dict[str, object], **kwargs: object) -> UpstreamCall:
    request, raw = decode_chat_request(msgspec.json.encode(body))
    return UpstreamCall(
        request=request,
        raw=raw,
        messages=kwargs.pop("messages", request.messages),  # type: ignore[arg-type]
        upstream_model="gpt-4o-mini-2024",
        **kwargs,  # type: ignore[arg-type]
    )


def test_body_keeps_unknown_fields_and_sets_gateway_fields() -> None:
    provider = OpenAIProvider(OpenAIProviderConfig(name="o"), Secret(SECRET))
    up = provider.build_request(
        call(
            {
                "model": "alias",
                "messages": [{"role": "user", "content": "hi"}],
                "logprobs": True,
                "parallel_tool_calls": False,
                "documents": ["d"],
                "template": {"name": "t"},
            },
            max_tokens=77,
        )
    )
    body = msgspec.json.decode(up.body)
    assert body["model"] == "gpt-4o-mini-2024"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["logprobs"] is True
    assert body["parallel_tool_calls"] is False
    assert "documents" not in body
    assert "template" not in body
    assert body["max_tokens"] == 77
    assert up.url == "https://api.openai.com/v1/chat/completions"
    assert ("authorization", f"Bearer {SECRET}") in up.headers
    assert SECRET not in repr(up)


def test_rewritten_messages_replace_the_clients_and_max_completion_tokens_is_kept() -> None:
    provider = OpenAIProvider(OpenAIProviderConfig(name="o"), None)
    up = provider.build_request(
        call(
            {"model": "a", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 10},
            messages=[ChatMessage(role="user", content="rewritten")],
            max_tokens=5,
        )
    )
    body = msgspec.json.decode(up.body)
    assert body["messages"] == [{"role": "user", "content": "rewritten"}]
    assert body["max_completion_tokens"] == 5
    assert "max_tokens" not in body
    assert not any(name == "authorization" for name, _ in up.headers)


def test_azure_style_uses_api_key_header_and_version() -> None:
    provider = OpenAIProvider(
        OpenAIProviderConfig(
            name="az", base_url="https://x.openai.azure.com/openai/deployments/d", azure_api_version="2024-10-21"
        ),
        Secret(SECRET),
    )
    up = provider.build_request(call({"model": "a", "messages": [{"role": "user", "content": "hi"}]}))
    assert up.url.endswith("/chat/completions?api-version=2024-10-21")
    assert ("api-key", SECRET) in up.headers


def test_error_mapping_never_echoes_keys() -> None:
    provider = OpenAIProvider(OpenAIProviderConfig(name="o"), Secret(SECRET))
    body = msgspec.json.encode({"error": {"message": f"Incorrect API key provided: {SECRET[:12]}****", "param": None}})
    auth = provider.map_error(401, {}, body)
    assert isinstance(auth, UpstreamStatusError)
    assert SECRET[:12] not in auth.message
    bad = provider.map_error(
        400, {}, msgspec.json.encode({"error": {"message": "bad key sk-abcdef123456 here", "param": "x"}})
    )
    assert isinstance(bad, InvalidRequestError)
    assert bad.param == "x"
    assert "sk-abcdef123456" not in bad.message
    limited = provider.map_error(429, {"retry-after": "3"}, b"")
    assert isinstance(limited, UpstreamRateLimitError)
    assert limited.retry_after == 3.0
    assert isinstance(provider.map_error(504, {}, b""), UpstreamTimeoutError)
    assert isinstance(provider.map_error(503, {}, b"not json"), UpstreamUnavailableError)
    other = provider.map_error(500, {}, b"")
    assert isinstance(other, UpstreamStatusError)
    assert other.upstream_status == 500
