"""The README's settings table names every setting the services read."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
MODULES = [
    "shared.settings",
    "services.ingestion.settings",
    "services.processors.settings",
    "services.distribution.settings",
    "services.history.settings",
    "services.pricing.settings",
    "services.trading.settings",
    "feedgen.settings",
]


def _variables() -> list[str]:
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, BaseSettings)):
                continue
            if value is BaseSettings or value.__module__ != module_name:
                continue
            prefix = value.model_config.get("env_prefix", "")
            for field, info in value.model_fields.items():
                nested = info.default_factory
                if isinstance(nested, type) and issubclass(nested, BaseSettings):
                    continue  # an embedded settings object, documented under its own prefix
                names.append(f"{prefix}{field.upper()}")
    return names


def _documented(variable: str) -> bool:
    """Named in a settings row, in full or as a sibling (`SPORTSFEED_X_HOST` / `_PORT`)."""
    for line in README.splitlines():
        if not line.startswith("| `SPORTSFEED_"):
            continue
        names = line.split("|")[1].split("`")[1::2]
        full = [n for n in names if n.startswith("SPORTSFEED_")]
        if variable in full:
            return True
        stem = full[0].rsplit("_", 1)[0] if full else ""
        while stem.count("_") >= 1:
            if any(n.startswith("_") and stem + n == variable for n in names):
                return True
            stem = stem.rsplit("_", 1)[0]
    return False


@pytest.mark.parametrize("variable", _variables())
def test_every_setting_is_in_the_readme(variable: str) -> None:
    assert _documented(variable), f"{variable} is not in README.md's settings table"


def test_an_undocumented_setting_is_noticed() -> None:
    assert not _documented("SPORTSFEED_INGESTION_NO_SUCH_SETTING")
