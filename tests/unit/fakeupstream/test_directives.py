"""Directive parsing and merging."""

from __future__ import annotations

import base64

import pytest

from fakeupstream.directives import DirectiveError, merge_settings, parse_directive, split_settings
from fakeupstream.state import State


def test_model_name_segments_parse_into_a_directive() -> None:
    directive = parse_directive(split_settings("fake;chunks=5;delay_ms=20;fault=drop_after:3", skip_name=True))
    assert directive.chunks == 5
    assert directive.delay_ms == 20.0
    assert (directive.fault, directive.fault_arg) == ("drop_after", 3)
    assert directive.key == "chunks=5;delay_ms=20;fault=drop_after:3"


def test_base64_content_may_hold_semicolons() -> None:
    text = 'a;b=c; {"x": 1}'
    encoded = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    directive = parse_directive(split_settings(f"fake;content_b64={encoded}", skip_name=True))
    assert directive.content == text


@pytest.mark.parametrize(
    "text",
    [
        "fake;bogus=1",
        "fake;chunks=x",
        "fake;fault=explode",
        "fake;fault=drop_after",
        "fake;chunks",
        "fake;chunks=0",
        "fake;finish=maybe",
        "fake;content_b64=!!!",
        "fake;delay_ms=-1",
    ],
)
def test_bad_directives_are_rejected(text: str) -> None:
    with pytest.raises(DirectiveError):
        parse_directive(split_settings(text, skip_name=True))


def test_later_layers_win_key_by_key() -> None:
    merged = merge_settings({"chunks": "2", "delay_ms": "5"}, {"chunks": "3"}, {"words": "9"})
    assert merged == {"chunks": "3", "delay_ms": "5", "words": "9"}


def test_state_merges_default_then_queue_then_model() -> None:
    state = State()
    state.set_script("chunks=2;words=4")
    state.set_script("chunks=7", count=1)
    _, first, _ = state.begin("/p", "fake;words=1", True, None)
    _, second, _ = state.begin("/p", "fake", True, None)
    assert (first.chunks, first.words) == (7, 1)
    assert (second.chunks, second.words) == (2, 4)


def test_fail_first_counts_per_directive() -> None:
    state = State()
    failing = [state.begin("/p", "fake;fail_first=2", False, None)[2] for _ in range(4)]
    other = state.begin("/p", "fake;fail_first=2;chunks=1", False, None)[2]
    assert failing == [True, True, False, False]
    assert other is True
    state.reset()
    assert state.begin("/p", "fake;fail_first=2", False, None)[2] is True
