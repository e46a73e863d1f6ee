"""PII on the dev PII corpus, streamed in random 1-20 character chunks (issue 6 acceptance)."""

from __future__ import annotations

import random
import socket
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from guards.output import OutputChain, StreamContext
from guards.output.pii import PIIDetector, PresidioValidator
from guards.output.pii_patterns import NumberShape, classify_number, luhn_ok
from schemas.output_guard_config import PII_ENTITIES, PIIConfig

if TYPE_CHECKING:
    from guards.output import Finding

PATTERN_ENTITIES = frozenset(PII_ENTITIES)


def _stream(chain: OutputChain, text: str, rng: random.Random) -> tuple[str, list[Finding]]:
    flt = chain.new_filter(StreamContext())
    out: list[str] = []
    findings: list[Finding] = []
    i = 0
    while i < len(text):
        size = rng.randint(1, 20)
        step = flt.feed(text[i : i + size])
        out.append(step.text)
        findings.extend(step.findings)
        i += size
    step = flt.finish()
    out.append(step.text)
    findings.extend(step.findings)
    return "".join(out), findings


def test_pii_corpus_recall_precision_and_chunk_independence(pii_chain: OutputChain, pii_cases: list[Any]) -> None:
    rng = random.Random(20240601)
    tp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    out_of_scope: Counter[str] = Counter()
    for case in pii_cases:
        whole = pii_chain.apply(case.text, StreamContext())
        text, findings = _stream(pii_chain, case.text, rng)
        assert text == whole.text, case.id
        assert sorted(findings, key=lambda f: f.start) == sorted(whole.findings, key=lambda f: f.start), case.id
        for gold in case.spans:
            if gold.entity not in PATTERN_ENTITIES:
                out_of_scope[gold.entity] += 1
                continue
            if any(f.entity == gold.entity and f.start < gold.end and gold.start < f.end for f in findings):
                tp[gold.entity] += 1
                assert case.text[gold.start : gold.end] not in text, case.id
            else:
                fn[gold.entity] += 1
        for f in findings:
            if not any(g.entity == f.entity and g.start < f.end and f.start < g.end for g in case.spans):
                fp[f.entity] += 1
    hits = sum(tp.values())
    recall = hits / (hits + sum(fn.values()))
    precision = hits / (hits + sum(fp.values()))
    for entity in sorted(PATTERN_ENTITIES):
        print(f"{entity:14} tp={tp[entity]:3} fn={fn[entity]:2} fp={fp[entity]:2}")
    print(f"pattern entities: recall={recall:.4f} precision={precision:.4f}")
    print(f"out of scope (NER, not attempted): {dict(out_of_scope)}")
    assert recall >= 0.98
    assert precision >= 0.95


def test_rows_without_pii_pass_untouched(pii_chain: OutputChain, pii_cases: list[Any]) -> None:
    clean = [c for c in pii_cases if not c.spans]
    assert clean
    changed = [c.id for c in clean if pii_chain.apply(c.text, StreamContext()).text != c.text]
    assert len(changed) <= len(clean) // 20, changed


def test_presidio_builds_fast_and_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    PresidioValidator(0.5)  # warm the import (spaCy) outside the timing
    started = time.perf_counter()
    validator = PresidioValidator(0.5)
    assert time.perf_counter() - started < 0.5
    assert validator.confirm("GB49 AHER 7227 7635 7870 06", "IBAN_CODE") == (0, 27)
    assert validator.confirm("GB00 AHER 7227 7635 7870 06", "IBAN_CODE") is None  # bad checksum
    assert validator.confirm("2001:db8::1", "IP_ADDRESS") is not None
    detector = PIIDetector(PIIConfig(entities=PII_ENTITIES))
    chain = OutputChain((detector,))
    assert chain.apply("mail a.b@example.org", StreamContext()).text == "mail <EMAIL_ADDRESS>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call 541-714-1388 now", "Call <PHONE_NUMBER> now"),
        ("Phone:\n467 3395\n", "Phone:\n<PHONE_NUMBER>\n"),
        ("at 17151 2450 Crown St", "at 17151 2450 Crown St"),  # house + street number, no cue
        ("When: 2000-04-16 11:34:35", "When: 2000-04-16 11:34:35"),
        ("in 1977 and 2018, 3.14159 or 1,234,567", "in 1977 and 2018, 3.14159 or 1,234,567"),
        ("ip 2001:db8:85a3::8a2e:370:7334 ok", "ip <IP_ADDRESS> ok"),
        ("not ip 999.1.1.1 or 10:30:45", "not ip 999.1.1.1 or 10:30:45"),
        ("card 4454794511390934", "card 4454794511390934"),  # Luhn fails, 16 digits: no phone either
        ("iban GB49AHER72277635787006.", "iban <IBAN_CODE>."),
        ("see https://www.UEarly.se/.", "see <URL>."),
    ],
)
def test_pattern_examples(pii_chain: OutputChain, text: str, expected: str) -> None:
    assert pii_chain.apply(text, StreamContext()).text == expected


def test_number_classifier_and_luhn() -> None:
    assert luhn_ok("4454794511390933")
    assert not luhn_ok("4454794511390934")
    ssn = NumberShape(groups=("460", "89", "9847"), separators="--", plus=False, paren=False, ext=False)
    assert classify_number(ssn) == "US_SSN"
    amex = NumberShape(groups=("3782", "822463", "10005"), separators="  ", plus=False, paren=False, ext=False)
    assert classify_number(amex) == "CREDIT_CARD"
    bad_ip = NumberShape(groups=("300", "1", "1", "1"), separators="...", plus=False, paren=False, ext=False)
    assert classify_number(bad_ip) is None
    short = NumberShape(groups=("12", "34"), separators=" ", plus=False, paren=False, ext=False, phone_context=True)
    assert classify_number(short) is None
