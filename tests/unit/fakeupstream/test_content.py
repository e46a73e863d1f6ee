"""Answer planning and token counting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fakeupstream.content import count_words, plan_answer, split_chunks, word_pieces
from fakeupstream.directives import Directive


@given(st.text(), st.integers(min_value=1, max_value=20))
def test_chunks_concatenate_to_the_text(text: str, chunks: int) -> None:
    pieces = word_pieces(text)
    out = split_chunks(pieces, chunks)
    if count_words(text):
        assert "".join(out) == text
        assert len(out) == min(chunks, count_words(text))
    else:
        assert out == ()


def test_default_is_one_chunk_per_word_and_echo() -> None:
    answer = plan_answer(Directive(), "hello  big\nworld ", prompt_tokens=9, max_tokens=None)
    assert answer.chunks == ("hello", "  big", "\nworld ")
    assert (answer.finish, answer.prompt_tokens, answer.completion_tokens) == ("stop", 9, 3)


def test_max_tokens_is_honoured() -> None:
    answer = plan_answer(Directive(words=10, chunks=2), "", prompt_tokens=1, max_tokens=4)
    assert "".join(answer.chunks) == "lorem ipsum dolor sit"
    assert len(answer.chunks) == 2
    assert (answer.finish, answer.completion_tokens) == ("length", 4)


def test_tool_call_counts_argument_words() -> None:
    answer = plan_answer(Directive(tool="lookup", args='{"q": "a b"}', chunks=3), "ignored", 1, None)
    assert answer.chunks == ()
    assert "".join(answer.tool_arg_chunks) == '{"q": "a b"}'
    assert len(answer.tool_arg_chunks) == 3
    assert (answer.finish, answer.completion_tokens) == ("tool", 3)
