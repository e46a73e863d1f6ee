"""The built-in fake provider: deterministic, in-process, no network, no credentials.

Behaviour is chosen by the deployment's model name (as TensorZero's dummy provider does):

| model              | behaviour                                                            |
| ------------------ | -------------------------------------------------------------------- |
| ``echo`` (default) | streams back the last user message, one word per chunk               |
| ``lorem:N``        | streams N words of lorem ipsum                                        |
| ``json``           | streams ``{"echo": "<last user message>"}`` (for structured outputs)   |
| ``slow``           | like ``echo`` with 50 ms between chunks                               |
| ``leak-secret``    | answers with an e-mail address and an API-key-shaped string           |
| ``error-NNN``      | answers HTTP NNN with an OpenAI error body                             |

It emits real OpenAI-format SSE bytes through the same translator as OpenAI itself, so the
gateway's relay, guards and settle run exactly as they would against a provider. Usage is
counted in words: ``prompt_tokens`` = words of all messages + 3 per message,
``completion_tokens`` = words emitted.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import msgspec

from proxy.errors import GatewayError, UpstreamStatusError
from proxy.providers.base import UpstreamRequest
from proxy.providers.chunks import OpenAIChunkTranslator
from schemas.chat import ChatCompletionChunk, ChunkChoice, Delta, Usage, message_text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from proxy.providers.base import UpstreamCall
    from schemas.providers import FakeProviderConfig

__all__ = ["FakeProvider", "FakeResponse"]

_LOREM = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "ut",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
    "nisi",
    "ut",
    "aliquip",
    "ex",
    "ea",
    "commodo",
]
_LEAK = "Sure: write to jane.doe@example.com and use the key AKIAIOSFODNN7EXAMPLE for the bucket."
_encoder = msgspec.json.Encoder()


class FakeResponse:
    """An in-process response with the interface of ``proxy.upstream.HttpResponse``."""

    def __init__(self, status: int, body: list[bytes], delay_s: float) -> None:
        self._status = status
        self._body = body
        self._delay = delay_s
        self._headers = {"content-type": "text/event-stream" if status == 200 else "application/json"}

    @property
    def status(self) -> int:
        """HTTP status."""
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        return self._headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yield one SSE event per chunk, pausing ``delay`` between them."""
        for part in self._body:
            if self._delay:
                await asyncio.sleep(self._delay)
            yield part

    async def read(self, limit: int = 65536) -> bytes:
        """The whole (error) body."""
        return b"".join(self._body)[:limit]

    async def aclose(self) -> None:
        """Nothing to release."""


class FakeProvider:
    """The in-process fake; see the module docstring for the model names."""

    def __init__(self, config: FakeProviderConfig) -> None:
        self._config = config

    @property
    def name(self) -> str:
        """The provider's configured name."""
        return self._config.name

    def build_request(self, call: UpstreamCall) -> UpstreamRequest:
        """Never sent over the network; describes the call for logs."""
        return UpstreamRequest(url=f"fake:{call.upstream_model}", headers=(), body=b"")

    def new_translator(self, call: UpstreamCall, response_id: str, model: str) -> OpenAIChunkTranslator:
        """The fake speaks the OpenAI chunk format."""
        return OpenAIChunkTranslator(model)

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> GatewayError:
        """Every fake error is an upstream status error."""
        return UpstreamStatusError(f"upstream answered {status}", upstream_status=status)

    def open_local(self, call: UpstreamCall) -> FakeResponse:
        """Produce the whole response for ``call`` (streamed out chunk by chunk)."""
        behaviour, _, arg = call.upstream_model.partition(":")
        delay = self._config.chunk_delay_ms / 1000
        if behaviour.startswith("error-") and behaviour[6:].isdigit():
            body = b'{"error":{"message":"fake failure","type":"server_error","param":null,"code":null}}'
            return FakeResponse(int(behaviour[6:]), [body], 0)
        last_user = next((message_text(m) for m in reversed(call.messages) if m.role == "user"), "")
        if behaviour == "lorem":
            count = int(arg) if arg.isdigit() else 32
            words = [_LOREM[i % len(_LOREM)] for i in range(count)]
        elif behaviour == "json":
            words = [_encoder.encode({"echo": last_user}).decode()]
        elif behaviour == "leak-secret":
            words = _LEAK.split()
        else:
            words = last_user.split() or ["(empty)"]
            if behaviour == "slow":
                delay = max(delay, 0.05)
        if call.max_tokens is not None:
            words = words[: call.max_tokens]
        prompt = sum(len(message_text(m).split()) + 3 for m in call.messages)
        return FakeResponse(200, _sse(words, call.upstream_model, prompt), delay)


def _sse(words: list[str], model: str, prompt_tokens: int) -> list[bytes]:
    response_id = f"chatcmpl-fake-{time.monotonic_ns()}"
    created = int(time.time())

    def event(choices: list[ChunkChoice], usage: Usage | None = None) -> bytes:
        chunk = ChatCompletionChunk(id=response_id, model=model, created=created, choices=choices, usage=usage)
        return b"data: " + _encoder.encode(chunk) + b"\n\n"

    out = [event([ChunkChoice(delta=Delta(role="assistant", content=""))])]
    out.extend(event([ChunkChoice(delta=Delta(content=w if i == 0 else " " + w))]) for i, w in enumerate(words))
    out.append(event([ChunkChoice(delta=Delta(), finish_reason="stop")]))
    usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=len(words), total_tokens=prompt_tokens + len(words))
    out.append(event([], usage))
    out.append(b"data: [DONE]\n\n")
    return out
