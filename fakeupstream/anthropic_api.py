"""The fake's Anthropic Messages endpoint (``POST /v1/messages``), streaming and not.

Streams follow the real event sequence: ``message_start`` (usage.input_tokens), per content
block ``content_block_start`` / ``content_block_delta`` (``text_delta`` or
``input_json_delta``) / ``content_block_stop``, a ``ping`` after the first block start,
``message_delta`` (stop_reason + cumulative ``usage.output_tokens``) and ``message_stop``.
Errors use ``{"type": "error", "error": {"type", "message"}}`` with a ``request-id`` header.

Usage: ``input_tokens`` is the counted prompt (see ``content``); ``cache_read=N`` and
``cache_write=N`` are reported as ``cache_read_input_tokens`` / ``cache_creation_input_tokens``.
The stats record the usage in OpenAI terms: prompt = input + cache read + cache write.
``usage=none`` does not apply here (the Messages protocol always carries usage).
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

__all__ = ["error_response", "messages"]

PATH = "/v1/messages"
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_encode = msgspec.json.encode


class _Block(msgspec.Struct):
    type: str = "text"
    text: str | None = None
    input: msgspec.Raw | None = None
    content: str | list[_Block] | None = None


class _Message(msgspec.Struct):
    role: str
    content: str | list[_Block]


class _Request(msgspec.Struct):
    model: str
    messages: list[_Message]
    max_tokens: int
    system: str | list[_Block] | None = None
    stream: bool = False


def _text(content: str | list[_Block] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if block.text is not None:
            parts.append(block.text)
        if block.input is not None:
            parts.append(bytes(block.input).decode())
        if block.content is not None:
            parts.append(_text(block.content))
    return "\n".join(parts)


def _prompt_tokens(req: _Request) -> int:
    total = sum(PER_MESSAGE_TOKENS + count_words(_text(m.content)) for m in req.messages)
    if req.system is not None:
        total += PER_MESSAGE_TOKENS + count_words(_text(req.system))
    return total


def error_response(status: int, message: str, retry_after: float | None = None) -> web.Response:
    """An Anthropic-shaped error response."""
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    body = {"type": "error", "error": {"type": kind, "message": message}}
    headers = {"request-id": f"req_fake_{time.monotonic_ns()}"}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return web.Response(status=status, body=_encode(body), content_type="application/json", headers=headers)


def _usage(answer: Answer, cache_read: int, cache_write: int) -> UsageRecord:
    prompt = answer.prompt_tokens + cache_read + cache_write
    return UsageRecord(
        prompt_tokens=prompt,
        completion_tokens=answer.completion_tokens,
        total_tokens=prompt + answer.completion_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def _event(name: str, payload: dict[str, object]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + _encode(payload) + b"\n\n"


def _tool_input(arguments: str) -> object:
    try:
        return msgspec.json.decode(arguments)
    except msgspec.DecodeError:
        return {"_unparsed": arguments}


def _frames(answer: Answer, message: dict[str, object], usage: UsageRecord) -> list[Frame]:
    frames = [Frame(_event("message_start", {"type": "message_start", "message": message}))]
    index = 0
    if answer.chunks or answer.tool_name is None:
        frames.append(
            Frame(
                _event(
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                )
            )
        )
        frames.append(Frame(_event("ping", {"type": "ping"})))
        frames.extend(
            Frame(
                _event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
                ),
                content=True,
            )
            for text in answer.chunks
        )
        frames.append(Frame(_event("content_block_stop", {"type": "content_block_stop", "index": 0})))
        index = 1
    if answer.tool_name is not None:
        block = {"type": "tool_use", "id": f"toolu_{message['id']}", "name": answer.tool_name, "input": {}}
        frames.append(
            Frame(
                _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
            )
        )
        if index == 0:
            frames.append(Frame(_event("ping", {"type": "ping"})))
        frames.extend(
            Frame(
                _event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                ),
                content=True,
            )
            for piece in answer.tool_arg_chunks
        )
        frames.append(Frame(_event("content_block_stop", {"type": "content_block_stop", "index": index})))
    delta = {"stop_reason": _STOP.get(answer.finish, answer.finish), "stop_sequence": None}
    frames.append(
        Frame(
            _event(
                "message_delta",
                {"type": "message_delta", "delta": delta, "usage": {"output_tokens": answer.completion_tokens}},
            ),
            usage=usage,
        )
    )
    frames.append(Frame(_event("message_stop", {"type": "message_stop"})))
    return frames


def _message(
    answer: Answer, message_id: str, model: str, cache_read: int, cache_write: int, *, final: bool
) -> dict[str, object]:
    content: list[object] = []
    if final:
        text = "".join(answer.chunks)
        if text or answer.tool_name is None:
            content.append({"type": "text", "text": text})
        if answer.tool_name is not None:
            arguments = "".join(answer.tool_arg_chunks)
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{message_id}",
                    "name": answer.tool_name,
                    "input": _tool_input(arguments),
                }
            )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _STOP.get(answer.finish, answer.finish) if final else None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": answer.prompt_tokens,
            "output_tokens": answer.completion_tokens if final else 0,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
        },
    }


def _authorized(request: web.Request) -> bool:
    expected = request.app[API_KEY]
    if not expected:
        return True
    return hmac.compare_digest(request.headers.get("x-api-key", "").encode(), expected.encode())


async def messages(request: web.Request) -> web.StreamResponse:
    """``POST /v1/messages``."""
    admitted = await admit(
        request,
        PATH,
        _Request,
        authorized=_authorized(request),
        unauthorized="invalid x-api-key",
        make_error=error_response,
    )
    if isinstance(admitted, web.StreamResponse):
        return admitted
    req, record, directive = admitted
    state = request.app[STATE]
    echo = next((_text(m.content) for m in reversed(req.messages) if m.role == "user"), "")
    answer = plan_answer(directive, echo, _prompt_tokens(req), req.max_tokens)
    message_id = f"msg_fake_{record.id}"
    usage = _usage(answer, directive.cache_read, directive.cache_write)
    if not req.stream:
        body = _encode(_message(answer, message_id, req.model, directive.cache_read, directive.cache_write, final=True))
        return await send_body(request, state, record, directive, body, usage, error_response)
    start = _message(answer, message_id, req.model, directive.cache_read, directive.cache_write, final=False)
    truncated = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"te\n\n'
    error = _event("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    return await send_stream(
        request, state, record, directive, _frames(answer, start, usage), FaultFrames(truncated=truncated, error=error)
    )
