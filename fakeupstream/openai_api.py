"""The fake's OpenAI Chat Completions endpoint (``POST /v1/chat/completions``) and ``GET /v1/models``.

Streams are ``data: {chat.completion.chunk}`` events: a first chunk with the role, one per
text chunk (or tool-argument chunk), a finish chunk, then, when
``stream_options.include_usage`` is set, a usage chunk with ``choices: []``, and
``data: [DONE]``. Errors use OpenAI's envelope ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import hmac
import time

import msgspec
from aiohttp import web

from fakeupstream.appkeys import API_KEY, STATE
from fakeupstream.content import PER_MESSAGE_TOKENS, Answer, count_words, plan_answer
from fakeupstream.faults import FaultFrames, Frame, admit, send_body, send_stream
from fakeupstream.state import UsageRecord

__all__ = ["chat_completions", "error_response", "models"]

PATH = "/v1/chat/completions"
_FINISH = {"stop": "stop", "length": "length", "tool": "tool_calls"}
_encode = msgspec.json.encode


class _Part(msgspec.Struct):
    type: str = "text"
    text: str | None = None


class _Function(msgspec.Struct):
    name: str = ""
    arguments: str = ""


class _ToolCall(msgspec.Struct):
    function: _Function = msgspec.field(default_factory=_Function)


class _Message(msgspec.Struct):
    role: str
    content: str | list[_Part] | None = None
    tool_calls: list[_ToolCall] | None = None


class _StreamOptions(msgspec.Struct):
    include_usage: bool = False


class _Request(msgspec.Struct):
    model: str
    messages: list[_Message]
    stream: bool = False
    stream_options: _StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None


def _text(message: _Message) -> str:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    return "\n".join(p.text for p in message.content if p.text is not None)


def _prompt_tokens(messages: list[_Message]) -> int:
    total = 0
    for message in messages:
        total += PER_MESSAGE_TOKENS + count_words(_text(message))
        for call in message.tool_calls or ():
            total += count_words(call.function.arguments)
    return total


def error_response(status: int, message: str, retry_after: float | None = None) -> web.Response:
    """An OpenAI-shaped error response."""
    if status == 401:
        kind, code = "invalid_request_error", "invalid_api_key"
    elif status == 403:
        kind, code = "permission_error", "permission_denied"
    elif status == 429:
        kind, code = "rate_limit_error", "rate_limit_exceeded"
    elif status >= 500:
        kind, code = "server_error", "server_error"
    else:
        kind, code = "invalid_request_error", "invalid_request"
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    headers = {"x-request-id": f"req_fake_{time.monotonic_ns()}"}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return web.Response(status=status, body=_encode(body), content_type="application/json", headers=headers)


def _usage(answer: Answer) -> UsageRecord:
    return UsageRecord(
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        total_tokens=answer.prompt_tokens + answer.completion_tokens,
    )


def _usage_json(usage: UsageRecord) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _frames(answer: Answer, response_id: str, model: str, include_usage: bool) -> list[Frame]:
    created = int(time.time())

    def chunk(choices: list[object], usage: dict[str, int] | None = None) -> bytes:
        body: dict[str, object] = {
            "id": response_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
        }
        if usage is not None:
            body["usage"] = usage
        return b"data: " + _encode(body) + b"\n\n"

    def delta(payload: dict[str, object], finish: str | None = None) -> list[object]:
        return [{"index": 0, "delta": payload, "finish_reason": finish, "logprobs": None}]

    frames = [Frame(chunk(delta({"role": "assistant", "content": ""})))]
    frames.extend(Frame(chunk(delta({"content": text})), content=True) for text in answer.chunks)
    if answer.tool_name is not None:
        call: dict[str, object] = {
            "index": 0,
            "id": f"call_{response_id}",
            "type": "function",
            "function": {"name": answer.tool_name, "arguments": ""},
        }
        frames.append(Frame(chunk(delta({"tool_calls": [call]}))))
        frames.extend(
            Frame(chunk(delta({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})), content=True)
            for piece in answer.tool_arg_chunks
        )
    frames.append(Frame(chunk(delta({}, _FINISH.get(answer.finish, answer.finish)))))
    if include_usage:
        usage = _usage(answer)
        frames.append(Frame(chunk([], _usage_json(usage)), usage=usage))
    frames.append(Frame(b"data: [DONE]\n\n"))
    return frames


def _completion(answer: Answer, response_id: str, model: str, with_usage: bool) -> bytes:
    text = "".join(answer.chunks)
    message: dict[str, object] = {"role": "assistant", "content": text if text or answer.tool_name is None else None}
    if answer.tool_name is not None:
        message["tool_calls"] = [
            {
                "id": f"call_{response_id}",
                "type": "function",
                "function": {"name": answer.tool_name, "arguments": "".join(answer.tool_arg_chunks)},
            }
        ]
    body: dict[str, object] = {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": _FINISH.get(answer.finish, answer.finish),
                "logprobs": None,
            }
        ],
    }
    if with_usage:
        body["usage"] = _usage_json(_usage(answer))
    return _encode(body)


def _authorized(request: web.Request) -> bool:
    expected = request.app[API_KEY]
    if not expected:
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return hmac.compare_digest(given.encode(), expected.encode())


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """``POST /v1/chat/completions``."""
    admitted = await admit(
        request,
        PATH,
        _Request,
        authorized=_authorized(request),
        unauthorized="Incorrect API key provided.",
        make_error=error_response,
    )
    if isinstance(admitted, web.StreamResponse):
        return admitted
    req, record, directive = admitted
    state = request.app[STATE]
    echo = next((_text(m) for m in reversed(req.messages) if m.role == "user"), "")
    cap = req.max_completion_tokens if req.max_completion_tokens is not None else req.max_tokens
    answer = plan_answer(directive, echo, _prompt_tokens(req.messages), cap)
    response_id = f"chatcmpl-fake-{record.id}"
    if not req.stream:
        body = _completion(answer, response_id, req.model, directive.usage)
        usage = _usage(answer) if directive.usage else None
        return await send_body(request, state, record, directive, body, usage, error_response)
    include_usage = directive.usage and req.stream_options is not None and req.stream_options.include_usage
    frames = _frames(answer, response_id, req.model, include_usage)
    truncated = b'data: {"id":"' + response_id.encode() + b'","object":"chat.completion.chunk","choices":[{"ind\n\n'
    error = b"data: " + _encode(
        {"error": {"message": "injected in-band error", "type": "server_error", "param": None, "code": None}}
    )
    return await send_stream(
        request, state, record, directive, frames, FaultFrames(truncated=truncated, error=error + b"\n\n")
    )


async def models(request: web.Request) -> web.Response:
    """``GET /v1/models``: a fixed list."""
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "fakeupstream"} for name in ("fake", "fake-2")]
    return web.Response(body=_encode({"object": "list", "data": data}), content_type="application/json")
