"""``POST /v1/chat/completions`` and ``GET /v1/models``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.response import Stream

from proxy.auth import Principal, presented_key
from proxy.pipeline.chat import handle_chat
from proxy.routes.deps import Gateway
from schemas.chat import ModelList, ModelObject

__all__ = ["authenticate", "chat_completions", "list_models"]

_encoder = msgspec.json.Encoder()
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def authenticate(request: Request[Any, Any, Any], gateway: Gateway) -> Principal:
    """Resolve the caller's key (raises ``AuthenticationError``)."""
    headers = request.headers
    return await gateway.auth.authenticate(presented_key(headers.get("authorization"), headers.get("x-api-key")))


def request_id(request: Request[Any, Any, Any]) -> str:
    """The id the request-id middleware stored."""
    return str(request.scope.get("state", {}).get("request_id", ""))


@post("/v1/chat/completions", status_code=200)
async def chat_completions(request: Request[Any, Any, Any], gateway: Gateway) -> Response[Any]:
    """OpenAI-compatible chat completions, streaming (SSE) or not."""
    telemetry = gateway.telemetry
    trace = telemetry.start(request_id(request), request.headers.get("traceparent"))
    try:
        with trace.phase("auth"):
            principal = await authenticate(request, gateway)
        trace.identify(principal.tenant.id, principal.key_id)
        body = await request.body()
        outcome = await handle_chat(
            gateway,
            principal,
            body,
            trace.request_id,
            cache_control=request.headers.get("cache-control"),
            trace=trace,
        )
    except BaseException as exc:
        telemetry.fail(trace, exc)
        raise
    if outcome.stream is not None:
        return Stream(outcome.stream, media_type="text/event-stream", headers=outcome.headers | _SSE_HEADERS)
    telemetry.finish(trace)
    return Response(outcome.body, media_type=MediaType.JSON, headers=outcome.headers)


@get("/v1/models")
async def list_models(request: Request[Any, Any, Any], gateway: Gateway) -> Response[bytes]:
    """The model aliases the caller's key may use."""
    principal = await authenticate(request, gateway)
    models = [ModelObject(id=alias) for alias in gateway.routes.aliases if principal.may_use(alias)]
    return Response(_encoder.encode(ModelList(data=models)), media_type=MediaType.JSON)
