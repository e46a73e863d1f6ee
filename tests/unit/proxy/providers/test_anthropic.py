"""The Anthropic Messages adapter: request translation, stream translation, error mapping."""

from __future__ import annotations

import email.utils
import itertools
import time

import aiohttp
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeupstream import FakeUpstream
from proxy.errors import (
    GatewayError,
    InvalidRequestError,
    UpstreamProtocolError,
    UpstreamRateLimitError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.providers.anthropic import AnthropicProvider
from proxy.providers.anthropic_stream import AnthropicStreamTranslator
from proxy.providers.base import Provider, UpstreamCall
from proxy.sse import SSEDecoder, SSEEvent
from schemas.chat import ChatCompletionChunk, ChatCompletionRequest, Usage
from schemas.providers import AnthropicProviderConfig
from schemas.secret import Secret

KEY = "sk-ant-api03-SECRETSECRETSECRET"


def _provider(base_url: str = "https://api.anthropic.com", key: str | None = KEY) -> AnthropicProvider:
    config = AnthropicProviderConfig(
        name="anthropic", base_url=base_url, default_max_tokens=321, headers={"X-Team": "a"}
    )
    return AnthropicProvider(config, Secret(key) if key else None)


def _call(body: dict[str, object], max_tokens: int | None = None, model: str = "claude-x") -> UpstreamCall:
    raw = msgspec.json.encode(body)
    request = msgspec.json.decode(raw, type=ChatCompletionRequest)
    return UpstreamCall(
        request=request,
        raw=msgspec.json.decode(raw, type=dict[str, msgspec.Raw]),
        messages=request.messages,
        upstream_model=model,
        max_tokens=max_tokens,
    )


def _sent(body: dict[str, object], max_tokens: int | None = None) -> dict[str, object]:
    req = _provider().build_request(_call(body, max_tokens))
    decoded: dict[str, object] = msgspec.json.decode(req.body)
    return decoded


# ---- request translation -------------------------------------------------------------------


def test_request_url_headers_and_required_fields() -> None:
    req = _provider("http://fake:9/").build_request(
        _call({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    )
    headers = dict(req.headers)
    assert req.url == "http://fake:9/v1/messages"
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["content-type"] == "application/json"
    assert headers["x-team"] == "a"
    assert KEY not in repr(req)
    body = msgspec.json.decode(req.body)
    assert body == {
        "model": "claude-x",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "max_tokens": 321,
        "stream": True,
    }


def test_conforms_to_the_provider_protocol() -> None:
    provider: Provider = _provider()  # checked by mypy
    assert provider.name == "anthropic"


def test_no_key_means_no_key_header() -> None:
    req = _provider(key=None).build_request(_call({"model": "m", "messages": [{"role": "user", "content": "x"}]}))
    assert "x-api-key" not in dict(req.headers)


def test_system_merge_tools_and_parameters() -> None:
    body = _sent(
        {
            "model": "m",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "developer", "content": [{"type": "text", "text": "use tools"}]},
                {"role": "user", "content": "weather?"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "in Paris"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": "checking",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
                {"role": "user", "content": "thanks"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "d",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "temperature": 1.7,
            "top_p": 0.5,
            "stop": "END",
            "user": "u-1",
        },
        max_tokens=77,
    )
    assert body["system"] == "be brief\n\nuse tools"
    assert body["max_tokens"] == 77
    assert body["temperature"] == 1.0
    assert body["top_p"] == 0.5
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u-1"}
    assert body["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "d",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "weather?"},
                {"type": "text", "text": "in Paris"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "checking"},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
                {"type": "text", "text": "thanks"},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("choice", "expected"), [("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"})]
)
def test_tool_choice_strings(choice: str, expected: dict[str, str]) -> None:
    body = _sent({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": choice})
    assert body["tool_choice"] == expected


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}],
        [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1]"}}]}],
        [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}]}],
        [{"role": "tool", "content": "no id"}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,notbase64"}}]}],
    ],
)
def test_untranslatable_requests_are_400(messages: list[object]) -> None:
    with pytest.raises(InvalidRequestError):
        _sent({"model": "m", "messages": messages})


def test_n_above_one_is_refused() -> None:
    with pytest.raises(InvalidRequestError):
        _sent({"model": "m", "n": 2, "messages": [{"role": "user", "content": "x"}]})


# ---- stream translation --------------------------------------------------------------------


def _ev(name: str, payload: dict[str, object]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + msgspec.json.encode(payload) + b"\n\n"


TRANSCRIPT = b"".join(
    [
        _ev(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-x",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 25,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": 4,
                        "cache_read_input_tokens": 10,
                    },
                },
            },
        ),
        _ev(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        _ev("ping", {"type": "ping"}),
        _ev(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Héllo"}},
        ),
        _ev(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " wörld"}},
        ),
        _ev("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _ev(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
            },
        ),
        _ev(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '{"city": '},
            },
        ),
        _ev(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'},
            },
        ),
        _ev("content_block_stop", {"type": "content_block_stop", "index": 1}),
        _ev(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 2,
                "content_block": {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            },
        ),
        _ev(
            "content_block_delta",
            {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{}"}},
        ),
        _ev("content_block_stop", {"type": "content_block_stop", "index": 2}),
        _ev(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 42},
            },
        ),
        _ev("message_stop", {"type": "message_stop"}),
    ]
)


def _translate(pieces: list[bytes]) -> tuple[list[ChatCompletionChunk], AnthropicStreamTranslator]:
    decoder = SSEDecoder()
    translator = AnthropicStreamTranslator("chatcmpl-1", "alias")
    chunks: list[ChatCompletionChunk] = []
    for piece in pieces:
        for event in decoder.decode(piece):
            chunks.extend(translator.feed(event))
    for event in decoder.flush():
        chunks.extend(translator.feed(event))
    return chunks, translator


Summary = tuple[str, dict[int, list[str]], list[str], Usage | None]


def _summary(chunks: list[ChatCompletionChunk]) -> Summary:
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls: dict[int, list[str]] = {}
    for c in chunks:
        for call in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            entry = calls.setdefault(call.index, ["", "", ""])
            entry[0] += call.id or ""
            entry[1] += (call.function.name or "") if call.function else ""
            entry[2] += (call.function.arguments or "") if call.function else ""
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    usage = chunks[-1].usage
    return text, calls, finishes, usage


def test_transcript_translates_to_openai_chunks() -> None:
    chunks, translator = _translate([TRANSCRIPT])
    assert translator.done
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.id == "chatcmpl-1" and c.model == "alias" for c in chunks)
    text, calls, finishes, usage = _summary(chunks)
    assert text == "Héllo wörld"
    assert calls == {0: ["toolu_1", "get_weather", '{"city": "Paris"}'], 1: ["toolu_2", "get_time", "{}"]}
    assert finishes == ["tool_calls"]
    assert chunks[-1].choices == []
    assert usage is not None
    # prompt = input 25 + cache write 4 + cache read 10
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (39, 42, 81)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 10


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(TRANSCRIPT)), max_size=30))
def test_translation_does_not_depend_on_how_bytes_are_split(cuts: list[int]) -> None:
    bounds = sorted({0, len(TRANSCRIPT), *cuts})
    pieces = [TRANSCRIPT[a:b] for a, b in itertools.pairwise(bounds)]
    chunks, translator = _translate(pieces)
    assert translator.done
    assert _summary(chunks) == _summary(_translate([TRANSCRIPT])[0])


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
    ],
)
def test_stop_reason_mapping(stop: str, finish: str) -> None:
    translator = AnthropicStreamTranslator("id", "m")
    event = SSEEvent(
        msgspec.json.encode(
            {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 3}}
        ).decode(),
        "message_delta",
    )
    (chunk,) = translator.feed(event)
    assert chunk.choices[0].finish_reason == finish


@pytest.mark.parametrize(
    ("error_type", "exc_type"),
    [
        ("overloaded_error", UpstreamUnavailableError),
        ("rate_limit_error", UpstreamRateLimitError),
        ("api_error", UpstreamStatusError),
        ("invalid_request_error", InvalidRequestError),
    ],
)
def test_in_band_error_event_raises_mapped_error(error_type: str, exc_type: type[GatewayError]) -> None:
    translator = AnthropicStreamTranslator("id", "m")
    data = msgspec.json.encode({"type": "error", "error": {"type": error_type, "message": "Overloaded"}}).decode()
    with pytest.raises(exc_type):
        translator.feed(SSEEvent(data, "error"))


def test_ping_unknown_and_post_stop_events_are_ignored() -> None:
    translator = AnthropicStreamTranslator("id", "m")
    assert translator.feed(SSEEvent('{"type": "ping"}', "ping")) == []
    assert translator.feed(SSEEvent('{"type": "brand_new_event", "x": 1}', "brand_new_event")) == []
    assert (
        translator.feed(
            SSEEvent('{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}')
        )
        == []
    )
    states = [translator.done]
    assert len(translator.feed(SSEEvent('{"type": "message_stop"}', "message_stop"))) == 1
    states.append(translator.done)
    assert states == [False, True]
    assert translator.feed(SSEEvent('{"type": "message_stop"}', "message_stop")) == []


@pytest.mark.parametrize(
    "data",
    [
        '{"type":"content_block_delta","index":0,"delta":{"type":"te',
        "garbage",
        '{"no_type": 1}',
        '{"type":"content_block_delta","index":5,"delta":{"type":"input_json_delta","partial_json":"{"}}',
    ],
)
def test_malformed_events_raise_protocol_error(data: str) -> None:
    with pytest.raises(UpstreamProtocolError):
        AnthropicStreamTranslator("id", "m").feed(SSEEvent(data))


# ---- error mapping -------------------------------------------------------------------------


def _err(kind: str, message: str = "msg") -> bytes:
    return msgspec.json.encode({"type": "error", "error": {"type": kind, "message": message}})


@pytest.mark.parametrize(
    ("status", "kind", "exc_type"),
    [
        (400, "invalid_request_error", InvalidRequestError),
        (401, "authentication_error", UpstreamStatusError),
        (403, "permission_error", UpstreamStatusError),
        (404, "not_found_error", UpstreamStatusError),
        (408, "timeout_error", UpstreamTimeoutError),
        (413, "request_too_large", InvalidRequestError),
        (429, "rate_limit_error", UpstreamRateLimitError),
        (500, "api_error", UpstreamStatusError),
        (502, "api_error", UpstreamStatusError),
        (503, "api_error", UpstreamUnavailableError),
        (504, "api_error", UpstreamTimeoutError),
        (529, "overloaded_error", UpstreamUnavailableError),
    ],
)
def test_map_error_by_status(status: int, kind: str, exc_type: type[GatewayError]) -> None:
    error = _provider().map_error(status, {}, _err(kind))
    assert type(error) is exc_type


def test_auth_failure_never_blames_the_client_key_nor_echoes_it() -> None:
    error = _provider().map_error(401, {}, _err("authentication_error", f"invalid x-api-key {KEY}"))
    assert "invalid api key" not in error.message.lower()
    assert KEY not in error.message
    assert error.status == 502


def test_400_message_is_sanitised() -> None:
    body = _err("invalid_request_error", f"messages.0: bad\n\x00 field; key {KEY} and sk-other-1234567890abc")
    error = _provider().map_error(400, {}, body)
    assert isinstance(error, InvalidRequestError)
    assert "messages.0: bad" in error.message
    assert KEY not in error.message
    assert "sk-other" not in error.message
    assert "\x00" not in error.message


def test_retry_after_seconds_and_http_date() -> None:
    error = _provider().map_error(429, {"Retry-After": "12"}, _err("rate_limit_error"))
    assert error.retry_after == 12.0
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    error = _provider().map_error(429, {"retry-after": date}, b"not json")
    assert isinstance(error, UpstreamRateLimitError)
    assert error.retry_after is not None
    assert 25 <= error.retry_after <= 31


# ---- against the fake upstream on loopback -------------------------------------------------


async def _run(provider: AnthropicProvider, call: UpstreamCall) -> list[ChatCompletionChunk]:
    req = provider.build_request(call)
    decoder = SSEDecoder()
    translator = provider.new_translator(call, "chatcmpl-9", "alias")
    chunks: list[ChatCompletionChunk] = []
    async with (
        aiohttp.ClientSession() as session,
        session.post(req.url, data=req.body, headers=dict(req.headers)) as resp,
    ):
        if resp.status != 200:
            raise provider.map_error(resp.status, resp.headers, await resp.read())
        async for piece in resp.content.iter_any():
            for event in decoder.decode(piece):
                chunks.extend(translator.feed(event))
    assert translator.done
    return chunks


async def test_against_fake_upstream() -> None:
    with FakeUpstream(api_key=KEY) as fake:
        provider = _provider(fake.base_url)
        messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "alpha beta gamma"}]
        chunks = await _run(provider, _call({"model": "a", "messages": messages}, model="fake;chunks=2;cache_read=3"))
        text, _, finishes, usage = _summary(chunks)
        assert (text, finishes) == ("alpha beta gamma", ["stop"])
        record = fake.stats().records[-1]
        assert record.usage is not None
        assert usage is not None
        assert (usage.prompt_tokens, usage.completion_tokens) == (
            record.usage.prompt_tokens,
            record.usage.completion_tokens,
        )
        tool_model = 'fake;tool=f;args={"x": [1, 2]};chunks=3'
        chunks = await _run(provider, _call({"model": "a", "messages": messages}, model=tool_model))
        _, calls, finishes, _ = _summary(chunks)
        assert calls == {0: ["toolu_msg_fake_2", "f", '{"x": [1, 2]}']}
        assert finishes == ["tool_calls"]
        with pytest.raises(UpstreamUnavailableError):
            await _run(provider, _call({"model": "a", "messages": messages}, model="fake;fault=error_after:1"))
        with pytest.raises(UpstreamStatusError):
            await _run(_provider(fake.base_url, key="wrong"), _call({"model": "a", "messages": messages}, model="fake"))
