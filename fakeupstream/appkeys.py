"""Typed keys for what the fake upstream keeps on its ``web.Application``."""

from __future__ import annotations

from aiohttp import web

from fakeupstream.state import State

__all__ = ["API_KEY", "STATE"]

STATE = web.AppKey("state", State)
"""The server's ``State``."""
API_KEY = web.AppKey("api_key", str)
"""When non-empty, the key every request must carry (``Authorization: Bearer`` or ``x-api-key``)."""
