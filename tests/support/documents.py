"""The shipped injection screen and parameters for tests that run ordinary documents through it."""

from __future__ import annotations

import pytest

from guards.injection.classifier import InjectionClassifier
from guards.injection.rules import default_rules_bytes, load_rules
from guards.injection.screen import InjectionScreen
from schemas.input_guard_config import InjectionPolicy

__all__ = ["SHIPPED_SCREEN", "document_params", "documents_of"]

SHIPPED_SCREEN = InjectionScreen(
    InjectionPolicy(), load_rules(default_rules_bytes()), InjectionClassifier.load_default()
)
"""The default policy, the shipped rules and the shipped classifier weights."""


def documents_of(lines: tuple[tuple[str, ...], ...]) -> list[str]:
    """Each document's lines joined; its first line is its title."""
    return ["\n".join(document) for document in lines]


def document_params(documents: list[str], known_false_positives: dict[str, str]) -> list[object]:
    """One pytest param per document, id'd by its title (first 30 characters).

    A document named in ``known_false_positives`` (title -> why) is a strict xfail: flagged today,
    kept visible, and the day it passes its mark must go.
    """
    params: list[object] = []
    for document in documents:
        title = document.split("\n", 1)[0][:30]
        reason = known_false_positives.get(title)
        marks = pytest.mark.xfail(strict=True, reason=reason) if reason is not None else ()
        params.append(pytest.param(document, id=title, marks=marks))
    return params
