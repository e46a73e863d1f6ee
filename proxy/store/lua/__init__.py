"""Lua sources of the Redis limit scripts (package data, read by ``proxy.store.scripts``).

``lib.lua`` is prepended to each of ``admit.lua``, ``settle.lua`` and ``usage.lua``; each result is one script,
registered once per process and run with EVALSHA. Every key a script touches carries the tenant's hash tag
``{t:<tenant>}``, so each call runs on one Redis Cluster slot.
"""

from __future__ import annotations

__all__: list[str] = []
