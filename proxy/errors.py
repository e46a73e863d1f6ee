"""The gateway's one error hierarchy.

Every error the gateway reports to a client is a ``GatewayError`` subclass. Status, OpenAI
error ``type`` and default ``code`` are class attributes, so the mapping cannot be
forgotten; one Litestar handler renders them as the OpenAI error envelope (before the first
byte) and the stream relay renders them as one SSE error event (after it).

```
GatewayError                        500 server_error / internal_error
├── InvalidRequestError             400 invalid_request_error / invalid_request
│   ├── ContentBlockedError         400 invalid_request_error / content_blocked
│   │   └── PromptInjectionError    400 invalid_request_error / prompt_injection_detected
│   ├── PayloadTooLargeError        413 invalid_request_error / request_too_large
│   └── ModelNotFoundError          404 invalid_request_error / model_not_found
├── AuthenticationError             401 authentication_error / invalid_api_key
├── PermissionDeniedError           403 permission_error / insufficient_scope
├── RateLimitError                  429 rate_limit_error / rate_limit_exceeded
│   ├── BudgetExceededError         429 insufficient_quota / budget_exceeded
│   └── ConcurrencyLimitError       429 rate_limit_error / concurrency_limit_exceeded
├── ServiceUnavailableError         503 service_unavailable / store_unavailable
│   └── GuardUnavailableError       503 service_unavailable / guard_unavailable
└── UpstreamError                   502 upstream_error / upstream_error
    ├── UpstreamTimeoutError        504 upstream_error / upstream_timeout
    ├── UpstreamUnavailableError    503 upstream_error / upstream_unavailable
    ├── UpstreamRateLimitError      429 rate_limit_error / upstream_rate_limited
    ├── UpstreamProtocolError       502 upstream_error / upstream_protocol_error
    ├── UpstreamStatusError         502 upstream_error / upstream_status
    ├── StreamInterruptedError      502 upstream_error / stream_interrupted
    └── InvalidStructuredOutputError 502 upstream_error / invalid_structured_output
```

Messages are written for the client: they never carry a provider key, a stack trace or
raw upstream bodies. ``retry_after`` (seconds) becomes a ``Retry-After`` header and
``headers`` carries extra response headers such as ``x-ratelimit-*``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "BudgetExceededError",
    "ConcurrencyLimitError",
    "ContentBlockedError",
    "GatewayError",
    "GuardUnavailableError",
    "InvalidRequestError",
    "InvalidStructuredOutputError",
    "ModelNotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PromptInjectionError",
    "RateLimitError",
    "ServiceUnavailableError",
    "StreamInterruptedError",
    "UpstreamError",
    "UpstreamProtocolError",
    "UpstreamRateLimitError",
    "UpstreamStatusError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
]


class GatewayError(Exception):
    """Base of every error reported to a client; never raised directly."""

    status: ClassVar[int] = 500
    """HTTP status before the first byte."""
    type: ClassVar[str] = "server_error"
    """OpenAI error ``type``."""
    code: ClassVar[str] = "internal_error"
    """Default OpenAI error ``code``; instances may refine it (``code=`` argument)."""
    retryable: ClassVar[bool] = False
    """Whether routing may retry or fall back after this error (before the first byte)."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.error_code = code or self.code
        self.retry_after = retry_after
        self.headers = headers or {}


class InvalidRequestError(GatewayError):
    """The request is malformed: bad JSON, a wrong type, a missing or unknown field."""

    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class ContentBlockedError(InvalidRequestError):
    """A request-side guard blocked the content."""

    code = "content_blocked"


class PromptInjectionError(ContentBlockedError):
    """The injection screen scored the request over the tenant's block threshold."""

    code = "prompt_injection_detected"


class PayloadTooLargeError(InvalidRequestError):
    """The request body is larger than ``server.max_body_bytes``."""

    status = 413
    code = "request_too_large"


class ModelNotFoundError(InvalidRequestError):
    """The model alias is unknown, or the key may not use it."""

    status = 404
    code = "model_not_found"


class AuthenticationError(GatewayError):
    """The API key is missing, unknown or revoked."""

    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDeniedError(GatewayError):
    """The key is valid but lacks the scope this request needs."""

    status = 403
    type = "permission_error"
    code = "insufficient_scope"


class RateLimitError(GatewayError):
    """A request or token bucket of the tenant or key is empty."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class BudgetExceededError(RateLimitError):
    """The tenant's spend cap for the current window cannot afford this request."""

    type = "insufficient_quota"
    code = "budget_exceeded"


class ConcurrencyLimitError(RateLimitError):
    """The tenant already has its maximum number of concurrent streams open."""

    code = "concurrency_limit_exceeded"


class ServiceUnavailableError(GatewayError):
    """A dependency the gateway needs (the shared store) is unreachable and the limit fails closed."""

    status = 503
    type = "service_unavailable"
    code = "store_unavailable"


class GuardUnavailableError(ServiceUnavailableError):
    """An output guard worker timed out or crashed and the policy fails closed (``proxy.guard_workers``)."""

    code = "guard_unavailable"


class UpstreamError(GatewayError):
    """The provider failed in a way the client cannot fix."""

    status = 502
    type = "upstream_error"
    code = "upstream_error"
    retryable = True


class UpstreamTimeoutError(UpstreamError):
    """The provider did not connect, answer or send the next chunk in time."""

    status = 504
    code = "upstream_timeout"


class UpstreamUnavailableError(UpstreamError):
    """The provider could not be reached, or its circuit is open."""

    status = 503
    code = "upstream_unavailable"


class UpstreamRateLimitError(UpstreamError):
    """The provider answered 429; ``retry_after`` carries its Retry-After."""

    status = 429
    type = "rate_limit_error"
    code = "upstream_rate_limited"


class UpstreamProtocolError(UpstreamError):
    """The provider sent malformed SSE or JSON, or the wrong content type."""

    code = "upstream_protocol_error"


class UpstreamStatusError(UpstreamError):
    """The provider answered with an error status the client did not cause."""

    code = "upstream_status"

    def __init__(self, message: str, *, upstream_status: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.upstream_status = upstream_status
        """The provider's status: 5xx may be retried on the same deployment, 4xx only falls back."""


class StreamInterruptedError(UpstreamError):
    """The provider's stream broke after content had reached the client."""

    code = "stream_interrupted"
    retryable = False


class InvalidStructuredOutputError(UpstreamError):
    """The generation did not match the requested JSON Schema, even after repair."""

    code = "invalid_structured_output"
