"""Candidate patterns and pure validators for pattern-shaped PII (no Presidio here).

Candidates are deliberately broad; the validators decide. Every pattern is bounded and ends
with a maximal-munch lookahead (see ``guards.output.rx``). Worst case per pattern:

* ``NUMBER`` - digit groups with optional ``+cc``, ``(0)``, ``(area)`` and extension. Every
  repetition is bounded (8 groups of at most 19 digits) and groups are separated by exactly one
  separator, so a start position costs at most ~200 steps; the lookbehind lets only the first
  digit of a run start a match. Worst input: long runs of ``1 1 1 1 ...`` (each run start
  re-tried at most 8 group counts).
* ``EMAIL`` - local part <= 64, <= 8 labels of <= 63, TLD <= 24; the lookbehind allows one start
  per run of local-part characters. Worst input: ``a@a.a.a.a...`` (8 label backtracks).
* ``IBAN`` - 2 letters, 2 digits, <= 8 groups of 4 (optional single spaces). Worst input:
  ``GB00 AAAA AAAA ...`` (linear in the 8 groups).
* ``IPV6`` - <= 8 colon groups of <= 4 hex digits. Worst input: ``1:1:1:1:...``.
* ``URL`` - ``http(s)://`` or ``www.`` then <= 2,048 non-delimiter characters; one class, no
  nesting, so linear. Worst input: a 2 KB URL without a delimiter (held back until complete).
"""

from __future__ import annotations

import ipaddress

import msgspec

__all__ = [
    "EMAIL",
    "EMAIL_START",
    "EMAIL_TAIL",
    "IBAN",
    "IBAN_START",
    "IBAN_TAIL",
    "IPV6",
    "IPV6_START",
    "IPV6_TAIL",
    "NUMBER",
    "NUMBER_START",
    "NUMBER_TAIL",
    "URL",
    "URL_START",
    "URL_TAIL",
    "NumberShape",
    "classify_number",
    "is_plausible_ipv6",
    "luhn_ok",
    "trim_url",
]

NUMBER = r"""
(?<![\w@/.+-])
(?P<cc>\+[0-9]{1,3}[ .-]?)?
(?P<trunk>\(0\)[ ]?)?
(?P<area>\([0-9]{1,4}\)[ .-]?)?
(?P<groups>[0-9]{1,19}(?:[ .-][0-9]{1,19}){0,7})
(?P<ext>[ ]?(?:x|ext\.?)[ ]?[0-9]{1,6})?
(?![\w@]|[ .:-][0-9])
"""
NUMBER_START = r"(?<![\w@/.+-])[+(0-9]"
NUMBER_TAIL = 8
"""An extension (`` ext. 1``) is tried up to 7 characters past the digits."""

EMAIL = (
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}"
    r"(?![\w@-]|\.[A-Za-z0-9])"
)
EMAIL_TAIL = 3
EMAIL_START = r"(?<![\w.%+-])[A-Za-z0-9](?=[A-Za-z0-9._%+-]{0,63}(?:@|\Z))"

IBAN = r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
IBAN_TAIL = 6
IBAN_START = r"(?<![A-Za-z0-9])[A-Z](?=[A-Z](?:[0-9]|\Z)|\Z)"
"""A following ``" 06"`` group must be visible before a match ending at a space is final."""

IPV6 = r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]|\.[0-9])"
IPV6_TAIL = 3
IPV6_START = r"(?<![\w:.])[0-9A-Fa-f:](?=[0-9A-Fa-f]{0,4}(?::|\Z))"

URL = r"""(?<![\w/.@-])(?:https?://|www\.)[^\s<>"'()\[\]{}]{3,2048}(?![^\s<>"'()\[\]{}])"""
URL_TAIL = 1
URL_START = r"(?<![\w/.@-])[hw]"

_URL_TRAILING = ".,;:!?"


class NumberShape(msgspec.Struct, frozen=True):
    """The parts of a ``NUMBER`` match that the classifier looks at."""

    groups: tuple[str, ...]
    separators: str
    plus: bool
    paren: bool
    ext: bool
    area_digits: int = 0
    """Digits inside ``(...)`` area-code parentheses (they count towards a phone's length)."""
    phone_context: bool = False
    """A phone cue word (``phone``, ``tel``, ``fax``, ``mobile``...) right before or after."""


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string (credit cards)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(shape: NumberShape, digits: str) -> bool:
    if shape.plus or shape.paren or shape.ext or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    lengths = tuple(len(g) for g in shape.groups)
    if len(lengths) == 1:
        return True
    if len(set(shape.separators)) != 1:
        return False
    if all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4:
        return True
    return lengths in ((4, 6, 5), (4, 6, 4))


def _phone(shape: NumberShape, digits: str) -> bool:
    lengths = tuple(len(g) for g in shape.groups)
    prefixed = shape.plus or shape.paren
    if not 7 <= len(digits) + shape.area_digits <= 15 or len(lengths) > 6:
        return False
    if len(lengths) == 1:
        return prefixed or 10 <= len(digits) <= 11 or (shape.ext and len(digits) >= 7) or shape.phone_context
    if min(lengths[1:]) < 2 or (lengths[0] < 2 and not prefixed):
        return False
    if not prefixed and len(lengths) >= 3 and lengths[:3] in ((4, 2, 2), (2, 2, 4)) and shape.separators[0] in "-./":
        return False  # dates: 2023-08-13, 13.08.2023
    # Two bare groups (``467 3395``) are as often a house number and a street number, a ZIP+4
    # or two years: only a phone next to a cue word.
    return not (len(lengths) == 2 and not prefixed and not shape.ext and not shape.phone_context)


def classify_number(shape: NumberShape) -> str | None:
    """Decide what a digit-group candidate is; ``None`` when it is none of the PII shapes.

    Order matters: IPv4 and SSN shapes are exact, cards need a valid Luhn checksum, and what is
    left is a phone number only if its grouping looks like one (so years, dates, amounts and
    short counts are not).

    Returns:
        ``IP_ADDRESS``, ``US_SSN``, ``CREDIT_CARD``, ``PHONE_NUMBER`` or ``None``.
    """
    bare = not (shape.plus or shape.paren or shape.ext)
    lengths = tuple(len(g) for g in shape.groups)
    if bare and len(lengths) == 4 and set(shape.separators) == {"."} and max(lengths) <= 3:
        return "IP_ADDRESS" if all(int(g) <= 255 for g in shape.groups) else None
    if bare and lengths == (3, 2, 4) and shape.separators in ("--", "  "):
        return "US_SSN"
    digits = "".join(shape.groups)
    if _card(shape, digits):
        return "CREDIT_CARD"
    return "PHONE_NUMBER" if _phone(shape, digits) else None


def is_plausible_ipv6(text: str) -> bool:
    """A real IPv6 address with at least two hex groups (so ``::`` or ``a::b`` tokens are not)."""
    if sum(1 for part in text.split(":") if part) < 2:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def trim_url(text: str) -> int:
    """Length of ``text`` without sentence punctuation glued to the end of a URL."""
    end = len(text)
    while end and text[end - 1] in _URL_TRAILING:
        end -= 1
    return end
