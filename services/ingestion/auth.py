"""Provider authentication: bearer API keys, one or more per provider.

Keys come from ``SPORTSFEED_INGESTION_API_KEYS`` (``provider:key,provider2:key2``) and/or
the file ``SPORTSFEED_INGESTION_API_KEYS_FILE`` (lines ``provider key``). Either form may
restrict a key to some formats: ``provider:key:json|uof`` or ``provider key json,uof``.

A presented key is compared with *every* configured key in constant time
(:func:`shared.keys.find_key`, which distribution's consumer keys use too): the time
taken says nothing about which provider, if any, the key belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from services.ingestion.errors import ConfigError
from services.ingestion.settings import IngestionSettings
from shared.keys import (
    KEY_CHARACTERS,
    MIN_KEY_LENGTH,
    BearerProblem,
    bearer_token,
    digest,
    find_key,
    is_valid_key,
    key_file_lines,
)

FORMATS = frozenset({"json", "xml", "uof"})
_PROVIDER_RE = re.compile(r"^[a-z0-9_\-]{1,32}$")


@dataclass(frozen=True)
class ApiKey:
    """One configured key: whose it is, its digest, and which formats it may post."""

    provider: str
    digest: bytes
    formats: frozenset[str]


class AuthFailure(Enum):
    """Why a request was not authenticated (401 for the first two, 403 for the others)."""

    MISSING = "missing bearer token"
    MALFORMED = "malformed bearer token"
    UNKNOWN_KEY = "unknown API key"
    FORBIDDEN_ROUTE = "API key not allowed for this format"

    @property
    def status(self) -> int:
        """The HTTP status for this failure."""
        return 401 if self in (AuthFailure.MISSING, AuthFailure.MALFORMED) else 403


def _parse_formats(text: str, *, where: str) -> frozenset[str]:
    if not text:
        return FORMATS
    formats = frozenset(f.strip().lower() for f in re.split(r"[|,+]", text) if f.strip())
    unknown = formats - FORMATS
    if unknown or not formats:
        raise ConfigError(f"{where}: unknown format(s) {sorted(unknown)}; use json, xml, uof")
    return formats


def _make_key(provider: str, key: str, formats: str, *, where: str) -> ApiKey:
    if not _PROVIDER_RE.match(provider):
        raise ConfigError(f"{where}: provider name {provider!r} must match [a-z0-9_-]{{1,32}}")
    if not is_valid_key(key):
        raise ConfigError(
            f"{where}: the key of provider {provider!r} must be at least {MIN_KEY_LENGTH} "
            f"characters of {KEY_CHARACTERS}"
        )
    return ApiKey(provider, digest(key), _parse_formats(formats, where=where))


def parse_inline_keys(text: str) -> list[ApiKey]:
    """Parse ``provider:key[:formats],...`` (the environment form)."""
    keys = []
    for n, item in enumerate(p.strip() for p in text.split(",")):
        if not item:
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3):
            raise ConfigError(f"API_KEYS entry {n + 1}: expected provider:key[:formats]")
        formats = parts[2] if len(parts) == 3 else ""
        keys.append(_make_key(parts[0], parts[1], formats, where=f"API_KEYS entry {n + 1}"))
    return keys


def parse_keys_file(path: Path) -> list[ApiKey]:
    """Parse a keys file: ``provider key [formats]`` per line, ``#`` comments allowed."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"API keys file {path}: {exc.strerror or exc}") from exc
    keys = []
    for n, parts in key_file_lines(text):
        if len(parts) not in (2, 3):
            raise ConfigError(f"{path}:{n}: expected 'provider key [formats]'")
        formats = parts[2] if len(parts) == 3 else ""
        keys.append(_make_key(parts[0], parts[1], formats, where=f"{path}:{n}"))
    return keys


def load_api_keys(settings: IngestionSettings) -> ApiKeys:
    """Build the key table from the settings; raises :class:`ConfigError` if there is none."""
    keys: list[ApiKey] = []
    if settings.api_keys is not None:
        keys += parse_inline_keys(settings.api_keys.get_secret_value())
    if settings.api_keys_file is not None:
        keys += parse_keys_file(settings.api_keys_file)
    if not keys:
        raise ConfigError(
            "no provider API keys configured: set SPORTSFEED_INGESTION_API_KEYS="
            "'provider:key' or SPORTSFEED_INGESTION_API_KEYS_FILE=<file of 'provider key' lines>"
        )
    return ApiKeys(keys)


class ApiKeys:
    """The configured keys; :meth:`authenticate` maps an Authorization header to a provider."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys = tuple(keys)
        digests = [k.digest for k in self._keys]
        if len(digests) != len(set(digests)):
            raise ConfigError("the same API key is configured twice")
        if not self._keys:
            raise ConfigError("no provider API keys configured")

    @property
    def providers(self) -> frozenset[str]:
        """Every provider that has a key."""
        return frozenset(k.provider for k in self._keys)

    def lookup(self, token: str) -> ApiKey | None:
        """The key matching ``token``, compared in constant time against all keys."""
        return find_key(token, self._keys, lambda key: key.digest)

    def authenticate(self, header: str | None, fmt: str) -> str | AuthFailure:
        """The provider for an ``Authorization: Bearer <key>`` header, or why not."""
        token = bearer_token(header)
        if token is BearerProblem.MISSING:
            return AuthFailure.MISSING
        if token is BearerProblem.MALFORMED:
            return AuthFailure.MALFORMED
        key = self.lookup(token)
        if key is None:
            return AuthFailure.UNKNOWN_KEY
        if fmt not in key.formats:
            return AuthFailure.FORBIDDEN_ROUTE
        return key.provider
