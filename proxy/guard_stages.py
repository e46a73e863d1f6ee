"""Adapters from the pure guard layers to the request path's stage protocols (``proxy.state``).

Built once per config: one input stage and one output stage per guard policy, and the
structured-output stage (one schema cache per process).

A policy with ``workers: {mode: process}`` gets a ``PooledFilter`` per choice, which runs its
chain in the app's worker pool (``proxy.guard_workers``); the chain is then never built in the gateway
process (no Presidio there). Without a pool (``build_stages`` called without ``workers``) it
runs inline, with a warning: the output is the same, only the event loop does the work.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING

from guards.output import OutputChain, StreamContext
from guards.output.pii_ner import NerModelError, ensure_installed
from guards.structured import SchemaCache, SpecError, StructuredSpec
from proxy.errors import InvalidRequestError
from proxy.guard_workers import PooledFilter, policy_key
from proxy.input_guards import InputGuardsError, build_input_stages
from proxy.state import PreparedInput
from schemas.chat import ChatMessage, message_text

if TYPE_CHECKING:
    from pathlib import Path

    from guards.structured import JsonStreamChecker
    from proxy.guard_workers import GuardWorkers
    from proxy.pipeline.plan import FilterLike
    from proxy.state import InputStage, OutputStage
    from schemas.chat import ChatCompletionRequest
    from schemas.config import GatewayConfig
    from schemas.output_guard_config import OutputPolicy

__all__ = ["OutputGuards", "StructuredOutputs", "build_stages"]

_log = logging.getLogger("gateway.guards")
_CANARY_TTL_S = 600.0
"""How long one canary serves a guard policy before a new random one replaces it."""


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

    def __init__(self, policy: OutputPolicy, workers: GuardWorkers | None = None) -> None:
        self._policy = policy
        self._canary = policy.leak is not None and policy.leak.canary
        self._active = any(s is not None for s in (policy.pii, policy.secrets, policy.leak, policy.exfil))
        pooled = policy.workers.mode == "process" and self._active
        if pooled and workers is None:
            _log.warning("output guards in process mode without a worker pool: running them inline")
        self._workers = workers if pooled else None
        self._key = policy_key(policy) if self._workers is not None else b""
        self._chain = OutputChain.from_config(policy) if self._workers is None else None
        if self._chain is None and policy.pii is not None and policy.pii.ner is not None:
            ensure_installed(policy.pii.ner)  # the workers load it; a missing model must fail startup here
        self._canary_token = ""
        self._canary_born = -_CANARY_TTL_S

    @property
    def active(self) -> bool:
        """False when the policy has no output guard."""
        return self._active

    def plant(self, prepared: PreparedInput) -> PreparedInput:
        """Add the canary to the system prompt, so a verbatim leak of it is certain to be seen.

        The canary is an HTML comment: models ignore it as an instruction, and it never leaves
        the gateway except inside a leak (which the leak guard then catches). It is random, one
        per guard policy and process, and replaced every ``_CANARY_TTL_S``: the leak guard compiles
        a pattern for every disguise of it (about 10 ms), which a fresh canary per request would
        pay on every request's time to first token. Reusing it costs no detection: a canary is
        only ever seen by a client inside a leak, and a leak is withheld.
        """
        messages = prepared.messages
        index = next((i for i, m in enumerate(messages) if m.role in ("system", "developer")), None)
        if not self._canary or index is None:
            return prepared
        now = time.monotonic()
        if now - self._canary_born >= _CANARY_TTL_S:
            self._canary_token, self._canary_born = "gw-canary-" + secrets.token_hex(8), now
        token = self._canary_token
        system = messages[index]
        planted = ChatMessage(role=system.role, content=message_text(system) + f"\n<!-- {token} -->", name=system.name)
        return PreparedInput(
            messages=[*messages[:index], planted, *messages[index + 1 :]],
            system_prompt=prepared.system_prompt,
            canaries=(*prepared.canaries, token),
            findings=prepared.findings,
        )

    def new_filter(self, prepared: PreparedInput) -> FilterLike:
        """A filter for one choice of one stream."""
        ctx = StreamContext(system_prompt=prepared.system_prompt, canaries=prepared.canaries)
        if self._workers is not None:
            return PooledFilter(self._workers, self._key, self._policy.workers, ctx)
        assert self._chain is not None
        return self._chain.new_filter(ctx)


def build_stages(
    config: GatewayConfig, base_dir: Path | None = None, *, workers: GuardWorkers | None = None
) -> tuple[dict[str, InputStage], dict[str, OutputStage], StructuredOutputs]:
    """Build the guard stages of every guard policy (``base_dir``: where ``rules_file`` paths start).

    ``workers`` is the app's guard worker pool, for policies in process mode.

    Raises:
        InputGuardsError: a policy's rules file cannot be read or is invalid, or its NER model is missing.
    """
    inputs: dict[str, InputStage] = dict(build_input_stages(config, base_dir))
    outputs: dict[str, OutputStage] = {}
    for name, policy in config.guard_policies.items():
        try:
            outputs[name] = OutputGuards(policy.output, workers)
        except NerModelError as exc:
            raise InputGuardsError(f"guard_policies.{name}.output.{exc}") from exc
    return inputs, outputs, StructuredOutputs()
