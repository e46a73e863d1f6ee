"""Lua sources for the Redis limit scripts, read from package data (no I/O at import time)."""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

__all__ = ["LimitScripts", "load_limit_scripts"]


class LimitScripts(NamedTuple):
    """Complete script texts (the shared library prepended to each)."""

    admit: str
    settle: str
    usage: str


def load_limit_scripts() -> LimitScripts:
    """Read ``lib.lua`` + each operation's body from the ``proxy.store.lua`` package."""
    package = resources.files("proxy.store.lua")
    lib = package.joinpath("lib.lua").read_text(encoding="utf-8")
    return LimitScripts(
        *(lib + "\n" + package.joinpath(f"{name}.lua").read_text(encoding="utf-8") for name in LimitScripts._fields)
    )
