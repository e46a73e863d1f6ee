"""The one dependency handlers take: the process's ``GatewayState``."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from proxy.state import GatewayState

__all__ = ["Gateway"]

Gateway: TypeAlias = NamedDependency[GatewayState]
"""Handler parameter type: ``gateway: Gateway`` is injected by name from the app's dependencies."""
