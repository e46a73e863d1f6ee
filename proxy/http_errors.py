"""Rendering errors as OpenAI error envelopes: one place, every path.

``GatewayError`` subclasses carry their status, type and code. Litestar's own exceptions
(unknown route, wrong method, body over ``request_max_body_size``) are mapped onto the
same envelope, and anything unexpected becomes a generic 500 whose details go to the log
with the request id, never to the client.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import MediaType, Response

from schemas.errors import ErrorBody, ErrorResponse

if TYPE_CHECKING:
    from litestar import Request
    from litestar.exceptions import HTTPException

    from proxy.errors import GatewayError

__all__ = ["error_response", "handle_gateway_error", "handle_http_exception", "handle_unexpected"]

_log = logging.getLogger("gateway.errors")
_encoder = msgspec.json.Encoder()
_HTTP_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "insufficient_scope"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "request_too_large"),
    415: ("invalid_request_error", "unsupported_media_type"),
}


def error_response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[bytes]:
    """An OpenAI error envelope response."""
    return Response(
        _encoder.encode(ErrorResponse(error=body)),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers or {},
    )


def gateway_error_response(error: GatewayError) -> Response[bytes]:
    """Render a ``GatewayError`` with its Retry-After and extra headers."""
    headers = dict(error.headers)
    if error.retry_after is not None:
        headers["retry-after"] = str(max(1, round(error.retry_after)))
    body = ErrorBody(message=error.message, type=error.type, param=error.param, code=error.error_code)
    return error_response(error.status, body, headers)


def handle_gateway_error(request: Request[Any, Any, Any], exc: GatewayError) -> Response[bytes]:
    """Litestar exception handler for the gateway's own errors."""
    if exc.status >= 500:
        _log.warning("request %s failed: %s (%s)", _request_id(request), exc.error_code, exc.message)
    return gateway_error_response(exc)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Litestar's routing and size exceptions, in the OpenAI envelope."""
    status = exc.status_code
    error_type, code = _HTTP_TYPES.get(status, ("server_error", "internal_error"))
    if status == 413:
        message = "the request body is larger than the gateway accepts"
    elif status == 404:
        message = f"unknown path {request.url.path}"
    elif status >= 500:
        return handle_unexpected(request, exc)
    else:
        message = str(exc.detail)
    return error_response(status, ErrorBody(message=message, type=error_type, code=code))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Anything else: log the details with the request id, tell the client only that it failed."""
    request_id = _request_id(request)
    _log.error("unexpected error in request %s", request_id, exc_info=exc)
    body = ErrorBody(
        message=f"the gateway failed to process the request (request id {request_id})",
        type="server_error",
        code="internal_error",
    )
    return error_response(500, body)


def _request_id(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))
