"""Shared test doubles and helpers (private Redis servers, ...)."""

from __future__ import annotations

__all__: list[str] = []
