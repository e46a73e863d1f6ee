"""Incremental JSON syntax checking for streamed structured outputs.

``JsonStreamChecker`` is fed the text deltas of one streamed choice and reports the *first*
syntax error as soon as the character that makes the document invalid arrives, so the relay
can stop upstream and end the stream with one error event instead of relaying a broken
document to the end.

Design decisions:

* A small state machine over characters (nesting stack, strings with escapes and UTF-16
  surrogate pairs, the number grammar, ``true``/``false``/``null``). Bulk runs (string bodies,
  whitespace, digits) are skipped with compiled regexes, so the Python-level loop runs per
  token rather than per character. Total work is O(n); nothing is re-parsed per chunk.
* The verdict and the error message (which carries the character offset) do not depend on
  how the text was split into chunks. This is property-tested against ``msgspec.json.decode``.
* ``finish()`` decodes the accumulated text once with msgspec (C speed, O(n)) to return the
  value. That also catches the one thing the grammar cannot: numbers out of float range.
* Nesting is capped (``max_depth``, default 128, below msgspec's ~1000) because schema
  validation recurses per level; OpenAI's own structured outputs allow far less nesting.
* ``root_kinds`` lets the caller reject a wrong top-level kind at the first character
  (``json_object`` mode, or a schema whose root declares ``type``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["JsonInvalid", "JsonOk", "JsonStreamChecker", "value_kind"]

# What the machine expects next.
_VALUE = 0  # any value (document start, after ':' or after ',' in an array)
_VALUE_OR_CLOSE = 1  # after '[': a value or ']'
_KEY_OR_CLOSE = 2  # after '{': a key or '}'
_KEY = 3  # after ',' in an object
_COLON = 4
_AFTER_VALUE = 5  # ',' or the matching closing bracket
_END = 6  # only whitespace may follow
_STRING = 7
_ESCAPE = 8
_UNICODE = 9  # inside the 4 hex digits of \uXXXX
_LOW_BACKSLASH = 10  # a high surrogate was read: '\' of the low half must follow
_LOW_U = 11  # ... then 'u'
_LITERAL = 12
# Number sub-states, named after what was last consumed.
_N_MINUS = 13
_N_ZERO = 14
_N_INT = 15
_N_DOT = 16
_N_FRAC = 17
_N_EXP = 18
_N_EXP_SIGN = 19
_N_EXP_DIGITS = 20

_NUMBER_END_OK = frozenset({_N_ZERO, _N_INT, _N_FRAC, _N_EXP_DIGITS})
_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]+')
_WS_RUN = re.compile(r"[ \t\n\r]+")
_DIGIT_RUN = re.compile(r"[0-9]+")
_WS = frozenset(" \t\n\r")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = frozenset('"\\/bfnrt')
_LITERALS = {"t": "true", "f": "false", "n": "null"}
_KIND_OF_FIRST = {
    "{": "object",
    "[": "array",
    '"': "string",
    "-": "number",
    "t": "boolean",
    "f": "boolean",
    "n": "null",
    **dict.fromkeys("0123456789", "number"),
}
_EXPECTED = {
    _VALUE: "a JSON value",
    _VALUE_OR_CLOSE: "a JSON value or ']'",
    _KEY_OR_CLOSE: "a string key or '}'",
    _KEY: "a string key",
    _COLON: "':'",
    _END: "end of document",
}


class JsonOk(msgspec.Struct, frozen=True):
    """The stream held one complete, valid JSON document."""

    value: object
    """The decoded document (dicts, lists, str, int, float, bool, None)."""


class JsonInvalid(msgspec.Struct, frozen=True):
    """The stream is not one valid JSON document."""

    message: str
    """Human-readable reason, with the character offset where it was detected."""


def value_kind(value: object) -> str:
    """Return the JSON kind of a decoded value: object, array, string, number, boolean or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(char: str) -> str:
    return repr(char) if char.isprintable() else f"U+{ord(char):04X}"


class JsonStreamChecker:
    """Per-stream incremental JSON syntax checker. Not thread-safe; use once.

    Args:
        root_kinds: JSON kinds allowed at the top level (``object``, ``array``, ``string``,
            ``number``, ``boolean``, ``null``); ``None`` allows any.
        max_depth: deepest nesting of arrays/objects accepted.
    """

    __slots__ = (
        "_error",
        "_hex_left",
        "_in_key",
        "_literal",
        "_max_depth",
        "_offset",
        "_parts",
        "_pending_high",
        "_root_kinds",
        "_stack",
        "_state",
        "_unicode",
    )

    def __init__(self, *, root_kinds: Iterable[str] | None = None, max_depth: int = 128) -> None:
        self._root_kinds = frozenset(root_kinds) if root_kinds is not None else None
        self._max_depth = max_depth
        self._parts: list[str] = []
        self._stack: list[str] = []
        self._state = _VALUE
        self._offset = 0
        self._error: str | None = None
        self._in_key = False
        self._literal = ""
        self._hex_left = 0
        self._unicode = 0
        self._pending_high = False

    @property
    def error(self) -> str | None:
        """The first syntax error seen so far, if any."""
        return self._error

    def feed(self, text: str) -> str | None:
        """Consume the next delta; return the first syntax error (sticky), or ``None``."""
        if self._error is None and text:
            self._parts.append(text)
            self._run(text)
            self._offset += len(text)
        return self._error

    def finish(self) -> JsonOk | JsonInvalid:
        """End of stream: the decoded document, or why the text is not one complete document."""
        if self._error is not None:
            return JsonInvalid(self._error)
        state = self._state
        if state != _END and not (state in _NUMBER_END_OK and not self._stack):
            where = f"at character {self._offset}"
            if self._offset == 0 or (state == _VALUE and not self._stack):
                return JsonInvalid(f"invalid JSON {where}: the output holds no JSON value")
            return JsonInvalid(f"invalid JSON {where}: the document is incomplete")
        try:
            value = msgspec.json.decode("".join(self._parts))
        except msgspec.DecodeError as exc:
            return JsonInvalid(f"invalid JSON: {exc}")
        return JsonOk(value)

    def _fail(self, position: int, problem: str) -> int:
        self._error = f"invalid JSON at character {self._offset + position}: {problem}"
        return -1

    def _run(self, text: str) -> None:
        i = 0
        n = len(text)
        while 0 <= i < n:
            state = self._state
            if state == _STRING:
                i = self._string(text, i, n)
            elif state >= _N_MINUS:
                i = self._number(text, i, n)
            elif state == _LITERAL:
                i = self._literal_chars(text, i, n)
            elif state >= _ESCAPE:
                i = self._escape(text, i)
            elif text[i] in _WS:
                match = _WS_RUN.match(text, i)
                i = match.end() if match is not None else i + 1
            else:
                i = self._structural(text, i)

    def _structural(self, text: str, i: int) -> int:
        char = text[i]
        state = self._state
        if state <= _VALUE_OR_CLOSE:
            if char == "]" and state == _VALUE_OR_CLOSE:
                return self._close(i)
            return self._begin_value(text, i)
        if state in (_KEY_OR_CLOSE, _KEY):
            if char == '"':
                self._state = _STRING
                self._in_key = True
                return i + 1
            if char == "}" and state == _KEY_OR_CLOSE:
                return self._close(i)
            problem = "trailing comma in object" if char == "}" else f"expected a string key, found {_show(char)}"
            return self._fail(i, problem)
        if state == _COLON:
            if char == ":":
                self._state = _VALUE
                return i + 1
            return self._fail(i, f"expected ':' after an object key, found {_show(char)}")
        if state == _AFTER_VALUE:
            top = self._stack[-1]
            if char == ",":
                self._state = _KEY if top == "{" else _VALUE
                return i + 1
            if (char == "}" and top == "{") or (char == "]" and top == "["):
                return self._close(i)
            closer = "}" if top == "{" else "]"
            return self._fail(i, f"expected ',' or '{closer}', found {_show(char)}")
        return self._fail(i, f"unexpected {_show(char)} after the end of the JSON document")

    def _begin_value(self, text: str, i: int) -> int:
        char = text[i]
        kind = _KIND_OF_FIRST.get(char)
        if kind is None:
            if char == "]" and self._state == _VALUE and self._stack:
                return self._fail(i, "trailing comma in array")
            return self._fail(i, f"expected {_EXPECTED[self._state]}, found {_show(char)}")
        if not self._stack and self._root_kinds is not None and kind not in self._root_kinds:
            allowed = " or ".join(sorted(self._root_kinds))
            return self._fail(i, f"the top-level value must be {allowed}, found {kind}")
        if char == "{" or char == "[":
            if len(self._stack) >= self._max_depth:
                return self._fail(i, f"nesting deeper than {self._max_depth} levels")
            self._stack.append(char)
            self._state = _KEY_OR_CLOSE if char == "{" else _VALUE_OR_CLOSE
            return i + 1
        if char == '"':
            self._state = _STRING
            self._in_key = False
            return i + 1
        if kind == "number":
            self._state = _N_MINUS if char == "-" else (_N_ZERO if char == "0" else _N_INT)
            return i + 1
        self._state = _LITERAL
        self._literal = _LITERALS[char][1:]
        return i + 1

    def _close(self, i: int) -> int:
        self._stack.pop()
        self._value_done()
        return i + 1

    def _value_done(self) -> None:
        self._state = _AFTER_VALUE if self._stack else _END

    def _string(self, text: str, i: int, n: int) -> int:
        match = _STRING_RUN.match(text, i)
        if match is not None:
            i = match.end()
            if i == n:
                return i
        char = text[i]
        if char == '"':
            if self._in_key:
                self._state = _COLON
            else:
                self._value_done()
            return i + 1
        if char == "\\":
            self._state = _ESCAPE
            return i + 1
        return self._fail(i, f"unescaped control character {_show(char)} in a string")

    def _escape(self, text: str, i: int) -> int:
        char = text[i]
        state = self._state
        if state == _ESCAPE:
            if char == "u":
                self._state = _UNICODE
                self._hex_left = 4
                self._unicode = 0
            elif char in _SIMPLE_ESCAPES and not self._pending_high:
                self._state = _STRING
            else:
                return self._escape_error(i, char)
            return i + 1
        if state == _UNICODE:
            if char not in _HEX:
                return self._fail(i, f"invalid \\u escape: {_show(char)} is not a hex digit")
            self._unicode = self._unicode * 16 + int(char, 16)
            self._hex_left -= 1
            if self._hex_left == 0:
                return self._code_unit_done(i)
            return i + 1
        if state == _LOW_BACKSLASH and char == "\\":
            self._state = _ESCAPE
            return i + 1
        # _LOW_BACKSLASH with another character: the high surrogate is alone.
        return self._fail(i, "a UTF-16 high surrogate escape must be followed by a low surrogate escape")

    def _escape_error(self, i: int, char: str) -> int:
        if self._pending_high:
            return self._fail(i, "a UTF-16 high surrogate escape must be followed by a low surrogate escape")
        return self._fail(i, f"invalid escape character {_show(char)} in a string")

    def _code_unit_done(self, i: int) -> int:
        unit = self._unicode
        is_low = 0xDC00 <= unit <= 0xDFFF
        if self._pending_high:
            if not is_low:
                return self._fail(i, "a UTF-16 high surrogate escape must be followed by a low surrogate escape")
            self._pending_high = False
            self._state = _STRING
        elif 0xD800 <= unit <= 0xDBFF:
            self._pending_high = True
            self._state = _LOW_BACKSLASH
        elif is_low:
            return self._fail(i, "lone UTF-16 low surrogate escape")
        else:
            self._state = _STRING
        return i + 1

    def _literal_chars(self, text: str, i: int, n: int) -> int:
        want = self._literal
        got = text[i : i + len(want)]
        if want.startswith(got):
            self._literal = want[len(got) :]
            if not self._literal:
                self._value_done()
            return i + len(got)
        for offset, (expected, actual) in enumerate(zip(want, got, strict=False)):
            if expected != actual:
                return self._fail(i + offset, f"invalid literal: expected {expected!r}, found {_show(actual)}")
        raise AssertionError("unreachable: a mismatch was not found")  # pragma: no cover

    def _number(self, text: str, i: int, n: int) -> int:
        state = self._state
        char = text[i]
        if state in (_N_INT, _N_FRAC, _N_EXP_DIGITS) and char in _DIGITS:
            match = _DIGIT_RUN.match(text, i)
            return match.end() if match is not None else i + 1
        if state in (_N_MINUS, _N_DOT, _N_EXP_SIGN, _N_EXP):
            if char in _DIGITS:
                self._state = {_N_MINUS: _N_ZERO if char == "0" else _N_INT, _N_DOT: _N_FRAC}.get(state, _N_EXP_DIGITS)
                return i + 1
            if state == _N_EXP and char in "+-":
                self._state = _N_EXP_SIGN
                return i + 1
            return self._fail(i, f"invalid number: expected a digit, found {_show(char)}")
        if char == "." and state in (_N_ZERO, _N_INT):
            self._state = _N_DOT
            return i + 1
        if char in "eE" and state != _N_EXP_DIGITS:
            self._state = _N_EXP
            return i + 1
        if char in _DIGITS:  # only _N_ZERO gets here
            return self._fail(i, "invalid number: leading zero")
        # The number ended; this character belongs to what follows, so it is not consumed.
        self._value_done()
        return i
