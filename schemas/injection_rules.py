"""The injection rules file: the YAML that security teams edit (``guards/injection/default_rules.yaml``).

Each rule is a set of regular expressions, matched case-insensitively against the
*normalised* text (NFKC, zero-width/bidi stripped, homoglyphs and leetspeak folded, embedded
base64/hex/rot13 decoded; see ``guards/text.py``), with a weight in (0, 1]. Weights of the
rules that hit are combined with the classifier's score by noisy-OR, so one strong rule or
several weak ones can cross the threshold.

A rule can ship in ``observe`` mode (``action: observe``): its hits are recorded but do not
count, which is how a new rule is trialled before it is enforced. ``block`` / ``neutralize``
force that action whenever the rule hits, whatever the score. A tenant policy can override
any rule's action by id (``InjectionPolicy.rule_actions``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.base import ConfigStruct

__all__ = ["InjectionRule", "InjectionRuleSet", "RuleAction", "RuleCategory", "RuleVector", "Signal"]

RuleCategory = Literal["override", "exfiltration", "role_swap", "prompt_extraction", "obfuscation", "jailbreak"]
RuleAction = Literal["inherit", "block", "neutralize", "observe", "off"]
RuleVector = Literal["direct", "indirect"]
Signal = Literal[
    "zero_width", "bidi", "tag_chars", "homoglyph", "leet", "spaced", "base64", "hex", "rot13", "offtopic_task"
]
"""Obfuscation tricks the normaliser undid, and ``offtopic_task`` (``guards.injection.offtopic``, indirect only)."""

RuleId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Weight = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]


class InjectionRule(ConfigStruct, kw_only=True):
    """One weighted signature."""

    id: RuleId
    """Stable id, reported in block errors and audit lines (``override.ignore_previous``)."""
    category: RuleCategory
    weight: Weight
    patterns: tuple[str, ...] = ()
    """Regular expressions over the normalised, lower-cased text; any match is a hit."""
    signals: tuple[Signal, ...] = ()
    """Obfuscation tricks undone by the normaliser; any of them present is a hit."""
    description: str = ""
    action: RuleAction = "inherit"
    """``inherit``: count toward the score; ``observe``: record only; ``block``/``neutralize``: force it."""
    vectors: tuple[RuleVector, ...] = ("direct", "indirect")
    """Where the rule applies: the user's own message, untrusted documents / tool results, or both."""


class InjectionRuleSet(ConfigStruct, kw_only=True):
    """A whole rules file."""

    version: Literal[1] = 1
    rules: tuple[InjectionRule, ...] = ()
