"""Meta-test of the error hierarchy: every class is complete and distinguishable."""

from __future__ import annotations

import proxy.errors as errors_module
from proxy.errors import GatewayError, RateLimitError, UpstreamStatusError


def all_subclasses(cls: type[GatewayError]) -> list[type[GatewayError]]:
    out: list[type[GatewayError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(all_subclasses(sub))
    return out


def test_every_error_has_status_type_unique_code_and_docstring() -> None:
    classes: list[type[GatewayError]] = [GatewayError, *all_subclasses(GatewayError)]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes)), "error codes must be unique"
    for cls in classes:
        assert 400 <= cls.status <= 599, cls
        assert cls.type, cls
        assert cls.__doc__, cls
        assert cls.__doc__.strip(), cls
        assert cls.__name__.endswith("Error"), cls
        assert cls.__name__ in errors_module.__all__, cls
        assert cls.__name__ in (errors_module.__doc__ or ""), f"{cls.__name__} missing from the docstring tree"


def test_instances_carry_code_retry_after_and_headers() -> None:
    error = RateLimitError("slow down", retry_after=2.5, headers={"x-ratelimit-limit-requests": "10"})
    assert error.error_code == "rate_limit_exceeded"
    assert error.retry_after == 2.5
    assert error.headers == {"x-ratelimit-limit-requests": "10"}
    assert UpstreamStatusError("x", upstream_status=503).upstream_status == 503
    assert GatewayError("m", code="custom").error_code == "custom"
