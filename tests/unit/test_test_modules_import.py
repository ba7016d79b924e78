"""Every test and support module imports: mypy does not read ``tests/``, and a module that
imports a name no longer there fails only at collection, after the stack is up."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
    for path in TESTS.rglob("*.py")
)


def test_the_tests_folder_is_found() -> None:
    assert "tests.support.ports" in MODULES
    assert len(MODULES) > 100


@pytest.mark.parametrize("module", MODULES)
def test_module_imports(module: str) -> None:
    importlib.import_module(module)
