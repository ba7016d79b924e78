"""Provider API keys: configuration, constant-time lookup, 401 vs 403."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.ingestion.auth import (
    ApiKeys,
    AuthFailure,
    load_api_keys,
    parse_inline_keys,
    parse_keys_file,
)
from services.ingestion.errors import ConfigError
from services.ingestion.settings import IngestionSettings

KEY_A = "a" * 24
KEY_B = "b" * 24


def _settings(**values: object) -> IngestionSettings:
    return IngestionSettings(**values)  # type: ignore[arg-type]


def test_inline_keys_map_each_key_to_its_provider() -> None:
    keys = ApiKeys(parse_inline_keys(f"acme:{KEY_A}, beta:{KEY_B}"))
    assert keys.authenticate(f"Bearer {KEY_A}", "json") == "acme"
    assert keys.authenticate(f"Bearer {KEY_B}", "xml") == "beta"
    assert keys.providers == {"acme", "beta"}


def test_keys_file_lines_with_comments_and_formats(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# provider key [formats]\nacme {KEY_A}\n\nbeta {KEY_B} uof  # UOF only\n")
    keys = ApiKeys(parse_keys_file(path))
    assert keys.authenticate(f"Bearer {KEY_A}", "xml") == "acme"
    assert keys.authenticate(f"Bearer {KEY_B}", "uof") == "beta"
    assert keys.authenticate(f"Bearer {KEY_B}", "json") is AuthFailure.FORBIDDEN_ROUTE


def test_inline_and_file_keys_combine(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"beta {KEY_B}\n")
    keys = load_api_keys(_settings(api_keys=SecretStr(f"acme:{KEY_A}"), api_keys_file=path))
    assert keys.providers == {"acme", "beta"}


def test_no_keys_configured_refuses_to_start_naming_the_variables() -> None:
    with pytest.raises(ConfigError, match="SPORTSFEED_INGESTION_API_KEYS"):
        load_api_keys(_settings(api_keys=None, api_keys_file=None))


def test_missing_keys_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="API keys file"):
        load_api_keys(_settings(api_keys_file=tmp_path / "absent"))


@pytest.mark.parametrize(
    "text",
    ["acme:short", "Acme Corp:" + KEY_A, "acme", f"acme:{KEY_A}:csv", f"acme:{KEY_A}:json:x"],
)
def test_invalid_key_entries_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_inline_keys(text)


def test_the_same_key_twice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="twice"):
        ApiKeys(parse_inline_keys(f"acme:{KEY_A},beta:{KEY_A}"))


@pytest.mark.parametrize(
    ("header", "failure"),
    [
        (None, AuthFailure.MISSING),
        ("", AuthFailure.MISSING),
        (f"Basic {KEY_A}", AuthFailure.MALFORMED),
        ("Bearer", AuthFailure.MALFORMED),
        ("Bearer a b c", AuthFailure.MALFORMED),
        ("Bearer \u00e9\u00e9\u00e9\u00e9", AuthFailure.MALFORMED),
        ("Bearer " + "c" * 24, AuthFailure.UNKNOWN_KEY),
        ("Bearer " + KEY_A[:-1], AuthFailure.UNKNOWN_KEY),
    ],
)
def test_authentication_failures(header: str | None, failure: AuthFailure) -> None:
    keys = ApiKeys(parse_inline_keys(f"acme:{KEY_A}"))
    assert keys.authenticate(header, "json") is failure


def test_missing_and_malformed_are_401_unknown_and_forbidden_are_403() -> None:
    assert AuthFailure.MISSING.status == 401
    assert AuthFailure.MALFORMED.status == 401
    assert AuthFailure.UNKNOWN_KEY.status == 403
    assert AuthFailure.FORBIDDEN_ROUTE.status == 403


def test_every_configured_key_is_compared_even_after_a_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    keys = ApiKeys(parse_inline_keys(f"acme:{KEY_A},beta:{KEY_B},gamma:{'g' * 20}"))
    assert keys.authenticate(f"Bearer {KEY_A}", "json") == "acme"  # the first key matches
    assert len(calls) == 3
    # Digests of equal length: not even the key's length can leak through timing.
    assert {len(a) for a, _ in calls} == {len(b) for _, b in calls} == {32}
