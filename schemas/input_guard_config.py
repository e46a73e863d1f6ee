"""Config of the request-side guards: ``guard_policies.<name>.input`` (DESIGN.md §5 and §9).

```yaml
input:
  injection:
    action: block            # block | neutralize | observe
    threshold: 0.8           # combined score 0..1 at which the action applies
    rule_actions: {jailbreak.hypothetical_frame: observe}
    allowlist: ["ignore the previous email in this thread"]
    rules_file: null         # null: the shipped guards/injection/default_rules.yaml
  system_role: reject        # reject (403) | demote (to user content) | allow
  spotlight: delimit         # delimit | datamark | off
  templates:
    support:
      system: "You are the support assistant of ACME. Answer politely."
      variables: [customer_name, question]
```

Every field has a default, so ``input: {}`` is the shipped default policy (screen on, block
at 0.8, system role reserved, tool results and documents delimited).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import ConfigStruct
from schemas.injection_rules import RuleAction

__all__ = [
    "InjectionAction",
    "InjectionPolicy",
    "InputPolicy",
    "PromptTemplate",
    "SpotlightMode",
    "SystemRolePolicy",
]

InjectionAction = Literal["block", "neutralize", "observe"]
SystemRolePolicy = Literal["reject", "demote", "allow"]
SpotlightMode = Literal["delimit", "datamark", "off"]

VariableName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


class InjectionPolicy(ConfigStruct, kw_only=True):
    """How the injection screen's score turns into an action."""

    enabled: bool = True
    """``false`` turns the screen off (role policy, templates and spotlighting still apply)."""
    action: InjectionAction = "block"
    threshold: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.8
    rule_actions: dict[str, RuleAction] = {}
    """Per-rule override of the rules file's ``action``, keyed by rule id."""
    allowlist: tuple[Annotated[str, msgspec.Meta(min_length=3)], ...] = ()
    """Known-good phrases, removed (case-insensitively, after normalisation) before screening."""
    classifier: bool = True
    """Use the shipped trained classifier next to the rules."""
    rules_file: str | None = None
    """Path of a rules YAML; ``None`` uses the shipped default rules."""


class PromptTemplate(ConfigStruct, kw_only=True):
    """A named prompt held by the gateway: its system prompt never contains caller text."""

    system: Annotated[str, msgspec.Meta(min_length=1)]
    variables: tuple[VariableName, ...] = ()
    """Declared variables; each invocation must supply exactly these."""


class InputPolicy(ConfigStruct, kw_only=True):
    """The request-side guard policy of one ``guard_policies`` entry."""

    injection: InjectionPolicy = InjectionPolicy()
    system_role: SystemRolePolicy = "reject"
    spotlight: SpotlightMode = "delimit"
    templates: dict[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")], PromptTemplate] = {}
