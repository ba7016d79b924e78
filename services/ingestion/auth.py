"""Provider authentication: bearer API keys, one or more per provider.

Keys come from ``SPORTSFEED_INGESTION_API_KEYS`` (``provider:key,provider2:key2``) and/or
the file ``SPORTSFEED_INGESTION_API_KEYS_FILE`` (lines ``provider key``). Either form may
restrict a key to some formats: ``provider:key:json|uof`` or ``provider key json,uof``.

A presented key is compared with *every* configured key, each through
``hmac.compare_digest`` on SHA-256 digests (equal lengths, so not even the key's length
leaks), and the loop never exits early: the time taken says nothing about which
provider, if any, the key belongs to.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from services.ingestion.errors import ConfigError
from services.ingestion.settings import IngestionSettings

FORMATS = frozenset({"json", "xml", "uof"})
_PROVIDER_RE = re.compile(r"^[a-z0-9_\-]{1,32}$")
# RFC 6750 b64token: what a bearer token may be made of.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
MIN_KEY_LENGTH = 16


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


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


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
    if len(key) < MIN_KEY_LENGTH or not _TOKEN_RE.match(key):
        raise ConfigError(
            f"{where}: the key of provider {provider!r} must be at least {MIN_KEY_LENGTH} "
            "characters of A-Z a-z 0-9 - . _ ~ + /"
        )
    return ApiKey(provider, _digest(key), _parse_formats(formats, where=where))


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
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
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
        presented = _digest(token)
        found: ApiKey | None = None
        for key in self._keys:
            # No early exit: every key is compared whatever matched before.
            if hmac.compare_digest(presented, key.digest):
                found = key
        return found

    def authenticate(self, header: str | None, fmt: str) -> str | AuthFailure:
        """The provider for an ``Authorization: Bearer <key>`` header, or why not."""
        if not header:
            return AuthFailure.MISSING
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not _TOKEN_RE.match(token):
            return AuthFailure.MALFORMED
        key = self.lookup(token)
        if key is None:
            return AuthFailure.UNKNOWN_KEY
        if fmt not in key.formats:
            return AuthFailure.FORBIDDEN_ROUTE
        return key.provider
