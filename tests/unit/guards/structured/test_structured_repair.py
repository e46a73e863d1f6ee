"""build_repair_messages: one repair turn carrying the bad output and the precise errors."""

from __future__ import annotations

import pytest

from guards.structured.repair import build_repair_messages

ORIGINAL: list[dict[str, object]] = [
    {"role": "system", "content": "Extract the person."},
    {"role": "user", "content": "Ada Lovelace, 36."},
]


def test_repair_turns_follow_the_original_conversation() -> None:
    messages = build_repair_messages(
        ORIGINAL, '{"name": "Ada", "age": "36"}', ["$.age: '36' is not of type 'integer'"], schema_name="person"
    )
    assert messages[:2] == ORIGINAL
    assert messages[2] == {"role": "assistant", "content": '{"name": "Ada", "age": "36"}'}
    assert messages[3]["role"] == "user"
    text = messages[3]["content"]
    assert isinstance(text, str)
    assert 'does not conform to the JSON schema "person"' in text
    assert "- $.age: '36' is not of type 'integer'" in text
    assert "only the corrected JSON document" in text
    assert "Markdown code fences" in text
    assert len(messages) == 4


def test_input_is_not_mutated_and_dicts_are_copies() -> None:
    original = [dict(message) for message in ORIGINAL]
    messages = build_repair_messages(
        original, "oops", ["invalid JSON at character 0: expected a JSON value, found 'o'"]
    )
    assert original == ORIGINAL
    assert messages[0] is not original[0]
    messages[0]["content"] = "changed"
    assert original[0]["content"] == "Extract the person."


def test_empty_output_gets_no_assistant_turn() -> None:
    messages = build_repair_messages(ORIGINAL, "  \n", ["invalid JSON at character 3: the output holds no JSON value"])
    assert [message["role"] for message in messages] == ["system", "user", "user"]
    text = messages[-1]["content"]
    assert isinstance(text, str)
    assert text.startswith("Your previous reply was empty.")
    assert "the required JSON format" in text


def test_error_list_is_capped() -> None:
    errors = [f"$.items[{i}]: bad" for i in range(25)]
    text = build_repair_messages(ORIGINAL, "[]", errors, max_errors=3)[-1]["content"]
    assert isinstance(text, str)
    assert "$.items[2]: bad" in text
    assert "$.items[3]: bad" not in text
    assert "... and 22 more problem(s)" in text


def test_nothing_to_repair_is_a_bug() -> None:
    with pytest.raises(ValueError, match="at least one validation error"):
        build_repair_messages(ORIGINAL, "{}", [])
