"""A small saved spaCy pipeline for the NER tests: no model is ever downloaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import spacy

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["save_tiny_model"]


def save_tiny_model(path: Path) -> Path:
    """A spaCy pipeline whose "NER" is an entity ruler (deterministic, small), saved at ``path``.

    Tags Maria Jensen and Ole Berg as PERSON, Copenhagen and Aarhus as GPE, Danish as NORP. It runs
    the same code path (``spacy.load`` of a directory, Presidio's ``SpacyNlpEngine``) as an installed
    statistical model.
    """
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(  # type: ignore[attr-defined]
        [
            {"label": "PERSON", "pattern": "Maria Jensen"},
            {"label": "PERSON", "pattern": "Ole Berg"},
            {"label": "GPE", "pattern": "Copenhagen"},
            {"label": "GPE", "pattern": "Aarhus"},
            {"label": "NORP", "pattern": "Danish"},
        ]
    )
    nlp.to_disk(path)
    return path
