"""Loading and compiling the injection rules file (pure: bytes in, rules or an error out).

``load_rules(data, source=...)`` decodes YAML into ``schemas.injection_rules.InjectionRuleSet``
and compiles every pattern; any problem raises ``RulesError`` whose message names the file
and the path inside it (``rules.yaml: $.rules[3].weight: Expected float >= ...`` or
``rules.yaml: rules[5] (override.x).patterns[1]: bad regex: ...``), which is what
``gateway check-config`` prints and what the reloader logs when it keeps the old rules.
Watching the file and reloading on SIGHUP is the proxy's job.

Each compiled pattern carries a literal prefilter (``guards.injection.prefilter``) so that
matching the whole rule set costs well under a millisecond per 2,000 characters; a rule's
result is exactly the result of searching its patterns.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING

import msgspec

from guards.injection.prefilter import Prefilter, TextIndex
from schemas.injection_rules import InjectionRuleSet

if TYPE_CHECKING:
    from schemas.injection_rules import InjectionRule, RuleAction, RuleCategory, RuleVector

__all__ = ["CompiledRule", "RulesError", "check_rules", "compile_rules", "default_rules_bytes", "load_rules"]


class RulesError(ValueError):
    """A rules file is invalid; the message names the file and the failing path."""


class CompiledRule:
    """One rule, ready to match: its patterns (each behind a literal prefilter) and the signals it reacts to.

    A pattern's regex runs only when the text has the words the pattern needs
    (``guards.injection.prefilter``), which keeps the whole rule set well under a millisecond
    on ordinary text; the result is the same as searching every pattern.
    """

    __slots__ = ("action", "category", "id", "patterns", "regex", "signals", "vectors", "weight")

    def __init__(self, rule: InjectionRule, regex: re.Pattern[str] | None, action: RuleAction) -> None:
        """Bind a validated rule to its compiled regex (the alternation of its patterns) and effective action."""
        self.id: str = rule.id
        self.category: RuleCategory = rule.category
        self.weight: float = rule.weight
        self.regex = regex
        self.patterns: tuple[tuple[Prefilter, re.Pattern[str]], ...] = tuple(
            (Prefilter.of(p), re.compile(p)) for p in rule.patterns
        )
        self.signals: frozenset[str] = frozenset(rule.signals)
        self.vectors: frozenset[RuleVector] = frozenset(rule.vectors)
        self.action: RuleAction = action

    def hits(self, text: str, signals: frozenset[str], index: TextIndex | None = None) -> bool:
        """Return whether the rule fires on a normalised text with these obfuscation signals.

        Args:
            text: The normalised text.
            signals: The obfuscation signals found while normalising.
            index: ``TextIndex(text)`` if the caller already has it (shared by all rules; built otherwise).
        """
        if self.signals and not self.signals.isdisjoint(signals):
            return True
        if not self.patterns:
            return False
        if index is None or index.text is not text:
            index = TextIndex(text)
        return any(pf.search(regex, index) for pf, regex in self.patterns)


def default_rules_bytes() -> bytes:
    """Return the shipped ``default_rules.yaml``."""
    return resources.files("guards.injection").joinpath("default_rules.yaml").read_bytes()


def load_rules(data: bytes, *, source: str = "<rules>") -> InjectionRuleSet:
    """Decode and fully validate a rules file (including every regex).

    Args:
        data: The YAML bytes.
        source: The file name to put in error messages.

    Raises:
        RulesError: The file is not valid YAML, does not match the schema, repeats a rule id,
            has a rule with neither patterns nor signals, or has a pattern that does not compile.
    """
    try:
        ruleset = msgspec.yaml.decode(data, type=InjectionRuleSet)
    except msgspec.ValidationError as exc:
        raise RulesError(f"{source}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from exc
    seen: set[str] = set()
    for index, rule in enumerate(ruleset.rules):
        where = f"{source}: rules[{index}] ({rule.id})"
        if rule.id in seen:
            raise RulesError(f"{where}: duplicate rule id")
        seen.add(rule.id)
        if not rule.patterns and not rule.signals:
            raise RulesError(f"{where}: a rule needs at least one pattern or signal")
        for number, pattern in enumerate(rule.patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise RulesError(f"{where}.patterns[{number}]: bad regex: {exc}") from exc
    return ruleset


def check_rules(data: bytes, *, source: str = "<rules>") -> str | None:
    """Return ``None`` when a rules file is valid, else the error message (for check-config)."""
    try:
        load_rules(data, source=source)
    except RulesError as exc:
        return str(exc)
    return None


def compile_rules(
    ruleset: InjectionRuleSet, overrides: dict[str, RuleAction] | None = None
) -> tuple[CompiledRule, ...]:
    """Compile a validated rule set, applying per-rule action overrides; ``off`` rules are dropped.

    Raises:
        RulesError: An override names a rule id that the rule set does not have.
    """
    overrides = overrides or {}
    known = {rule.id for rule in ruleset.rules}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise RulesError(f"rule_actions: unknown rule ids: {', '.join(unknown)}")
    compiled: list[CompiledRule] = []
    for rule in ruleset.rules:
        action = overrides.get(rule.id, rule.action)
        if action == "off":
            continue
        regex = re.compile("|".join(f"(?:{p})" for p in rule.patterns)) if rule.patterns else None
        compiled.append(CompiledRule(rule, regex, action))
    return tuple(compiled)
