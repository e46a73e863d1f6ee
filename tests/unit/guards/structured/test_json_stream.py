"""JsonStreamChecker: verdicts, first-error reporting, and chunking invariance against msgspec."""

from __future__ import annotations

import itertools
import re

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guards.structured.json_stream import JsonInvalid, JsonOk, JsonStreamChecker, value_kind

_OFFSET = re.compile(r"at character (\d+)")

# Fragments that exercise every corner of the grammar when glued together at random.
_FRAGMENTS = [
    "{", "}", "[", "]", ",", ":", '"', '"k"', '"v"', "\\", "\\u", "\\n", "\\x", "d83d", "\\ud83d", "\\ude00",
    "\\udc00", "00e9", "true", "tru", "false", "null", "nul", "0", "1", "12", "-", ".", "5", "e", "E", "+", " ",
    "\n", "\t", "\x01", "a", "\u00e9", "\U0001f600", "01", "-0", "1.5e+3",
]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)


def _ascii_escape(text: str) -> str:
    """Write every non-ASCII character as \\u escapes (surrogate pairs above the BMP)."""
    out = []
    for char in text:
        code = ord(char)
        if code < 0x80:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
    return "".join(out)


@st.composite
def documents(draw: st.DrawFn) -> str:
    text = msgspec.json.encode(draw(json_values)).decode()
    indent = draw(st.sampled_from([None, 0, 2]))
    if indent is not None:
        text = msgspec.json.format(text, indent=indent)
    if draw(st.booleans()):
        text = _ascii_escape(text)
    return draw(st.sampled_from(["", " ", "\n"])) + text + draw(st.sampled_from(["", " ", "\r\n"]))


@st.composite
def corrupted(draw: st.DrawFn) -> str:
    text = draw(documents())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        pos = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        fragment = draw(st.sampled_from(_FRAGMENTS))
        if action == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif action == "insert":
            text = text[:pos] + fragment + text[pos:]
        elif action == "replace":
            text = text[:pos] + fragment + text[pos + 1 :]
        else:
            text = text[:pos]
    return text


soup = st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join)
any_text = documents() | corrupted() | soup


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(cut % (len(text) + 1) for cut in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


def _check(pieces: list[str], **options: object) -> tuple[list[str | None], JsonOk | JsonInvalid]:
    checker = JsonStreamChecker(**options)  # type: ignore[arg-type]
    feeds = [checker.feed(piece) for piece in pieces]
    return feeds, checker.finish()


def _msgspec_valid(text: str) -> bool:
    try:
        msgspec.json.decode(text)
    except msgspec.DecodeError:
        return False
    return True


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(text=any_text, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_verdict_is_independent_of_chunking_and_agrees_with_msgspec(text: str, cuts: list[int]) -> None:
    _, whole = _check([text])
    feeds, chunked = _check(_split(text, cuts))
    one_char_feeds, per_char = _check(list(text))
    assert chunked == whole == per_char
    # The feed error, once raised, is sticky and equal to the final verdict.
    assert feeds[-1:] == one_char_feeds[-1:] or not text
    if isinstance(whole, JsonOk):
        assert _msgspec_valid(text)
        assert whole.value == msgspec.json.decode(text)
    else:
        assert not _msgspec_valid(text)
        if whole.message.startswith("invalid JSON: "):
            # The grammar accepted it and only the final decode refused: the one gap the
            # state machine leaves is a number outside float range.
            assert "out of range" in whole.message


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=corrupted() | soup)
def test_error_is_reported_at_the_first_offending_character(text: str) -> None:
    checker = JsonStreamChecker()
    error = checker.feed(text)
    if error is None:
        return
    match = _OFFSET.search(error)
    assert match is not None
    offset = int(match.group(1))
    assert offset < len(text)
    assert JsonStreamChecker().feed(text[:offset]) is None
    assert JsonStreamChecker().feed(text[: offset + 1]) == error


@settings(max_examples=200)
@given(text=documents())
def test_no_prefix_of_a_valid_document_is_an_error(text: str) -> None:
    checker = JsonStreamChecker()
    assert all(checker.feed(char) is None for char in text)
    assert isinstance(checker.finish(), JsonOk)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, -0, 0.5, 1e5, 1E+2, 2e-3, true, false, null, "x\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"]}',
        '"\\ud83d\\ude00"',
        " 0 ",
        "-12.5e10",
        "[]",
        "{}",
        '{"": {}}',
        '"\x7f"',
    ],
)
def test_valid_documents(text: str) -> None:
    feeds, result = _check(list(text))
    assert feeds == [None] * len(text)
    assert result == JsonOk(msgspec.json.decode(text))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[1,]", "at character 3: trailing comma in array"),
        ('{"a":1,}', "at character 7: trailing comma in object"),
        ("01", "at character 1: invalid number: leading zero"),
        ("1.", "the document is incomplete"),
        (".5", "at character 0: expected a JSON value, found '.'"),
        ("-", "the document is incomplete"),
        ("-a", "at character 1: invalid number: expected a digit"),
        ("1e", "the document is incomplete"),
        ("1e+x", "at character 3: invalid number"),
        ("tru", "the document is incomplete"),
        ("trUe", "at character 2: invalid literal: expected 'u', found 'U'"),
        ("NaN", "at character 0: expected a JSON value, found 'N'"),
        ('"a\x01"', "at character 2: unescaped control character U+0001"),
        ('"\\x"', "at character 2: invalid escape character 'x'"),
        ('"\\u12g4"', "at character 5: invalid \\u escape: 'g' is not a hex digit"),
        ('"\\ud800"', "at character 7: a UTF-16 high surrogate"),
        ('"\\ud800\\n"', "at character 8: a UTF-16 high surrogate"),
        ('"\\ud800\\u0041"', "at character 12: a UTF-16 high surrogate"),
        ('"\\udc00"', "at character 6: lone UTF-16 low surrogate escape"),
        ("{} {}", "at character 3: unexpected '{' after the end of the JSON document"),
        ('{"a" 1}', "at character 5: expected ':' after an object key, found '1'"),
        ("{1: 2}", "at character 1: expected a string key, found '1'"),
        ("[1 2]", "at character 3: expected ',' or ']', found '2'"),
        ('{"a": 1]', "at character 7: expected ',' or '}', found ']'"),
        ("\ufeff{}", "at character 0: expected a JSON value, found"),
        ("```json\n{}\n```", "at character 0: expected a JSON value, found '`'"),
        ("", "the output holds no JSON value"),
        ("  \n", "the output holds no JSON value"),
        ("[[", "the document is incomplete"),
        ('{"a": "b', "the document is incomplete"),
        ("1e400", "out of range"),
    ],
)
def test_invalid_documents(text: str, fragment: str) -> None:
    whole_feeds, whole = _check([text])
    feeds, per_char = _check(list(text))
    assert isinstance(whole, JsonInvalid)
    assert fragment in whole.message
    assert per_char == whole
    # Errors with a position are raised by feed() already; the others only at finish().
    expected_feed_error = whole.message if "at character" in fragment else None
    assert whole_feeds == [expected_feed_error]
    assert feeds[-1:] == ([expected_feed_error] if text else [])
    assert not _msgspec_valid(text)


def test_error_is_returned_immediately_and_stays() -> None:
    checker = JsonStreamChecker()
    assert checker.feed('{"a": ') is None
    before = checker.error
    assert before is None
    error = checker.feed("1 x")
    assert error == "invalid JSON at character 8: expected ',' or '}', found 'x'"
    assert checker.feed("}") == error
    assert checker.error == error
    assert checker.finish() == JsonInvalid(error)


def test_tokens_split_across_chunks() -> None:
    checker = JsonStreamChecker()
    for piece in [
        '{"k',
        'ey": [tr',
        "ue, fa",
        "lse, n",
        "ull, -1",
        "2.",
        "5e",
        "-3, ",
        '"\\u',
        "d83d\\",
        "ude00",
        '"]}',
    ]:
        assert checker.feed(piece) is None, piece
    assert checker.finish() == JsonOk({"key": [True, False, None, -12.5e-3, "\U0001f600"]})


@pytest.mark.parametrize(
    ("kinds", "text", "ok"),
    [
        ({"object"}, '{"a": 1}', True),
        ({"object"}, "[1]", False),
        ({"object"}, ' "x"', False),
        ({"array", "null"}, "null", True),
        ({"number"}, "-1", True),
        ({"boolean"}, "false", True),
        ({"string"}, "1", False),
    ],
)
def test_root_kinds_reject_the_first_character(kinds: set[str], text: str, ok: bool) -> None:
    checker = JsonStreamChecker(root_kinds=kinds)
    error = checker.feed(text)
    if ok:
        assert error is None
        assert isinstance(checker.finish(), JsonOk)
    else:
        assert error is not None
        assert "the top-level value must be" in error
        assert f"at character {len(text) - len(text.lstrip())}" in error


def test_root_kinds_do_not_apply_to_nested_values() -> None:
    checker = JsonStreamChecker(root_kinds={"object"})
    assert checker.feed('{"a": [1, "x", null]}') is None
    assert checker.finish() == JsonOk({"a": [1, "x", None]})


def test_max_depth() -> None:
    assert JsonStreamChecker(max_depth=3).feed("[[[]]]") is None
    error = JsonStreamChecker(max_depth=3).feed('[{"a": [[')
    assert error == "invalid JSON at character 8: nesting deeper than 3 levels"


@pytest.mark.parametrize(
    ("value", "kind"),
    [(None, "null"), (True, "boolean"), (1, "number"), (1.5, "number"), ("", "string"), ([], "array"), ({}, "object")],
)
def test_value_kind(value: object, kind: str) -> None:
    assert value_kind(value) == kind


def test_large_document_in_tiny_chunks() -> None:
    doc = msgspec.json.encode([{"id": i, "name": f"item {i}", "tags": ["a", "b"], "score": i / 7} for i in range(2000)])
    text = doc.decode()
    checker = JsonStreamChecker()
    for start in range(0, len(text), 3):
        assert checker.feed(text[start : start + 3]) is None
    result = checker.finish()
    assert isinstance(result, JsonOk)
    assert result.value == msgspec.json.decode(doc)
