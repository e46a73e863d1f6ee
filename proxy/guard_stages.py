"""Adapters from the pure guard layers to the request path's stage protocols (``proxy.state``).

Built once per config: one input stage and one output stage per guard policy, and the
structured-output stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proxy.state import InputStage, OutputStage, StructuredStage
    from schemas.config import GatewayConfig

__all__ = ["build_stages"]


def build_stages(
    config: GatewayConfig,
) -> tuple[dict[str, InputStage], dict[str, OutputStage], StructuredStage | None]:
    """Build the guard stages of every guard policy."""
    return {}, {}, None
