"""OpenAI Chat Completions wire types: the request, the response and the stream chunk.

These are *tolerant* (``WireStruct``): unknown fields are ignored on decode, which is what
lets the gateway accept new OpenAI parameters without a release. The gateway never
forwards these Structs as the whole upstream body: adapters start from the client's raw
top-level fields (``dict[str, msgspec.Raw]``) and replace only what the gateway changed,
so parameters this file does not model still reach the provider untouched.

What the gateway sends (responses, chunks, the model list) keeps every field, defaults
included (``omit_defaults=False``), as OpenAI does: clients key on ``object``, ``index`` and
``finish_reason: null``. Deltas and messages omit absent fields, also as OpenAI does.

Sub-objects the gateway never inspects (image parts, audio, logprobs) are kept as
``msgspec.Raw`` so they round-trip byte for byte. Gateway extensions to the request are
``documents`` (retrieved, untrusted text) and ``template`` (a named prompt template).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import WireStruct

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatMessage",
    "Choice",
    "ChunkChoice",
    "ContentPart",
    "Delta",
    "FunctionCall",
    "FunctionCallDelta",
    "JsonSchemaFormat",
    "ModelList",
    "ModelObject",
    "PromptTokensDetails",
    "ResponseFormat",
    "ResponseMessage",
    "StreamOptions",
    "TemplateRef",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolFunction",
    "Usage",
    "message_text",
]

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class ContentPart(WireStruct, kw_only=True):
    """One part of a multi-part message content; only ``text`` parts are inspected."""

    type: str
    text: str | None = None
    image_url: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    input_audio: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    file: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class FunctionCall(WireStruct, kw_only=True):
    """A complete function call made by the assistant; ``arguments`` is a JSON string."""

    name: str
    arguments: str = ""


class ToolCall(WireStruct, kw_only=True):
    """A complete tool call in an assistant message."""

    id: str
    function: FunctionCall
    type: str = "function"


class ChatMessage(WireStruct, kw_only=True):
    """One message of the conversation, as the client sent it."""

    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class StreamOptions(WireStruct, kw_only=True):
    """``stream_options``: whether a final chunk carries the usage."""

    include_usage: bool = False


class ToolFunction(WireStruct, kw_only=True):
    """A function the model may call."""

    name: str
    description: str | None = None
    parameters: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    strict: bool | None = None


class Tool(WireStruct, kw_only=True):
    """A tool definition."""

    function: ToolFunction
    type: str = "function"


class JsonSchemaFormat(WireStruct, kw_only=True):
    """``response_format.json_schema``."""

    name: str
    schema: dict[str, object] | None = None
    strict: bool | None = None
    description: str | None = None


class ResponseFormat(WireStruct, kw_only=True):
    """``response_format``: text, json_object or json_schema."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class TemplateRef(WireStruct, kw_only=True):
    """Gateway extension: invoke a named prompt template held in config."""

    name: str
    variables: dict[str, str] = {}


class ChatCompletionRequest(WireStruct, kw_only=True):
    """``POST /v1/chat/completions`` body (the fields the gateway reads or checks)."""

    model: Annotated[str, msgspec.Meta(min_length=1)]
    messages: list[ChatMessage] = []
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    n: Annotated[int, msgspec.Meta(ge=1, le=16)] | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    tools: list[Tool] | None = None
    tool_choice: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    response_format: ResponseFormat | None = None
    user: str | None = None
    documents: list[str] | None = None
    template: TemplateRef | None = None

    @property
    def output_limit(self) -> int | None:
        """The client's cap on generated tokens (``max_completion_tokens`` wins, as in OpenAI)."""
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens


class PromptTokensDetails(WireStruct, kw_only=True):
    """``usage.prompt_tokens_details``: the cached part of the prompt is billed at its own price."""

    cached_tokens: int = 0
    audio_tokens: int | None = None


class Usage(WireStruct, kw_only=True):
    """Token usage of one completion."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class ResponseMessage(WireStruct, kw_only=True):
    """The assistant message of a non-streaming choice."""

    role: str = "assistant"
    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    refusal: str | None = None


class Choice(WireStruct, kw_only=True, omit_defaults=False):
    """One choice of a non-streaming completion."""

    index: int = 0
    message: ResponseMessage
    finish_reason: str | None = None
    logprobs: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class ChatCompletion(WireStruct, kw_only=True, omit_defaults=False):
    """A non-streaming completion (``object: chat.completion``)."""

    id: str
    model: str
    choices: list[Choice]
    created: int = 0
    object: str = "chat.completion"
    usage: Usage | None = None
    system_fingerprint: str | None = None


class FunctionCallDelta(WireStruct, kw_only=True):
    """A fragment of a streamed function call."""

    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(WireStruct, kw_only=True):
    """A fragment of a streamed tool call."""

    index: int
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None


class Delta(WireStruct, kw_only=True):
    """The delta of one streamed choice."""

    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    refusal: str | None = None


class ChunkChoice(WireStruct, kw_only=True, omit_defaults=False):
    """One choice of a stream chunk."""

    index: int = 0
    delta: Delta = msgspec.field(default_factory=Delta)
    finish_reason: str | None = None
    logprobs: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class ChatCompletionChunk(WireStruct, kw_only=True, omit_defaults=False):
    """A stream chunk (``object: chat.completion.chunk``)."""

    id: str
    model: str
    choices: list[ChunkChoice]
    created: int = 0
    object: str = "chat.completion.chunk"
    usage: Usage | None = None
    system_fingerprint: str | None = None


class ModelObject(WireStruct, kw_only=True, omit_defaults=False):
    """One entry of ``GET /v1/models``."""

    id: str
    created: int = 0
    object: str = "model"
    owned_by: str = "gateway"


class ModelList(WireStruct, kw_only=True, omit_defaults=False):
    """``GET /v1/models``."""

    data: list[ModelObject]
    object: str = "list"


def message_text(message: ChatMessage) -> str:
    """Return the text of a message: the string content, or its text parts joined by newlines."""
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if part.text is not None)
