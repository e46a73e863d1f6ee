"""Decoding a chat request body: msgspec validation errors become 400s with the field path.

Besides the types, the fields OpenAI requires per role are checked here (the schema cannot say them:
``content`` is optional for an assistant message that carries ``tool_calls``, required for every
other role; a tool message needs ``tool_call_id``), so a message missing them is a 400 naming the
field, as OpenAI answers, instead of an empty prompt sent upstream.
"""

from __future__ import annotations

import re

import msgspec

from proxy.errors import InvalidRequestError
from schemas.chat import ChatCompletionRequest, ChatMessage

__all__ = ["decode_chat_request"]

_request_decoder = msgspec.json.Decoder(ChatCompletionRequest)
_raw_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


def decode_chat_request(body: bytes) -> tuple[ChatCompletionRequest, dict[str, msgspec.Raw]]:
    """Decode and validate; return the typed request and its raw top-level fields.

    Raises:
        InvalidRequestError: malformed JSON, not an object, a wrong type or a missing field;
            ``param`` names the offending field path (``messages[0].role``).
    """
    if not body:
        raise InvalidRequestError("the request body is empty; expected a JSON object")
    try:
        raw = _raw_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError("the request body must be a JSON object") from exc
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(f"the request body is not valid JSON: {exc}") from exc
    try:
        request = _request_decoder.decode(body)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        param = match.group(1) if match and match.group(1) else None
        raise InvalidRequestError(f"invalid request: {message}", param=param) from exc
    for index, turn in enumerate(request.messages):
        _check_message(index, turn)
    return request, raw


def _check_message(index: int, message: ChatMessage) -> None:
    missing: str | None = None
    if message.role == "assistant":
        if message.content is None and not message.tool_calls:
            missing = "content"  # an assistant turn is its text or its tool calls
    elif message.content is None:
        missing = "content"
    elif message.role == "tool" and not message.tool_call_id:
        missing = "tool_call_id"
    if missing is not None:
        param = f"messages[{index}].{missing}"
        raise InvalidRequestError(f"Missing required parameter: '{param}'.", param=param)
