"""Request-side guards: system-role policy, prompt templates, spotlighting, injection screening."""

from __future__ import annotations

__all__: list[str] = []
