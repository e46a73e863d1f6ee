"""The injection screen: normalise, match rules, ask the classifier, combine into one score.

``InjectionScreen`` is built once from an ``InjectionPolicy``, a rule set and (optionally) the
classifier, and is immutable; ``scan(text, vector)`` is pure and O(len(text)).

Scoring. Every enforced rule that hits contributes its weight, the classifier contributes its
calibrated score, and the contributions combine by noisy-OR: ``1 - prod(1 - s_i)``. One
strong rule (0.9) crosses the default threshold (0.8) alone; a weak rule (0.35) needs the
classifier's support (0.5 at its operating point gives 0.68, 0.7 gives 0.8). Rules in
``observe`` mode are reported but do not count; ``block`` / ``neutralize`` rules force that
action whenever they hit. Allowlisted phrases are cut out of the normalised text first.

Signals are the obfuscation tricks the normaliser undid, plus, on the indirect vector only,
``offtopic_task`` (``guards.injection.offtopic``: a lone request line sharing no content word
with the rest of the document); rules weigh them through ``signals:`` in the rules file.

Short user messages (fewer than ``SHORT_WORDS`` words) with no rule hit get at most
``SHORT_CAP`` from the classifier: below the default threshold on its own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

import msgspec

from guards.injection import offtopic
from guards.injection.prefilter import TextIndex
from guards.injection.rules import RuleIndex, compile_rules
from guards.text import fold, normalize

if TYPE_CHECKING:
    from guards.injection.classifier import InjectionClassifier
    from schemas.injection_rules import InjectionRuleSet
    from schemas.input_guard_config import InjectionPolicy

__all__ = ["CLASSIFIER_RULE_ID", "SHORT_CAP", "SHORT_WORDS", "InjectionScreen", "ScreenResult"]

CLASSIFIER_RULE_ID = "classifier"
"""Pseudo rule id reported when the classifier's score alone is at least 0.5."""
SHORT_WORDS = 5
"""A user message with fewer words than this (``\\w+`` runs) is *short*: see ``SHORT_CAP``."""
SHORT_CAP = 0.5
"""The classifier's score on a short user message with no rule hit is capped here, so that
"tell me something" is never flagged on n-gram statistics alone; any rule hit lifts the cap."""

ForcedAction = Literal["block", "neutralize"]


class ScreenResult(msgspec.Struct, frozen=True, kw_only=True):
    """What the screen found in one text."""

    score: float
    """Combined score in [0, 1]."""
    flagged: bool
    """``score >= threshold`` or a rule with a forced action hit."""
    rule_ids: tuple[str, ...] = ()
    """Enforced rules that hit (plus ``classifier`` when it scored >= 0.5)."""
    categories: tuple[str, ...] = ()
    observed_rule_ids: tuple[str, ...] = ()
    """Rules in observe mode that hit: recorded, not counted."""
    forced_action: ForcedAction | None = None
    classifier_score: float | None = None
    signals: tuple[str, ...] = ()


class InjectionScreen:
    """Immutable screen built from a policy, rules and an optional classifier."""

    __slots__ = ("_allowlist", "_classifier", "_index", "_rules", "_threshold")

    def __init__(
        self, policy: InjectionPolicy, ruleset: InjectionRuleSet, classifier: InjectionClassifier | None
    ) -> None:
        """Compile the rules with the policy's per-rule overrides.

        Raises:
            guards.injection.rules.RulesError: ``rule_actions`` names an unknown rule.
        """
        self._rules = compile_rules(ruleset, policy.rule_actions)
        # which rules can hit, looked up from a text's words (``RuleIndex``): same hits, same order
        self._index = RuleIndex(self._rules)
        self._classifier = classifier if policy.classifier else None
        self._threshold = policy.threshold
        phrases = sorted({fold(p) for p in policy.allowlist if fold(p)}, key=len, reverse=True)
        self._allowlist = re.compile("|".join(re.escape(p) for p in phrases)) if phrases else None

    @property
    def threshold(self) -> float:
        """The score at which a text is flagged."""
        return self._threshold

    def scan(self, text: str, vector: Literal["direct", "indirect"] = "direct") -> ScreenResult:
        """Score one text.

        Args:
            text: The raw text (a user message, a tool result, a document).
            vector: ``direct`` for the user's own content, ``indirect`` for untrusted content.

        Returns:
            The combined score and the evidence behind it.
        """
        normalized = normalize(text)
        view = normalized.text
        if self._allowlist is not None:
            view = self._allowlist.sub(" ", view)
        keep = 1.0
        hit_ids: list[str] = []
        observed: list[str] = []
        categories: list[str] = []
        forced: ForcedAction | None = None
        index = TextIndex(view)
        signals = normalized.signals
        if vector == "indirect" and offtopic.offtopic_task(view):
            # a document-level signal, so only untrusted content is judged this way
            signals = signals | {offtopic.SIGNAL}
        rules = self._rules
        for position in self._index.hits(vector, signals, index):
            rule = rules[position]
            if rule.action == "observe":
                observed.append(rule.id)
                continue
            hit_ids.append(rule.id)
            if rule.category not in categories:
                categories.append(rule.category)
            keep *= 1.0 - rule.weight
            if rule.action == "block" or (rule.action == "neutralize" and forced is None):
                forced = rule.action
        clf_score: float | None = None
        if self._classifier is not None and view.strip():
            clf_score = self._classifier.score(view, vector)
            if vector == "direct" and not hit_ids and sum(index.counts.values()) < SHORT_WORDS:
                # a few words are too little evidence for n-gram statistics alone
                clf_score = min(clf_score, SHORT_CAP)
            keep *= 1.0 - clf_score
            if clf_score >= 0.5:
                hit_ids.append(CLASSIFIER_RULE_ID)
        score = 1.0 - keep
        return ScreenResult(
            score=score,
            flagged=forced is not None or score >= self._threshold,
            rule_ids=tuple(hit_ids),
            categories=tuple(categories),
            observed_rule_ids=tuple(observed),
            forced_action=forced,
            classifier_score=clf_score,
            signals=tuple(sorted(signals)),
        )
