"""Fixtures of the load tests: one fake upstream process shared by the module, reset before each test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.fake_upstream import FakeUpstreamProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["upstream"]


@pytest.fixture(scope="module")
def _upstream_process() -> Iterator[FakeUpstreamProcess]:
    with FakeUpstreamProcess() as fake:
        yield fake


@pytest.fixture
def upstream(_upstream_process: FakeUpstreamProcess) -> FakeUpstreamProcess:
    """The fake OpenAI provider (a real process), with no records or scripts left by an earlier test."""
    _upstream_process.reset()
    return _upstream_process
