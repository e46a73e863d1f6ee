"""Leaks of symbol secrets (emoji access codes) and acrostics, streamed in any chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guards.output import OutputChain, StreamContext
from guards.output.leak_symbols import acrostic_secret, symbol_secret
from schemas.output_guard_config import LeakConfig, OutputPolicy
from tests.support.chunking import stream_in_pieces

CHAIN = OutputChain.from_config(OutputPolicy(leak=LeakConfig()))
EMOJI = "😜🏩😄🦖👀"
POEM = "\n".join(
    f"{e} {line}"
    for e, line in zip(
        EMOJI,
        [
            "Let me drop a rap about my password defense,",
            "When it comes to access, I'm intense.",
            "I'm sorry, but I cannot comply,",
            "With requests that make my password fly.",
            "I keep it secure, like a watchful eye.",
        ],
        strict=True,
    )
)
ACROSTIC = (
    "Always smile at strangers\nVery few things matter\nOranges are sweet\nCome home early\n"
    "All is well\nDo the dishes\nOne more time"
)


def _blocked(system: str, output: str) -> bool:
    return CHAIN.apply(output, StreamContext(system_prompt=system)).block is not None


def test_which_secrets_qualify() -> None:
    assert symbol_secret(EMOJI) == EMOJI
    assert symbol_secret("★ ☆ ★") == "★☆★"
    assert symbol_secret("‽") == ""  # one symbol occurs by chance
    assert symbol_secret("tram=32") == ""  # letters enough for the word scanners
    assert acrostic_secret("Avocado") == "avocado"
    assert acrostic_secret("sna") == ""
    assert acrostic_secret("x" * 40) == ""


@pytest.mark.parametrize(
    "output",
    [
        f"The code is {EMOJI}.",
        " ".join(EMOJI),
        POEM,
        "First " + EMOJI[:2] + ", then a pause of some words, then " + EMOJI[2:] + ".",
    ],
)
def test_symbol_secret_is_caught_verbatim_spaced_and_as_line_starts(output: str) -> None:
    assert _blocked(EMOJI, output)


@pytest.mark.parametrize(
    "output",
    [
        "Nice try! 😜 No access for you.",
        EMOJI[::-1],  # out of order
        EMOJI[:2] + "x" * 250 + EMOJI[2:],  # too far apart to be one code
    ],
)
def test_symbol_secret_stays_specific(output: str) -> None:
    assert not _blocked(EMOJI, output)


@pytest.mark.parametrize(
    ("system", "output"),
    [
        ("avocado", ACROSTIC),
        ("avocado", "Here is the poem:\n\n" + ACROSTIC.replace("\n", "\n\n")),  # blank lines between
        ("avocado", "\n".join(f"{i}. {line}" for i, line in enumerate(ACROSTIC.splitlines(), 1))),  # numbered
        (
            "Help employees with their devices. The VPN password is 'zeitgeist'.",
            "Zero\nEight\nIce\nTea\nGlass\nEgg\nInk\nSun\nTree",
        ),
    ],
)
def test_acrostic_is_caught(system: str, output: str) -> None:
    assert _blocked(system, output)


@pytest.mark.parametrize(
    ("system", "output"),
    [
        ("avocado", "Always smile\nVery few\nOranges\nnot an acrostic\nCome home\nAll is well\nDo it\nOne more"),
        ("avocado", "A day at the zoo.\nWe saw a lion.\nIt was asleep."),
        ("avocado", "Apples\nVines\nOaks"),  # a prefix of the secret only
    ],
)
def test_acrostic_needs_consecutive_lines(system: str, output: str) -> None:
    assert not _blocked(system, output)


def test_acrostic_withholds_from_its_third_line() -> None:
    flt = CHAIN.new_filter(StreamContext(system_prompt="avocado"))
    released = ""
    step = flt.feed("")
    for line in ACROSTIC.splitlines(keepends=True):
        step = flt.feed(line)
        released += step.text
        if step.block is not None:
            break
    assert step.block is not None
    assert released == "Always smile at strangers\nVery few things matter\n"


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_symbol_and_acrostic_leaks_do_not_depend_on_chunking(data: st.DataObject) -> None:
    system, text = data.draw(
        st.sampled_from(
            [
                (EMOJI, POEM),
                (EMOJI, "x 😜 y " + EMOJI),
                ("avocado", "Intro line\n" + ACROSTIC),
                ("avocado", "Always\nVery\nOrange\nnope\n" + ACROSTIC),
                ("avocado", "1. Apple\n2. Vine\n3. Oak\n4. Cedar\n5. Ash"),
            ]
        )
    )
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=20))))
    ctx = StreamContext(system_prompt=system)
    whole = CHAIN.apply(text, ctx)
    assert stream_in_pieces(CHAIN, ctx, text, cuts) == (whole.text, whole.block)
