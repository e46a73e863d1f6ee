"""Build an ``InputGuard`` from config: rules (shipped default unless given) + classifier + policy.

Loading a custom rules file (``InjectionPolicy.rules_file``) is I/O and belongs to the proxy:
it reads the bytes, calls ``guards.injection.rules.load_rules`` and passes the rule set in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guards.injection.classifier import InjectionClassifier
from guards.injection.rules import default_rules_bytes, load_rules
from guards.injection.screen import InjectionScreen
from guards.input.policy import InputGuard

if TYPE_CHECKING:
    from guards.input.screen_memo import ScreenMemo
    from schemas.injection_rules import InjectionRuleSet
    from schemas.input_guard_config import InputPolicy

__all__ = ["build_input_guard"]


def build_input_guard(
    policy: InputPolicy,
    *,
    rules: InjectionRuleSet | None = None,
    classifier: InjectionClassifier | None = None,
    memo: ScreenMemo | None = None,
) -> InputGuard:
    """Return the guard for one policy.

    Args:
        policy: The ``input`` section of a guard policy.
        rules: A validated rule set; ``None`` uses the shipped ``default_rules.yaml``.
        classifier: A loaded classifier; ``None`` loads the shipped weights when the policy wants one.
        memo: The screen-result memo (``None``: a fresh default one; ``ScreenMemo(max_entries=0)``
            screens every text every time, as a measurement wants).

    Raises:
        guards.injection.rules.RulesError: The rules are invalid or ``rule_actions`` names an unknown rule.
    """
    if not policy.injection.enabled:
        return InputGuard(policy, None)
    ruleset = rules if rules is not None else load_rules(default_rules_bytes(), source="default_rules.yaml")
    if classifier is None and policy.injection.classifier:
        classifier = InjectionClassifier.load_default()
    return InputGuard(policy, InjectionScreen(policy.injection, ruleset, classifier), memo)
