"""Prompt-injection screen: normalised text -> weighted rules + a small trained classifier -> score."""

from __future__ import annotations

__all__: list[str] = []
