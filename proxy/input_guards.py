"""The input stage: the pure input policy (``guards.input``) applied to live requests.

Per request it draws the spotlight token from ``secrets``, tells the policy whether the key
holds the ``system`` scope, maps verdicts to errors (``block`` -> 400
``prompt_injection_detected`` with the rule ids, ``forbidden`` -> 403, ``invalid`` -> 400)
and writes one JSON audit line for every block and neutralize (tenant, key id, rule ids,
score, request id; never the prompt text unless the policy's ``audit_prompts`` is on).

Rules files are I/O, so they are read here: ``rules_file`` is relative to the config file.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

import msgspec

from guards.injection.classifier import InjectionClassifier
from guards.injection.rules import RulesError, load_rules
from guards.input.build import build_input_guard
from proxy.errors import InvalidRequestError, PermissionDeniedError, PromptInjectionError
from proxy.state import PreparedInput
from schemas.chat import message_text

if TYPE_CHECKING:
    from pathlib import Path

    from guards.input.policy import InputGuard, InputResult
    from proxy.auth import Principal
    from schemas.chat import ChatCompletionRequest
    from schemas.config import GatewayConfig

__all__ = ["InputGuards", "InputGuardsError", "build_input_stages"]

_audit = logging.getLogger("gateway.audit")
_encoder = msgspec.json.Encoder()


class InputGuardsError(Exception):
    """A guard policy cannot be built (unreadable or invalid rules file)."""


class InputGuards:
    """The input stage of one guard policy."""

    def __init__(self, name: str, guard: InputGuard) -> None:
        self.name = name
        self._guard = guard

    def prepare(self, principal: Principal, request: ChatCompletionRequest, request_id: str) -> PreparedInput:
        """Apply the policy; return the messages to send or raise the mapped error."""
        result = self._guard.apply(
            request.messages,
            token=secrets.token_hex(8),
            system_scope=principal.has_scope("system"),
            documents=request.documents,
            template=request.template,
            memo_scope=principal.tenant.id,
        )
        verdict = result.verdict
        if verdict in ("block", "neutralize"):
            self._audit(principal, result, request_id)
        if verdict == "block":
            raise PromptInjectionError(result.error or "prompt injection detected", param="messages")
        if verdict == "forbidden":
            raise PermissionDeniedError(result.error or "this API key may not send system messages")
        if verdict == "invalid":
            raise InvalidRequestError(result.error or "invalid template invocation", param="template")
        messages = list(result.messages)
        system = [message_text(m) for m in messages if m.role in ("system", "developer")]
        return PreparedInput(
            messages=messages,
            system_prompt="\n".join(system) if system else None,
            findings=result.rule_ids,
        )

    def _audit(self, principal: Principal, result: InputResult, request_id: str) -> None:
        record = {
            "event": "guard.input",
            "verdict": result.verdict,
            "policy": self.name,
            "tenant": principal.tenant.id,
            "key_id": principal.key_id,
            "rule_ids": list(result.rule_ids),
            "score": round(result.score, 4),
            "request_id": request_id,
            "findings": [
                {"location": f.location, "vector": f.vector, "action": f.action, "score": round(f.score, 4)}
                for f in result.findings
                if f.action != "none"
            ],
        }
        _audit.warning(_encoder.encode(record).decode())


def build_input_stages(config: GatewayConfig, base_dir: Path | None) -> dict[str, InputGuards]:
    """One input stage per guard policy; the classifier weights are loaded once and shared.

    Raises:
        InputGuardsError: a ``rules_file`` cannot be read or is invalid (the message says where).
    """
    classifier: InjectionClassifier | None = None
    if any(p.input.injection.enabled and p.input.injection.classifier for p in config.guard_policies.values()):
        classifier = InjectionClassifier.load_default()
    stages: dict[str, InputGuards] = {}
    for name, policy in config.guard_policies.items():
        rules = None
        rules_file = policy.input.injection.rules_file
        if rules_file is not None:
            path = (base_dir / rules_file) if base_dir is not None else None
            if path is None:
                raise InputGuardsError(f"guard_policies.{name}: rules_file needs a config file location")
            try:
                rules = load_rules(path.read_bytes(), source=str(path))
            except OSError as exc:
                raise InputGuardsError(f"guard_policies.{name}: cannot read {path}: {exc.strerror}") from exc
            except RulesError as exc:
                raise InputGuardsError(f"guard_policies.{name}: {exc}") from exc
        try:
            guard = build_input_guard(policy.input, rules=rules, classifier=classifier)
        except RulesError as exc:
            raise InputGuardsError(f"guard_policies.{name}: {exc}") from exc
        stages[name] = InputGuards(name, guard)
    return stages
