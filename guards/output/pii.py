"""PII in model output: fast candidate patterns, then validation, with Presidio where it is good.

Presidio runs offline: an ``AnalyzerEngine`` with the ``NoOpNlpEngine`` (no spaCy model) and a
registry holding only pattern recognizers that never touch the network. Its ``EmailRecognizer``
and ``UrlRecognizer`` are left out on purpose: they validate with ``tldextract``, which tries to
download the public-suffix list. Presidio is slow (~0.1 ms per call), so it only ever sees a
candidate window that the compiled pre-filters in ``pii_patterns`` already isolated, never the
stream itself.

Who decides what, measured on the dev PII corpus (see ``tests/unit/guards/output/test_pii.py``):

* ``IBAN_CODE``, ``US_SSN``, ``IP_ADDRESS``: Presidio's recognizers confirm the candidate
  (IBAN checksum and country format, SSN invalid-number list, IPv4/IPv6 syntax).
* ``CREDIT_CARD``: our Luhn-validated pattern. Presidio's card regex misses 2-series
  Mastercard, 15-digit JCB and 12/19-digit cards (recall 54/69 on dev).
* ``PHONE_NUMBER``: our grouping rules. Presidio's ``phonenumbers`` matcher found 49/83 of
  the dev corpus's international formats.
* ``EMAIL_ADDRESS``, ``URL``: our patterns (no ``tldextract``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guards.output.base import Hit
from guards.output.pii_patterns import (
    EMAIL,
    EMAIL_START,
    EMAIL_TAIL,
    IBAN,
    IBAN_START,
    IBAN_TAIL,
    IPV6,
    IPV6_START,
    IPV6_TAIL,
    NUMBER,
    NUMBER_START,
    NUMBER_TAIL,
    URL,
    URL_START,
    URL_TAIL,
    NumberShape,
    classify_number,
    is_plausible_ipv6,
    trim_url,
)
from guards.output.rx import IGNORECASE, Match, Pattern, PatternRule, PatternScanner, compile_pattern

if TYPE_CHECKING:
    from guards.output.base import HitAction, StreamContext
    from schemas.output_guard_config import PIIConfig

__all__ = ["PIIDetector", "PresidioValidator", "placeholder_for"]

_VERBOSE = 64  # regex.VERBOSE
_PRESIDIO_ENTITIES = ("IBAN_CODE", "US_SSN", "IP_ADDRESS")
_PHONE_CUES_BEFORE = compile_pattern(
    r"(?:phone|tel|telephone|mobile|cell|call|fax|desk|office|contact|number|whatsapp|text me|reach me|ph)\W{0,4}\Z",
    IGNORECASE,
)
_PHONE_CUES_AFTER = compile_pattern(r"\W{0,2}(?:office|fax|mobile|home|work|cell|desk|tel)\b", IGNORECASE)
_CUE_WINDOW = 24
"""Characters before a number searched for a cue (within the window's guaranteed look-behind)."""


def placeholder_for(entity: str) -> str:
    """The typed placeholder shown instead of a redacted value."""
    return f"<{entity}>"


class PresidioValidator:
    """An offline Presidio ``AnalyzerEngine`` used to confirm single candidate windows."""

    __slots__ = ("_engine", "_min_score")

    def __init__(self, min_score: float) -> None:
        # Imported here: presidio pulls in spaCy (~1 s), and only a policy with PII needs it.
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            IbanRecognizer,
            IpRecognizer,
            UsSsnRecognizer,
        )

        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in (IbanRecognizer(), IpRecognizer(), UsSsnRecognizer()):
            registry.add_recognizer(recognizer)
        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
        self._engine: Any = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
        self._min_score = min_score

    def confirm(self, text: str, entity: str) -> tuple[int, int] | None:
        """The span (relative to ``text``) Presidio confirms for ``entity``, or ``None``."""
        results = self._engine.analyze(text=text, language="en", entities=[entity], score_threshold=self._min_score)
        if not results:
            return None
        best = max(results, key=lambda r: (r.score, r.end - r.start))
        return int(best.start), int(best.end)


def _phone_context(m: Match) -> bool:
    """A cue word just before or after the number.

    Only text the window guarantees to hold is read: up to ``_CUE_WINDOW`` characters before
    the match (inside ``LOOKBEHIND``) and ``NUMBER_TAIL`` after it (known before the match is final).
    """
    text: str = m.string
    start, end = m.start(), m.end()
    if _PHONE_CUES_BEFORE.search(text[max(0, start - _CUE_WINDOW) : start]) is not None:
        return True
    return _PHONE_CUES_AFTER.match(text[end : end + NUMBER_TAIL]) is not None


class _Rule:
    """A ``PatternRule`` whose judge is one of the ``PIIDetector`` methods below."""

    __slots__ = ("judge_name", "owner", "pattern", "starter", "tail")

    def __init__(self, owner: PIIDetector, pattern: Pattern, starter: Pattern, tail: int, judge_name: str) -> None:
        self.owner = owner
        self.pattern = pattern
        self.starter = starter
        self.tail = tail
        self.judge_name = judge_name

    def judge(self, m: Match, base: int) -> Hit | None:
        found: tuple[str, int, int] | None = getattr(self.owner, self.judge_name)(m)
        if found is None:
            return None
        entity, start, end = found
        return self.owner.hit(entity, base + start, base + end)


class PIIDetector:
    """Immutable PII detector built from ``PIIConfig``; ``new_scanner`` per stream."""

    __slots__ = ("_action", "_entities", "_presidio", "_rules")

    def __init__(self, config: PIIConfig) -> None:
        self._entities = frozenset(config.entities)
        self._action: HitAction = config.action
        needs_presidio = not self._entities.isdisjoint(_PRESIDIO_ENTITIES)
        self._presidio = PresidioValidator(config.min_score) if needs_presidio else None
        numeric = bool(self._entities & {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IP_ADDRESS"})
        wanted: list[tuple[str, str, int, str, bool]] = [
            (NUMBER, NUMBER_START, NUMBER_TAIL, "_number", numeric),
            (EMAIL, EMAIL_START, EMAIL_TAIL, "_email", "EMAIL_ADDRESS" in self._entities),
            (IBAN, IBAN_START, IBAN_TAIL, "_iban", "IBAN_CODE" in self._entities),
            (IPV6, IPV6_START, IPV6_TAIL, "_ipv6", "IP_ADDRESS" in self._entities),
            (URL, URL_START, URL_TAIL, "_url", "URL" in self._entities),
        ]
        self._rules: tuple[PatternRule, ...] = tuple(
            _Rule(self, compile_pattern(src, _VERBOSE if src is NUMBER else 0), compile_pattern(start), tail, judge)
            for src, start, tail, judge, on in wanted
            if on
        )

    def new_scanner(self, ctx: StreamContext) -> PatternScanner | None:
        """One scanner per stream; the context does not matter to PII."""
        del ctx
        return PatternScanner(self._rules) if self._rules else None

    def hit(self, entity: str, start: int, end: int) -> Hit:
        """A hit for ``entity`` with this policy's action."""
        return Hit(start, end, "pii", entity, self._action, placeholder_for(entity))

    def _confirmed(self, m: Match, entity: str) -> tuple[str, int, int] | None:
        assert self._presidio is not None  # built whenever such an entity is on
        span = self._presidio.confirm(m.group(), entity)
        if span is None:
            return None
        return entity, m.start() + span[0], m.start() + span[1]

    def _number(self, m: Match) -> tuple[str, int, int] | None:
        groups_text: str = m.group("groups")
        groups: list[str] = []
        seps: list[str] = []
        current: list[str] = []
        for ch in groups_text:
            if ch.isdigit():
                current.append(ch)
            else:
                groups.append("".join(current))
                seps.append(ch)
                current = []
        groups.append("".join(current))
        area: str | None = m.group("area")
        shape = NumberShape(
            groups=tuple(groups),
            separators="".join(seps),
            plus=m.group("cc") is not None,
            paren=m.group("trunk") is not None or area is not None,
            ext=m.group("ext") is not None,
            area_digits=sum(c.isdigit() for c in area) if area else 0,
            phone_context=_phone_context(m),
        )
        entity = classify_number(shape)
        if entity is None or entity not in self._entities:
            return None
        if entity in _PRESIDIO_ENTITIES:
            return self._confirmed(m, entity)
        return entity, m.start(), m.end()

    def _email(self, m: Match) -> tuple[str, int, int] | None:
        text: str = m.group()
        local = text.split("@", 1)[0]
        if ".." in text or local.endswith("."):
            return None
        return "EMAIL_ADDRESS", m.start(), m.end()

    def _iban(self, m: Match) -> tuple[str, int, int] | None:
        return self._confirmed(m, "IBAN_CODE")

    def _ipv6(self, m: Match) -> tuple[str, int, int] | None:
        if not is_plausible_ipv6(m.group()):
            return None
        return self._confirmed(m, "IP_ADDRESS")

    def _url(self, m: Match) -> tuple[str, int, int] | None:
        text: str = m.group()
        end = trim_url(text)
        if "." not in text[:end]:
            return None
        return "URL", m.start(), m.start() + end
