"""OpenAI chat request -> Anthropic Messages request body (pure translation).

Decisions, so the mapping is predictable:

* ``system`` and ``developer`` messages, wherever they appear, are joined (blank line between)
  into Anthropic's top-level ``system``.
* Turns alternate: consecutive messages of the same Anthropic role are merged into one turn
  (their content blocks concatenated). ``tool`` messages become ``tool_result`` blocks in a
  user turn; assistant ``tool_calls`` become ``tool_use`` blocks (arguments must be a JSON
  object). Empty text is dropped, as Anthropic rejects empty text blocks.
* Images: ``data:`` URLs become base64 sources, ``http(s)`` URLs become URL sources; any other
  part type (audio, files) is refused with a 400 rather than silently dropped.
* ``max_tokens`` is required by Anthropic: the call's cap, else ``default_max_tokens``.
* ``temperature`` is clamped to Anthropic's 0..1 range; ``stop`` -> ``stop_sequences``;
  ``user`` -> ``metadata.user_id``; ``tool_choice`` auto/required/none/named -> auto/any/none/tool.
* ``n > 1`` is refused (Anthropic returns one candidate). ``response_format`` is not sent: the
  gateway validates structured output itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from proxy.errors import InvalidRequestError
from schemas.chat import message_text

if TYPE_CHECKING:
    from proxy.providers.base import UpstreamCall
    from schemas.chat import ChatMessage, ContentPart, Tool

__all__ = ["build_body"]

Block = dict[str, Any]


def _image_block(part: ContentPart) -> Block:
    value = None if isinstance(part.image_url, msgspec.UnsetType) else msgspec.json.decode(part.image_url)
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str):
        raise InvalidRequestError("image_url parts need a url", param="messages")
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise InvalidRequestError("image data URLs must be base64-encoded", param="messages")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequestError("unsupported image_url", param="messages")


def _content_blocks(message: ChatMessage) -> list[Block]:
    content = message.content
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[Block] = []
    for part in content:
        if part.type == "text":
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif part.type == "image_url":
            blocks.append(_image_block(part))
        else:
            raise InvalidRequestError(
                f"content part type {part.type!r} is not supported by this model", param="messages"
            )
    return blocks


def _tool_use_blocks(message: ChatMessage) -> list[Block]:
    blocks: list[Block] = []
    for call in message.tool_calls or ():
        try:
            arguments = msgspec.json.decode(call.function.arguments or "{}")
        except msgspec.DecodeError as exc:
            raise InvalidRequestError("tool call arguments must be a JSON object", param="messages") from exc
        if not isinstance(arguments, dict):
            raise InvalidRequestError("tool call arguments must be a JSON object", param="messages")
        blocks.append({"type": "tool_use", "id": call.id, "name": call.function.name, "input": arguments})
    return blocks


def _turns(messages: list[ChatMessage]) -> tuple[str, list[Block]]:
    system: list[str] = []
    turns: list[Block] = []
    for message in messages:
        if message.role in ("system", "developer"):
            text = message_text(message)
            if text:
                system.append(text)
            continue
        if message.role == "user":
            role, blocks = "user", _content_blocks(message)
        elif message.role == "assistant":
            role, blocks = "assistant", _content_blocks(message) + _tool_use_blocks(message)
        elif message.role == "tool":
            if not message.tool_call_id:
                raise InvalidRequestError("tool messages need a tool_call_id", param="messages")
            result: Block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
            text = message_text(message)
            if text:
                result["content"] = text
            role, blocks = "user", [result]
        else:
            raise InvalidRequestError(f"role {message.role!r} is not supported by this model", param="messages")
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return "\n\n".join(system), turns


def _tool(tool: Tool) -> Block:
    schema: object = {"type": "object", "properties": {}}
    if not isinstance(tool.function.parameters, msgspec.UnsetType):
        schema = msgspec.json.decode(tool.function.parameters)
    out: Block = {"name": tool.function.name, "input_schema": schema}
    if tool.function.description:
        out["description"] = tool.function.description
    return out


def _tool_choice(raw: msgspec.Raw) -> Block:
    value = msgspec.json.decode(raw)
    if value == "auto":
        return {"type": "auto"}
    if value == "required":
        return {"type": "any"}
    if value == "none":
        return {"type": "none"}
    if isinstance(value, dict) and isinstance(value.get("function"), dict) and "name" in value["function"]:
        return {"type": "tool", "name": value["function"]["name"]}
    raise InvalidRequestError("unsupported tool_choice", param="tool_choice")


def build_body(call: UpstreamCall, default_max_tokens: int) -> Block:
    """Translate the call into an Anthropic Messages request body (always streaming).

    Raises:
        InvalidRequestError: the request uses something Anthropic cannot express.
    """
    request = call.request
    if request.n is not None and request.n > 1:
        raise InvalidRequestError("n > 1 is not supported by this model", param="n")
    system, turns = _turns(call.messages)
    body: Block = {
        "model": call.upstream_model,
        "messages": turns,
        "max_tokens": call.max_tokens if call.max_tokens is not None else default_max_tokens,
        "stream": True,
    }
    if system:
        body["system"] = system
    if request.temperature is not None:
        body["temperature"] = min(request.temperature, 1.0)
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop is not None:
        body["stop_sequences"] = [request.stop] if isinstance(request.stop, str) else list(request.stop)
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
    if not isinstance(request.tool_choice, msgspec.UnsetType):
        body["tool_choice"] = _tool_choice(request.tool_choice)
    if request.user:
        body["metadata"] = {"user_id": request.user}
    return body
