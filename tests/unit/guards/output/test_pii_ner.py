"""The optional spaCy NER model: names and places redacted in sentence windows, chunk-independent, never downloaded.

No model is downloaded here: the tests save a small spaCy pipeline (``tests.support.ner``) and point
``pii.ner.model`` at its directory, which runs the same code path as an installed statistical model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guards.output import OutputChain, StreamContext
from guards.output.pii_ner import NerModelError
from schemas.output_guard_config import NerConfig, OutputPolicy, PIIConfig
from tests.support.chunking import stream_in_pieces
from tests.support.ner import save_tiny_model

if TYPE_CHECKING:
    from pathlib import Path

CTX = StreamContext()
TEXT = (
    "Maria Jensen moved to Copenhagen last spring. Write to maria@example.org if needed!\n"
    "The Danish team met Ole Berg in Aarhus? Yes. Nothing else here."
)
REDACTED = (
    "<PERSON> moved to <LOCATION> last spring. Write to <EMAIL_ADDRESS> if needed!\n"
    "The <NRP> team met <PERSON> in <LOCATION>? Yes. Nothing else here."
)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> OutputChain:
    model = save_tiny_model(tmp_path_factory.mktemp("ner") / "tiny")
    ner = NerConfig(model=str(model), max_sentence_chars=60)
    return OutputChain.from_config(OutputPolicy(pii=PIIConfig(ner=ner)))


def test_names_places_and_groups_are_redacted_next_to_pattern_entities(chain: OutputChain) -> None:
    step = chain.apply(TEXT, CTX)
    assert step.block is None
    assert step.text == REDACTED
    assert {f.entity for f in step.findings} == {"PERSON", "LOCATION", "NRP", "EMAIL_ADDRESS"}


def test_a_stream_is_released_a_sentence_at_a_time(chain: OutputChain) -> None:
    flt = chain.new_filter(CTX)
    assert flt.feed("Maria Jensen moved").text == ""  # the sentence is not complete: nothing is decided
    assert flt.feed(" to Copenhagen. Then").text == "<PERSON> moved to <LOCATION>."
    assert flt.finish().text == " Then"


def test_a_long_sentence_is_cut_at_whitespace(chain: OutputChain) -> None:
    text = "word " * 30 + "Maria Jensen"
    flt = chain.new_filter(CTX)
    # Windows of at most 60 characters, cut after a space, are decided without waiting for an end;
    # the last 42 characters could still grow into a longer sentence, so they wait.
    assert flt.feed(text).text == "word " * 24
    assert flt.finish().text == "word " * 6 + "<PERSON>"


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_output_does_not_depend_on_chunking(chain: OutputChain, data: st.DataObject) -> None:
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(TEXT) - 1), max_size=25))))
    assert stream_in_pieces(chain, CTX, TEXT, cuts) == (REDACTED, None)


def test_a_missing_model_is_refused_and_never_downloaded(tmp_path: Path) -> None:
    missing = NerConfig(model=str(tmp_path / "no-such-model"))
    with pytest.raises(NerModelError, match="never downloaded"):
        OutputChain.from_config(OutputPolicy(pii=PIIConfig(ner=missing)))
    with pytest.raises(NerModelError, match="not installed"):
        OutputChain.from_config(OutputPolicy(pii=PIIConfig(ner=NerConfig(model="xx_no_such_spacy_package"))))
