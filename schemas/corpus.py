"""Corpus case Structs: the on-disk format of ``corpus/`` and of the eval CLI (DESIGN.md §6).

A case is one JSON object per line. The format is read by tools outside this repository,
so it is tolerant (extra fields are ignored) and the field names are fixed. Tensor Trust
cases carry the defence they beat as ``system_pre`` / ``system_post``: both belong in the
system slot, never concatenated into the user message.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["CorpusCase", "Label", "Vector"]

Label = Literal["attack", "benign"]
Vector = Literal["direct", "indirect"]


class CorpusCase(msgspec.Struct, frozen=True, kw_only=True):
    """One labelled injection-screen case."""

    id: str
    """Stable id, ``<source>-<n>``."""
    text: str
    """The user message (``direct``) or the untrusted document / tool result (``indirect``)."""
    label: Label
    category: str
    """Attack category (override, exfiltration, role_swap, ...) or a short benign word."""
    vector: Vector
    source: str
    system_pre: str | None = None
    """Tensor Trust: defence text placed in the system slot before the attack."""
    system_post: str | None = None
    """Tensor Trust: defence text placed in the system slot after the attack."""
