"""What the leak detector looks for: words of a prompt, the secrets in it, and their disguises.

A *secret* is a short string whose disclosure is a leak on its own, however it is written: the
canaries the gateway plants, a system prompt short enough to be one (an access code), and the
values a longer prompt introduces as a password, passphrase, code, PIN, key or token. This
module finds them and builds what the scanners match:

* one regex (``secret_pattern``) for secrets of at least 6 letters/digits: the letters and digits
  in order, case-insensitively, with up to 3 other characters between any two (spaces, dashes,
  newlines, zero-width characters), each letter also in its common leetspeak forms (``3`` for
  ``e``, ``0`` for ``o``...), forwards, reversed and rot13; plus the secret's hex and base64
  encodings (base64 at each of the three byte alignments, so it is found inside a longer blob);
* for the token scanner (``guards.output.leak_tokens``): words (``words``, ``word_key``), the
  spelling tables (NATO alphabet and number words, so ``tango romeo alpha mike`` is a spelling of
  ``tram``) and a sound-alike key (``rhyme_key``: ``hugger not`` rhymes with ``juggernaut``).

Every repetition in the pattern is bounded (3 separators between 2 characters), so work per
start position is bounded by the longest form, and the pattern ends with a character class, so a
full match is final once its last character is known (``PatternScanner`` with ``tail`` 1).
"""

from __future__ import annotations

import base64
import codecs
import functools
from types import MappingProxyType
from typing import TYPE_CHECKING

from guards.output.rx import IGNORECASE, compile_pattern

if TYPE_CHECKING:
    from guards.output.rx import Pattern

__all__ = [
    "MIN_SPACED",
    "SPELLING",
    "STEM",
    "STOPWORDS",
    "WORD_CAP",
    "WORD_RE",
    "core",
    "extract_secrets",
    "rhyme_key",
    "rhymes",
    "rime",
    "secret_pattern",
    "word_key",
    "words",
]

WORD_CAP = 64
"""Longest token: a longer run of letters/digits is cut (keeps tokenisation chunk-independent)."""
STEM = 6
"""Tokens compare on their first 6 characters: a light, language-agnostic stemmer."""
MIN_SPACED = 6
"""Secrets with fewer letters/digits are not matched inside other words or across separators."""
_MIN_ENCODED = 8
"""Shortest hex/base64 form worth matching (shorter ones occur by chance in ordinary text)."""
_SEP = r"[^\p{L}\p{N}]{0,3}"

WORD_RE = compile_pattern(r"[\p{L}\p{N}]{1," + str(WORD_CAP) + "}")

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
    ]
)

SPELLING = MappingProxyType(
    {
        **{
            word: word[0]
            for word in [
                "alpha",
                "alfa",
                "bravo",
                "charlie",
                "delta",
                "echo",
                "foxtrot",
                "golf",
                "hotel",
                "india",
                "juliet",
                "juliett",
                "kilo",
                "lima",
                "mike",
                "november",
                "oscar",
                "papa",
                "quebec",
                "romeo",
                "sierra",
                "tango",
                "uniform",
                "victor",
                "whiskey",
                "whisky",
                "xray",
                "yankee",
                "zulu",
            ]
        },
        **{
            word: str(digit)
            for digit, word in enumerate(
                ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
            )
        },
    }
)
"""Spelling-alphabet and number words, and the character each one spells."""

_LEET = MappingProxyType(
    {
        "a": "a4@",
        "b": "b8",
        "e": "e3",
        "g": "g9",
        "i": "i1!|",
        "l": "l1|",
        "o": "o0",
        "s": "s5$",
        "t": "t7+",
        "z": "z2",
        "0": "0o",
        "1": "1il|!",
        "2": "2z",
        "3": "3e",
        "4": "4a",
        "5": "5s",
        "7": "7t",
        "8": "8b",
        "9": "9g",
    }
)

_KEYWORD_RE = compile_pattern(
    r"\b(?:pass\s?(?:word|phrase|code)|access\s+code|secret(?:\s+(?:word|code|key|phrase|password))?"
    r"|pin(?:\s+code)?|code\s?word|api[\s_-]?key|token|(?P<weak>code|key))\b(?:\s+(?:is|was))?\s*(?P<sep>[:=])?\s*"
    r"""(?:"(?P<q1>[^"\n]{1,64})"|'(?P<q2>[^'\n]{1,64})'|“(?P<q3>[^”\n]{1,64})”|‘(?P<q4>[^’\n]{1,64})’"""
    r"|`(?P<q5>[^`\n]{1,64})`|(?P<bare>[^\s\"'“‘`]{3,64}))",
    IGNORECASE,
)
_NOT_A_VALUE = frozenset(
    [
        "above",
        "below",
        "case",
        "changed",
        "confidential",
        "correct",
        "given",
        "hidden",
        "important",
        "included",
        "invalid",
        "listed",
        "needed",
        "never",
        "only",
        "private",
        "provided",
        "required",
        "secret",
        "sensitive",
        "set",
        "shown",
        "stored",
        "strictly",
        "top",
        "unknown",
        "valid",
        "written",
        "wrong",
        "must",
        "should",
        "always",
    ]
)
_VOWELS = frozenset("aeiouy")


def words(text: str) -> list[str]:
    """The tokens of ``text``: runs of letters/digits, at most ``WORD_CAP`` long."""
    return [m.group() for m in WORD_RE.finditer(text)]


def word_key(token: str) -> str:
    """Case-folded token truncated to the stem length."""
    return token.casefold()[:STEM]


def core(text: str) -> str:
    """The letters and digits of ``text``, case-folded, run together."""
    return "".join(c for c in text.casefold() if c.isalnum())


def extract_secrets(prompt: str) -> list[str]:
    """Values a system prompt introduces as a password, code, PIN, key or token.

    A quoted value always counts. A bare one counts after ``:``/``=``, or after ``password is``
    (and the like) unless it is a word that usually follows those (``confidential``, ``never``...);
    after a plain ``code``/``key`` (``unlock code``, ``door key``) only quoted or ``:`` values count.
    """
    found: list[str] = []
    for m in _KEYWORD_RE.finditer(prompt):
        quoted = next((m.group(g) for g in ("q1", "q2", "q3", "q4", "q5") if m.group(g)), None)
        if quoted is not None:
            value = quoted.strip()
        elif m.group("weak") and m.group("sep") is None:
            continue  # "the code is clean", "the key is to listen": only quoted or ``code: X`` counts
        else:
            value = m.group("bare").rstrip(".,;:!?)]}")
            folded = value.casefold()
            plain = value.isalpha()
            if folded in STOPWORDS or folded in _NOT_A_VALUE or (plain and m.group("sep") is None and len(value) < 4):
                continue
        if len(core(value)) >= 3 and len(words(value)) <= 4:
            found.append(value)
    return found


def rime(text: str) -> str:
    """The letters of ``text`` from its first vowel on, case-folded (``juggernaut`` -> ``uggernaut``)."""
    letters = [c for c in text.casefold() if c.isalpha()]
    first = next((i for i, c in enumerate(letters) if c in _VOWELS), len(letters))
    return "".join(letters[first:])


def rhyme_key(text: str) -> str:
    """Consonant skeleton of the rime, repeats collapsed: a cheap pre-filter for ``rhymes``.

    ``juggernaut`` and ``hugger not`` both give ``grnt``. Letters only; empty when there is none.
    """
    out: list[str] = []
    for c in rime(text):
        if c not in _VOWELS and (not out or out[-1] != c):
            out.append(c)
    return "".join(out)


def rhymes(candidate: str, secret_rime: str) -> bool:
    """Whether ``candidate`` sounds like the secret: rimes within a quarter of their length in edits."""
    other = rime(candidate)
    budget = max(1, len(secret_rime) // 4)
    if abs(len(other) - len(secret_rime)) > budget:
        return False
    previous = list(range(len(other) + 1))
    for i, a in enumerate(secret_rime, 1):
        current = [i]
        for j, b in enumerate(other, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1] <= budget


def _atoms(form: str, leet: bool) -> list[str]:
    atoms: list[str] = []
    for c in form:
        chars = _LEET.get(c, c) if leet else c
        atoms.append("[" + "".join("\\" + ch if not ch.isalnum() else ch for ch in chars) + "]")
    return atoms


def _starter(atoms: list[str], sep: str) -> str:
    # The first character, confirmed by the second unless the buffer ends first: a common
    # first character (``a`` for ``4`` in leetspeak) then costs one search, not a match attempt.
    return f"{atoms[0]}(?={sep}(?:{atoms[1]}|\\Z))"


def _base64_forms(raw: bytes) -> set[str]:
    forms: set[str] = set()
    for pad, skip in ((0, 0), (1, 2), (2, 3)):
        total = pad + len(raw)
        encoded = base64.b64encode(b"\0" * pad + raw).decode("ascii")
        keep = 4 * (total // 3) + (0, 1, 2)[total % 3]
        form = encoded[skip:keep]
        if len(form) >= _MIN_ENCODED:
            forms.add(form)
    return forms


@functools.lru_cache(maxsize=256)
def secret_pattern(secrets: tuple[str, ...]) -> tuple[Pattern, Pattern] | None:
    """One pattern (and its starter) for every disguise of every long-enough secret.

    Compiling it costs about 10 ms (hundreds of leetspeak character classes), far more than
    scanning a response, so compiled patterns are cached by their secrets: a tenant's system
    prompt and the gateway's canary (rotated, see ``proxy.guard_stages``) are compiled once.

    Returns:
        ``(pattern, starter)``, or ``None`` when no secret has ``MIN_SPACED`` letters/digits.
    """
    spaced: set[str] = set()
    encoded: set[str] = set()
    exact: set[str] = set()
    for secret in secrets:
        folded = core(secret)
        if len(folded) < MIN_SPACED:
            continue
        spaced.update((folded, folded[::-1], codecs.encode(folded, "rot13")))
        for raw in {secret.strip().encode(), folded.encode()}:
            if len(raw.hex()) >= _MIN_ENCODED:
                encoded.add(raw.hex())
            exact.update(_base64_forms(raw))
    if not spaced:
        return None
    ranked: list[tuple[int, str, str, str]] = []  # length, form, pattern, starter
    for form in spaced | encoded:
        atoms = _atoms(form, leet=form in spaced)
        ranked.append((len(form), form, _SEP.join(atoms), _starter(atoms, _SEP)))
    for form in exact:
        atoms = _atoms(form, leet=False)
        ranked.append((len(form), form, "(?-i:" + "".join(atoms) + ")", "(?-i:" + _starter(atoms, "") + ")"))
    # Longest first: a shorter form that is a prefix of a longer one must not win while the
    # longer one could still match (the regex takes the first alternative that matches).
    ranked.sort(key=lambda r: (-r[0], r[1]))
    alts = [r[2] for r in ranked]
    starter = "(?:" + "|".join(sorted({r[3] for r in ranked})) + ")"
    return compile_pattern("(?:" + "|".join(alts) + ")", IGNORECASE), compile_pattern(starter, IGNORECASE)
