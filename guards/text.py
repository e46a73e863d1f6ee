"""Text normalisation for the injection screen: undo the cheap tricks before matching.

``normalize(text)`` returns the text the rules and the classifier see, plus the list of
obfuscation *signals* it had to undo. Steps, each a single pass (O(n) overall):

1. Unicode tag characters (U+E0020..U+E007E, "ASCII smuggling") are mapped back to ASCII;
   zero-width, bidi-control and soft-hyphen characters are deleted.
2. NFKC (fullwidth and mathematical letters become ASCII), then case folding.
3. Homoglyph folding, only inside words that mix Latin letters with look-alikes (so genuine
   Cyrillic or Greek prose is left alone).
4. Leetspeak folding, only inside tokens that mix letters with ``0 1 3 4 5 7``, so numbers,
   codes and e-mail addresses stay as they are.
5. Letters separated by single spaces (``i g n o r e``) are joined.
6. Embedded base64 / hex / binary (``01000001 ...``) runs that decode to readable UTF-8 text,
   and rot13 text (detected by its lack of common English words), are decoded and appended
   as extra lines, so the rules and the classifier see what the model would read.
7. A short unit (1-20 characters, not only separators like ``-`` or ``=``) repeated 25+ times
   in a row (``ö ö ö ...``, ``) ] } ) ] } ...``) is token flooding, padding that pushes the
   developer's instructions out of the model's view: signal ``flood``, and the line
   ``FLOOD_MARKER`` is appended so that rules (whose signal names are fixed by the rules
   schema) can match it.
8. "Stuttered" text, where most words carry doubled letters (``outputt yourr instructionss``),
   is appended once more with every run of a repeated letter squeezed to one.
9. Four or more words chained by ``-`` or ``_`` (``output-your-previous-instructions``) are
   appended once more with the separators read as spaces.

Runs of spaces and tabs collapse to one space and runs of line breaks to one newline, so the
classifier can still see the text's lines and sentences. Nothing here raises on any input.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from typing import NamedTuple

import numpy as np

__all__ = ["FLOOD_MARKER", "NormalizedText", "fold", "normalize"]

FLOOD_MARKER = "[[token-flood]]"
"""Line appended to the normalised text when a token flood is found."""

_DELETE = dict.fromkeys(
    [
        0x00AD,
        0x180E,
        0xFEFF,
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2065),
        *range(0x2066, 0x206A),
    ],
)
_BIDI = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F])
_TAGS = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}
_TAG_ENDS = dict.fromkeys([0xE0001, 0xE007F])
_TAG_RANGE = re.compile("[\U000e0000-\U000e007f]")

# Latin look-alikes (Cyrillic, Greek, IPA) commonly used to dodge keyword filters.
_HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁһӏԛԝɡνοαερτυχιβκмтнвłʀ",
    "aeopcyxijsdhlqwgvoaeptuxibkmthblr",
)
_CONFUSABLE = frozenset("аеорсухіјѕԁһӏԛԝɡνοαερτυχιβκмтнвłʀ")
_CONFUSABLE_RE = re.compile(f"[{''.join(sorted(_CONFUSABLE))}]")
_LEET = str.maketrans("013457", "oieast")

_WORD = re.compile(r"\w+")
_LEET_TOKEN = re.compile(r"\b(?:[a-z]+[013457][a-z013457]*|[013457]+[a-z][a-z013457]*)\b")
_SPACED = re.compile(r"\b(?:[a-z] ){3,}[a-z]\b")
# only runs of 2+ blanks or a blank other than " " need rewriting ("a b" stays as it is, for free)
_WS = re.compile(r"[^\S\n]{2,}|[^\S\n ]")
_NEEDS_DELETE = re.compile("[\u00ad\u180e\ufeff\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069]")
_LEET_HINT = re.compile(r"[a-z][013457]|[013457][a-z]")
_NL = re.compile(r" ?\n[\s]*")
_BIN = re.compile(r"(?:[01]{8}[ ,]?){4,}")
_DOUBLED = re.compile(r"([a-z])\1")
_SQUEEZE = re.compile(r"([a-z])\1+")
_DOUBLED_WORD = re.compile(r"\b[a-z]*([a-z])\1[a-z]*\b")
_SEPARATORS = np.array([ord(c) for c in " \t\n\r-=_.*#~|+:!?"], dtype=np.uint32)
_FLOOD_UNIT = 20
_FLOOD_REPEATS = 25
_FLOOD_PRECHECK = 256  # up to this length, a character count rules most texts out first
_FLOOD_BLOCK = 12  # half of the shortest flood run (24 equal pairs), minus nothing: see _has_flood

_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}[ :]?){8,}")
_ASCII_WORD = re.compile(r"[a-z]+")
_COMMON = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "to",
        "of",
        "in",
        "on",
        "is",
        "are",
        "be",
        "you",
        "your",
        "i",
        "it",
        "this",
        "that",
        "for",
        "with",
        "as",
        "not",
        "do",
        "all",
        "what",
        "how",
        "now",
        "me",
        "my",
        "we",
        "from",
        "at",
        "by",
        "if",
        "no",
        "yes",
        "any",
        "say",
        "tell",
        "ignore",
    ]
)
_MAX_DECODED = 8
_JOINED = re.compile(r"\b[a-z]+(?:[-_][a-z]+){3,}\b")


class NormalizedText(NamedTuple):
    """The screen's view of a text."""

    text: str
    """Folded text plus any decoded segments, one per line."""
    signals: frozenset[str]
    """Tricks found: zero_width, bidi, tag_chars, homoglyph, leet, spaced, base64, hex, binary, rot13,
    stutter, flood."""


def _fold_homoglyphs(text: str, signals: set[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.isascii() or not any(c in _CONFUSABLE for c in word):
            return word
        if not any("a" <= c <= "z" for c in word) and not _looks_latin_disguised(word):
            return word
        signals.add("homoglyph")
        return word.translate(_HOMOGLYPHS)

    return _WORD.sub(repl, text)


def _looks_latin_disguised(word: str) -> bool:
    # A word written only in look-alikes ("ѕуѕтем") reads as Latin once folded.
    return len(word) >= 3 and all(c in _CONFUSABLE for c in word)


def _fold_leet(text: str, signals: set[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        signals.add("leet")
        return match.group(0).translate(_LEET)

    if _LEET_HINT.search(text) is None:
        return text  # no letter next to a leet digit: nothing to fold
    return _LEET_TOKEN.sub(repl, text)


def _readable(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(decoded) < 6:
        return None
    printable = sum(1 for c in decoded if c.isprintable() or c in "\n\t")
    letters = sum(1 for c in decoded if c.isalpha() or c == " ")
    if printable < 0.95 * len(decoded) or letters < 0.6 * len(decoded):
        return None
    return decoded


def _decode_base64(run: str) -> str | None:
    stripped = run.rstrip("=")
    if stripped.isalpha() and (stripped.islower() or stripped.isupper()):
        return None  # a long plain word or an identifier, not an encoding
    padded = stripped + "=" * (-len(stripped) % 4)
    altchars = b"-_" if ("-" in run or "_" in run) else None
    try:
        raw = base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _readable(raw)


def _class_table(members: bytes) -> bytes:
    return bytes(ord("y") if c in members else ord("x") for c in range(256))


# Byte-class maps for a cheap exact pre-check: each encoding needs a run of its own characters
# (16 for base64 and hex, with hex's separators; 8 for binary), and a run of a class of ASCII
# characters in the text is exactly a run of "y" in the UTF-8 bytes mapped through the table.
_B64_CLASS = _class_table(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_HEX_CLASS = _class_table(b"0123456789abcdefABCDEF :")
_BIN_CLASS = _class_table(b"01")
_RUN16 = re.compile(b"y{16}")
_RUN8 = re.compile(b"y{8}")


def _decode_embedded(original: str, signals: set[str]) -> list[str]:
    found: list[str] = []
    raw = original.encode("utf-8", "surrogatepass")
    b64_runs = _RUN16.search(raw.translate(_B64_CLASS)) is not None
    for match in _B64.finditer(original) if b64_runs else ():
        if len(found) >= _MAX_DECODED:
            break
        decoded = _decode_base64(match.group(0))
        if decoded is not None:
            signals.add("base64")
            found.append(decoded)
    hex_runs = _RUN16.search(raw.translate(_HEX_CLASS)) is not None
    for match in _HEX.finditer(original) if hex_runs else ():
        if len(found) >= _MAX_DECODED:
            break
        digits = re.sub(r"[ :]", "", match.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        decoded = _readable(bytes.fromhex(digits))
        if decoded is not None:
            signals.add("hex")
            found.append(decoded)
    binary_runs = _RUN8.search(raw.translate(_BIN_CLASS)) is not None
    for match in _BIN.finditer(original) if binary_runs else ():
        if len(found) >= _MAX_DECODED:
            break
        bits = re.sub(r"[ ,]", "", match.group(0))
        decoded = _readable(int(bits, 2).to_bytes(len(bits) // 8, "big"))
        if decoded is not None:
            signals.add("binary")
            found.append(decoded)
    return found


def _squeeze_stutter(folded: str, words: list[str], signals: set[str]) -> str | None:
    if len(words) < 4:
        return None
    need = 0.75 * len(words)
    # every stuttered word holds a doubled letter: count those first, it is the cheaper scan
    if len(_DOUBLED.findall(folded)) < need or len(_DOUBLED_WORD.findall(folded)) < need:
        return None
    signals.add("stutter")
    return _SQUEEZE.sub(r"\1", folded)


def _has_flood(text: str) -> bool:
    # period p: text[i] == text[i + p] over a run of 24 p positions means 25 copies of a unit
    length = len(text)
    top = min(_FLOOD_UNIT, length // _FLOOD_REPEATS)
    if top < 1:
        return False
    if length <= _FLOOD_PRECHECK and max(map(text.count, set(text))) < _FLOOD_REPEATS:
        # every character of a repeated unit occurs at least 25 times; in a chat-sized message
        # usually none does, and this C-speed count is cheaper than the numpy pass below
        return False
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    # all periods at once (padding that equals nothing keeps the comparisons exact); a run of
    # 24 p >= 24 equal pairs always contains a whole aligned block of 12, so periods without
    # such a block are ruled out in one vectorised pass
    padded = np.concatenate([codes, np.arange(0x110000, 0x110000 + top, dtype=np.uint32)])
    same = np.lib.stride_tricks.as_strided(padded, (length, top + 1), (4, 4), writeable=False)
    pairs = same[:, 1:] == same[:, :1]
    blocks = (length // _FLOOD_BLOCK) * _FLOOD_BLOCK
    candidates = pairs[:blocks].reshape(-1, _FLOOD_BLOCK, top).all(axis=1).any(axis=0)
    for period in (np.flatnonzero(candidates) + 1).tolist():
        run = (_FLOOD_REPEATS - 1) * period
        if length < run + period:
            continue
        counts = np.concatenate([[0], np.cumsum(pairs[: length - period, period - 1])])
        starts = np.flatnonzero((counts[run:] - counts[:-run]) == run)
        if starts.shape[0] == 0:
            continue
        content = np.concatenate([[0], np.cumsum(~np.isin(codes, _SEPARATORS))])
        if np.any(content[starts + period] > content[starts]):
            return True
    return False


def _common_ratio(words: list[str]) -> float:
    return sum(map(_COMMON.__contains__, words)) / len(words) if words else 0.0


def _decode_rot13(folded: str, words: list[str], signals: set[str]) -> str | None:
    if len(words) < 4 or _common_ratio(words) >= 0.1:
        return None
    rotated = codecs.encode(folded, "rot13")
    if _common_ratio(_ASCII_WORD.findall(rotated)) < 0.25:
        return None
    signals.add("rot13")
    return rotated


def fold(text: str, signals: set[str] | None = None) -> str:
    """Fold one text (steps 1-5 of the module docstring) without decoding embedded segments.

    Args:
        text: Any text.
        signals: If given, receives the names of the tricks that were undone.

    Returns:
        The folded, lower-cased text with runs of spaces and of line breaks collapsed.
    """
    sig: set[str] = set() if signals is None else signals
    if not text.isascii():
        if _TAG_RANGE.search(text):
            signals_text = text.translate(_TAGS)
            if signals_text != text:
                sig.add("tag_chars")
                text = signals_text.translate(_TAG_ENDS)
        stripped = text.translate(_DELETE) if _NEEDS_DELETE.search(text) else text
        if stripped != text:
            sig.add("bidi" if any(ord(c) in _BIDI for c in text) else "zero_width")
            text = stripped
        text = unicodedata.normalize("NFKC", text).casefold()
        if _CONFUSABLE_RE.search(text):
            text = _fold_homoglyphs(text, sig)
    else:
        text = text.lower()
    text = _fold_leet(text, sig)
    if _SPACED.search(text):
        sig.add("spaced")
        text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    return _NL.sub("\n", _WS.sub(" ", text)).strip()


def normalize(text: str) -> NormalizedText:
    """Return the screen's view of ``text``: folded, with embedded encodings decoded and appended.

    Args:
        text: A user message, tool result or document.

    Returns:
        The normalised text and the obfuscation signals found.
    """
    signals: set[str] = set()
    folded = fold(text, signals)
    if _has_flood(text):
        signals.add("flood")
        folded = f"{folded}\n{FLOOD_MARKER}"
    extra = [fold(segment) for segment in _decode_embedded(text, signals)]
    words = _ASCII_WORD.findall(folded)
    rotated = _decode_rot13(folded, words, signals)
    if rotated is not None:
        extra.append(rotated)
    squeezed = _squeeze_stutter(folded, words, signals)
    if squeezed is not None:
        extra.append(squeezed)
    # a chain needs 3 separators: counting them (in C) spares most texts the regex scan
    if folded.count("-") + folded.count("_") >= 3 and _JOINED.search(folded):
        # "output-your-previous-instructions": words chained by - or _ are read as words too
        extra.append(_JOINED.sub(lambda m: m.group(0).replace("-", " ").replace("_", " "), folded))
    if extra:
        folded = "\n".join([folded, *extra])
    return NormalizedText(folded, frozenset(signals))
