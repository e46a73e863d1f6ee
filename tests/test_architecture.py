"""Project rules no linter checks: module size, module docstrings, where the environment is read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("proxy", "guards", "schemas", "corpus", "fakeupstream", "bench")
MODULES = sorted(
    p
    for package in PACKAGES
    for p in (ROOT / package).rglob("*.py")
    if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)  # e.g. bench/.litellm-venv
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small_and_says_what_it_owns(path: Path) -> None:
    # (__all__ order is ruff's RUF022; here: what no linter checks.)
    source = path.read_text()
    assert source.count("\n") <= 400, "modules stay under about 400 lines: split it"
    assert ast.get_docstring(ast.parse(source)), "every module starts with a docstring saying what it owns"


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for path in MODULES:
        if path.parts[-2:] == ("proxy", "settings.py") or path.parent.name in ("bench", "fakeupstream"):
            continue
        source = path.read_text()
        if "os.environ" in source or "os.getenv" in source:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
