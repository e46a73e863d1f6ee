"""The load test's client side: one shot (streaming or not) over aiohttp, and a bounded concurrent burst.

Every shot records what a client can see: the status, the error code, ``Retry-After``, the rate-limit headers,
and the usage the gateway relayed (the final usage chunk of a stream, or the body's ``usage``). Nothing here
knows about limits: the test compares these observations with the configuration and the store.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp
import msgspec

__all__ = ["Burst", "Shot", "ShotResult", "cost_micro_usd", "fire_burst"]


def cost_micro_usd(prompt: int, completion: int, input_micro_per_mtok: int, output_micro_per_mtok: int) -> int:
    """``ceil((prompt * p_in + completion * p_out) / 1e6)``: the rounding the issue specifies, per request."""
    return -(-(prompt * input_micro_per_mtok + completion * output_micro_per_mtok) // 1_000_000)


@dataclass(frozen=True, slots=True)
class Shot:
    """One request of the burst."""

    base_url: str
    key: str
    tenant: str
    model: str
    stream: bool
    prompt: str
    max_tokens: int


@dataclass(slots=True)
class ShotResult:
    """What the client observed for one shot."""

    shot: Shot
    status: int = 0
    code: str | None = None
    error_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    usage: tuple[int, int] | None = None
    """(prompt_tokens, completion_tokens) as relayed to the client."""
    text: str = ""
    done: bool = False
    """A stream ended with ``data: [DONE]`` (or a JSON body was read whole)."""
    failure: str = ""
    """A transport error (connection reset, timeout): always a test failure."""


class _Error(msgspec.Struct):
    code: str | None = None
    type: str | None = None


class _Envelope(msgspec.Struct):
    error: _Error


class _Usage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int


class _Delta(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    message: _Delta | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] = []
    usage: _Usage | None = None


_chunk = msgspec.json.Decoder(_Chunk)
_envelope = msgspec.json.Decoder(_Envelope)


async def _read_stream(resp: aiohttp.ClientResponse, result: ShotResult) -> None:
    parts: list[str] = []
    async for raw in resp.content:
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            result.done = True
            break
        chunk = _chunk.decode(data)
        parts.extend(c.delta.content or "" for c in chunk.choices if c.delta is not None)
        if chunk.usage is not None:
            result.usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
    result.text = "".join(parts)


async def _fire(session: aiohttp.ClientSession, shot: Shot) -> ShotResult:
    result = ShotResult(shot)
    body: dict[str, object] = {
        "model": shot.model,
        "messages": [{"role": "user", "content": shot.prompt}],
        "max_tokens": shot.max_tokens,
    }
    if shot.stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    try:
        async with session.post(
            shot.base_url + "/v1/chat/completions",
            data=msgspec.json.encode(body),
            headers={"authorization": f"Bearer {shot.key}", "content-type": "application/json"},
        ) as resp:
            result.status = resp.status
            result.headers = {k.lower(): v for k, v in resp.headers.items()}
            if resp.status == 200 and shot.stream:
                await _read_stream(resp, result)
                return result
            payload = await resp.read()
            if resp.status != 200:
                error = _envelope.decode(payload).error
                result.code, result.error_type = error.code, error.type
                return result
            completion = msgspec.json.decode(payload, type=_Chunk)
            if completion.usage is not None:
                result.usage = (completion.usage.prompt_tokens, completion.usage.completion_tokens)
            message = completion.choices[0].message if completion.choices else None
            result.text = (message.content or "") if message is not None else ""
            result.done = True
    except (aiohttp.ClientError, TimeoutError, msgspec.DecodeError) as exc:
        result.failure = f"{type(exc).__name__}: {exc}"
    return result


@dataclass(frozen=True, slots=True)
class Burst:
    """The results of a burst and how long it took, from the first send to the last byte."""

    results: list[ShotResult]
    started: float
    """``time.monotonic()`` just before the first request."""
    elapsed_s: float


async def fire_burst(shots: list[Shot], *, timeout_s: float) -> Burst:
    """Send every shot at once (one connection each) and wait for all, bounded by ``timeout_s`` in total."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        async with asyncio.timeout(timeout_s):
            results = await asyncio.gather(*(_fire(session, shot) for shot in shots))
        elapsed = time.monotonic() - started
    return Burst(list(results), started, elapsed)
