"""``POST /v1/chat/completions`` and ``GET /v1/models``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get

from proxy.auth import Principal, presented_key
from proxy.routes.deps import Gateway
from schemas.chat import ModelList, ModelObject

__all__ = ["authenticate", "list_models", "request_id"]

_encoder = msgspec.json.Encoder()
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def authenticate(request: Request[Any, Any, Any], gateway: Gateway) -> Principal:
    """Resolve the caller's key (raises ``AuthenticationError``)."""
    headers = request.headers
    return await gateway.auth.authenticate(presented_key(headers.get("authorization"), headers.get("x-api-key")))


def request_id(request: Request[Any, Any, Any]) -> str:
    """The id the request-id middleware stored."""
    return str(request.scope.get("state", {}).get("request_id", ""))


@get("/v1/models")
async def list_models(request: Request[Any, Any, Any], gateway: Gateway) -> Response[bytes]:
    """The model aliases the caller's key may use."""
    principal = await authenticate(request, gateway)
    models = [ModelObject(id=alias) for alias in gateway.routes.aliases if principal.may_use(alias)]
    return Response(_encoder.encode(ModelList(data=models)), media_type=MediaType.JSON)
