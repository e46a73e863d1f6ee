"""Adapters from the pure guard layers to the request path's stage protocols (``proxy.state``).

Built once per config: one input stage and one output stage per guard policy, and the
structured-output stage (one schema cache per process).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from guards.output import OutputChain, StreamContext
from guards.structured import SchemaCache, SpecError, StructuredSpec
from proxy.errors import InvalidRequestError
from proxy.input_guards import build_input_stages
from proxy.state import PreparedInput
from schemas.chat import ChatMessage, message_text

if TYPE_CHECKING:
    from pathlib import Path

    from guards.output import OutputFilter
    from guards.structured import JsonStreamChecker
    from proxy.state import InputStage, OutputStage
    from schemas.chat import ChatCompletionRequest
    from schemas.config import GatewayConfig
    from schemas.output_guard_config import OutputPolicy

__all__ = ["OutputGuards", "StructuredOutputs", "build_stages"]


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


class OutputGuards:
    """The output guard chain of one guard policy, and the canary it plants in system prompts."""

    def __init__(self, policy: OutputPolicy) -> None:
        self._chain = OutputChain.from_config(policy)
        self._canary = policy.leak is not None and policy.leak.canary

    @property
    def active(self) -> bool:
        """False when the policy has no output guard."""
        return self._chain.active

    def plant(self, prepared: PreparedInput) -> PreparedInput:
        """Add a per-request canary to the system prompt, so a verbatim leak of it is certain to be seen.

        The canary is an HTML comment: models ignore it as an instruction, and it never leaves
        the gateway except inside a leak (which the leak guard then catches).
        """
        messages = prepared.messages
        index = next((i for i, m in enumerate(messages) if m.role in ("system", "developer")), None)
        if not self._canary or index is None:
            return prepared
        token = "gw-canary-" + secrets.token_hex(8)
        system = messages[index]
        planted = ChatMessage(role=system.role, content=message_text(system) + f"\n<!-- {token} -->", name=system.name)
        return PreparedInput(
            messages=[*messages[:index], planted, *messages[index + 1 :]],
            system_prompt=prepared.system_prompt,
            canaries=(*prepared.canaries, token),
            findings=prepared.findings,
        )

    def new_filter(self, prepared: PreparedInput) -> OutputFilter:
        """A filter for one choice of one stream."""
        return self._chain.new_filter(StreamContext(system_prompt=prepared.system_prompt, canaries=prepared.canaries))


def build_stages(
    config: GatewayConfig, base_dir: Path | None = None
) -> tuple[dict[str, InputStage], dict[str, OutputStage], StructuredOutputs]:
    """Build the guard stages of every guard policy (``base_dir``: where ``rules_file`` paths start).

    Raises:
        InputGuardsError: a policy's rules file cannot be read or is invalid.
    """
    inputs: dict[str, InputStage] = dict(build_input_stages(config, base_dir))
    outputs: dict[str, OutputStage] = {name: OutputGuards(p.output) for name, p in config.guard_policies.items()}
    return inputs, outputs, StructuredOutputs()
