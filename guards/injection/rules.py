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
from typing import TYPE_CHECKING, get_args

import msgspec

from guards.injection.prefilter import Prefilter, TextIndex
from schemas.injection_rules import InjectionRuleSet, RuleVector

if TYPE_CHECKING:
    from collections.abc import Sequence

    from schemas.injection_rules import InjectionRule, RuleAction, RuleCategory

__all__ = [
    "CompiledRule",
    "RuleIndex",
    "RulesError",
    "check_rules",
    "compile_rules",
    "default_rules_bytes",
    "load_rules",
]


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


class _VectorIndex:
    """The patterns of the rules that apply to one vector, keyed by the words they need."""

    __slots__ = ("always", "by_word", "entries", "keys", "signal_rules")

    def __init__(self, rules: Sequence[CompiledRule], vector: RuleVector) -> None:
        # entries are numbered in rule order, then pattern order: sorting ids restores that order
        self.entries: list[tuple[int, Prefilter, re.Pattern[str]]] = []
        always: list[int] = []
        by_word: dict[str, list[int]] = {}
        for position, rule in enumerate(rules):
            if vector not in rule.vectors:
                continue
            for prefilter, regex in rule.patterns:
                entry = len(self.entries)
                self.entries.append((position, prefilter, regex))
                words = prefilter.key_words()
                if words is None:
                    always.append(entry)
                for word in words or ():
                    by_word.setdefault(word, []).append(entry)
        self.always = tuple(always)
        self.by_word = {word: tuple(entries) for word, entries in by_word.items()}
        self.keys = frozenset(by_word)
        self.signal_rules = tuple((p, r.signals) for p, r in enumerate(rules) if r.signals and vector in r.vectors)


class RuleIndex:
    """Which rules of a compiled rule set hit a text, without asking the rules that cannot.

    Built once per rule set: each pattern is filed under the words of one of its prefilter
    clauses that only a shared word can meet (``Prefilter.key_words``); a pattern with no such
    clause is looked at for every text. ``hits`` looks up the text's words, runs the prefiltered
    search of only those patterns, and adds the rules whose signals are present: the same rules,
    in the same order, as asking ``CompiledRule.hits`` of every rule that applies to the vector
    (on a short message that is a dozen patterns instead of a hundred).
    """

    __slots__ = ("_vectors",)

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        """Index the rules (kept in the order given)."""
        self._vectors = {vector: _VectorIndex(rules, vector) for vector in get_args(RuleVector)}

    def hits(self, vector: RuleVector, signals: frozenset[str], index: TextIndex) -> list[int]:
        """Return the positions (ascending) of the rules for ``vector`` that hit the indexed text.

        Args:
            vector: ``direct`` or ``indirect``: rules not enabled for it never hit.
            signals: The obfuscation signals of the text.
            index: ``TextIndex`` of the normalised text.
        """
        table = self._vectors[vector]
        found: set[int] = set()
        if signals:
            found.update(p for p, wanted in table.signal_rules if not wanted.isdisjoint(signals))
        candidates = set(table.always)
        by_word = table.by_word
        for word in table.keys.intersection(index.words):
            candidates.update(by_word[word])
        entries = table.entries
        for entry in sorted(candidates):
            position, prefilter, regex = entries[entry]
            if position not in found and prefilter.search(regex, index):
                found.add(position)
        return sorted(found)


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
