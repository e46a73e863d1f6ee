"""Literal prefilters: derived requirements are right, and prefiltered search equals plain regex search."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import INJECTION_DIR, iter_cases
from guards.injection.prefilter import Prefilter, TextIndex
from guards.injection.rules import default_rules_bytes, load_rules
from guards.text import normalize


def _needs(pattern: str) -> list[set[str]]:
    return [{" ".join(sorted(n.tokens)) or n.substring for n in clause} for clause in Prefilter.of(pattern).clauses]


def _shipped_patterns() -> list[str]:
    return [p for rule in load_rules(default_rules_bytes()).rules for p in rule.patterns]


def test_whole_words_between_boundaries_become_word_needs() -> None:
    assert _needs(r"\b(ignore|disregard)\b[^.\n]{0,40}\b(previous|prior) instructions\b") == [
        {"instructions previous", "instructions prior"},
        {"disregard", "ignore"},
    ]


def test_literals_without_a_boundary_become_substring_needs() -> None:
    assert _needs(r"refus(e|al)") == [{"refusal", "refuse"}]
    # a shorter substring implies the longer one, so only the shorter one is kept
    assert _needs(r"(never|cannot|not)x") == [{"neverx", "notx"}]


def test_whitespace_separates_words() -> None:
    assert _needs(r"\bdear\s+(ai|assistant)\b") == [{"dear"}, {"ai", "assistant"}]


@pytest.mark.parametrize(
    "pattern",
    [r"(?i)ignore", r"(?a)\bignore\b", r"a(?i:b)c", r".*", r"[a-z]+", r"(x)?\1y"],
)
def test_patterns_it_cannot_read_get_no_requirement(pattern: str) -> None:
    pf = Prefilter.of(pattern)
    assert pf.clauses == ()
    assert pf.allows(TextIndex("anything at all"))


def test_optional_and_repeated_parts_require_nothing() -> None:
    # "a(b)*c" matches "abc", which does not contain "ac": the repeat must break the literal
    assert Prefilter.of(r"a(b)*c").search(re.compile(r"a(b)*c"), TextIndex("xx abc"))
    assert _needs(r"\bhello( world)?\b") == [{"hello"}]


def test_windows_keep_word_boundaries_exact() -> None:
    regex = re.compile(r"\bsecret\b")
    pf = Prefilter.of(regex.pattern)
    assert pf.width is not None
    assert not pf.search(regex, TextIndex("topsecret files " + "x" * 500 + " secrets"))
    assert pf.search(regex, TextIndex("x" * 500 + " the secret is out"))


def test_whitespace_repeats_fall_back_to_a_full_search_on_long_runs() -> None:
    regex = re.compile(r"\bhey\s+bot\b")
    pf = Prefilter.of(regex.pattern)
    assert pf.spaced
    assert pf.search(regex, TextIndex("hey" + " " * 50 + "bot"))
    assert pf.search(regex, TextIndex("well hey  bot"))
    assert not pf.search(regex, TextIndex("hey there bot"))


_ALPHABET = st.sampled_from(
    [
        "ignore",
        "previous",
        "instructions",
        "your",
        "system",
        "prompt",
        "you are now",
        "dan",
        "no",
        "restrictions",
        "don't",
        "access granted",
        "password",
        "the",
        "answer",
        "in",
        "reveal",
        " ",
        "  ",
        "\n",
        ".",
        ":",
        "x",
        "é",
        "[",
        "]",
        "-",
        "0",
        "'",
        "summarizing this",
        "hey ai",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_prefiltered_search_equals_regex_search_on_generated_text(text: str) -> None:
    index = TextIndex(text)
    for pattern in _shipped_patterns():
        regex = re.compile(pattern)
        assert Prefilter.of(pattern).search(regex, index) == (regex.search(text) is not None), pattern


def test_prefiltered_search_equals_regex_search_on_the_corpus() -> None:
    compiled = [(Prefilter.of(p), re.compile(p)) for p in _shipped_patterns()]
    cases = list(iter_cases(INJECTION_DIR / "heldout.jsonl"))
    assert cases
    for case in cases:
        view = normalize(case.text).text
        index = TextIndex(view)
        for pf, regex in compiled:
            assert pf.search(regex, index) == (regex.search(view) is not None), (case.id, regex.pattern)


def test_key_words_pick_a_clause_that_only_a_shared_word_can_meet() -> None:
    # "previous instructions" / "prior instructions" both need "instructions", a longer word
    # than "ignore"
    pattern = r"\b(ignore|disregard)\b[^.\n]{0,40}\b(previous|prior) instructions\b"
    assert Prefilter.of(pattern).key_words() == frozenset({"instructions"})
    assert Prefilter.of(r"\bdear\s+(ai|assistant)\b").key_words() == frozenset({"dear"})
    # substring needs or no clause at all: no key words, the pattern is asked for every text
    assert Prefilter.of(r"refus(e|al)").key_words() is None
    assert Prefilter.of(r"[a-z]+").key_words() is None


@settings(max_examples=150, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_a_text_without_any_key_word_never_matches(text: str) -> None:
    index = TextIndex(text)
    for pattern in _shipped_patterns():
        keys = Prefilter.of(pattern).key_words()
        if keys is not None and keys.isdisjoint(index.words):
            assert re.compile(pattern).search(text) is None, pattern
