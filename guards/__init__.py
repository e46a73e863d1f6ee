"""Pure, synchronous text inspection; imports schemas only."""

from __future__ import annotations

__all__: list[str] = []
