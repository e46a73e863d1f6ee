"""Fixtures for the fake upstream's own tests."""

from __future__ import annotations

from tests.support.fake_upstream import fake_upstream

__all__ = ["fake_upstream"]
