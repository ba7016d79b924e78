"""Consumer keys: who may read what from distribution, and how much (pure, no I/O but the file).

Each key has a **name** (the consumer: the label of its metrics and log lines, never
the key itself), **scopes** and **limits**. Scopes are words:

- surfaces: ``rest`` (sports, events, event detail, odds history, settlements),
  ``ws`` (the WebSocket push), ``history`` (bookmaker odds, history status,
  competitions, league tables), ``predictions`` (the model's prices: REST and the
  WebSocket's ``model`` frames), ``trading`` (the paper-trading endpoints);
- read-only operator views: ``ledger`` (``/v1/ledger/summary``) and ``metrics``
  (``/v1/access/usage``, every key's usage);
- sports: ``football``, ``basketball``, ``tennis``, ``ice_hockey``; a key naming none
  covers every sport;
- ``all``: every surface and operator view.

Two forms, as ingestion's provider keys (``docs/ingestion.md``):

- ``SPORTSFEED_DISTRIBUTION_API_KEYS``: ``name:key:scopes[:limits],...`` with scopes
  and limits separated by ``|`` (``analyst:KEY:rest|history|football:rate=20|connections=2``);
- ``SPORTSFEED_DISTRIBUTION_API_KEYS_FILE``: lines ``name key scopes [limit=value ...]``
  with scopes separated by ``,`` or ``|`` (``#`` comments); re-read on SIGHUP.

Limits (``rate``, ``burst``, ``connections``, ``subscriptions``) not given take the
service's defaults. Nothing here ever puts a key into an error message: a word that
could be a misplaced key (16 characters or more) is described, not quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from shared.enums import Sport
from shared.keys import KEY_CHARACTERS, MIN_KEY_LENGTH, digest, find_key, is_valid_key, key_file_lines

SURFACES = ("rest", "ws", "history", "predictions", "trading")
OPERATOR_VIEWS = ("ledger", "metrics")
SCOPES = (*SURFACES, *OPERATOR_VIEWS)
ALL = "all"
SPORT_NAMES = tuple(s.value for s in Sport)
LIMIT_NAMES = ("rate", "burst", "connections", "subscriptions")
NAME_RE = re.compile(r"^[a-z0-9_\-]{1,32}$")


class KeyConfigError(ValueError):
    """The consumer keys cannot be used as configured (the service must not start, or a
    reload keeps the keys it had)."""


@dataclass(frozen=True)
class Limits:
    """What one key may use: REST requests per second (a token bucket of ``burst``), and
    WebSocket connections and subscriptions (each sport or event followed counts one)."""

    rate: float
    burst: int
    connections: int
    subscriptions: int

    def as_dict(self) -> dict[str, float | int]:
        """The limits by name, as the API shows them."""
        return {"rate": self.rate, "burst": self.burst, "connections": self.connections,
                "subscriptions": self.subscriptions}


@dataclass(frozen=True)
class ConsumerKey:
    """One configured key: its name, its digest (the key itself is never kept), scopes, limits."""

    name: str
    digest: bytes = field(repr=False)
    scopes: frozenset[str]
    sports: frozenset[Sport] | None  # None: every sport
    limits: Limits

    def allows(self, scope: str) -> bool:
        """True when the key has this surface or operator view."""
        return scope in self.scopes

    def allows_sport(self, sport: Sport | str) -> bool:
        """True when the key covers the sport."""
        return self.sports is None or Sport(sport) in self.sports

    def same_access(self, other: ConsumerKey) -> bool:
        """True when ``other`` grants exactly the same scopes and sports."""
        return self.scopes == other.scopes and self.sports == other.sports

    def scope_words(self) -> list[str]:
        """The scopes as words (surfaces and views, then sports when limited)."""
        sports = sorted(s.value for s in self.sports) if self.sports is not None else []
        return [s for s in SCOPES if s in self.scopes] + sports

    def describe(self) -> str:
        """``name (scopes)`` for a log line: never the key."""
        return f"{self.name} ({', '.join(self.scope_words())})"


def _word(text: str) -> str:
    """A word of the configuration, quoted unless it could be a misplaced key."""
    if len(text) >= MIN_KEY_LENGTH:
        return f"a {len(text)}-character word (a key in the wrong place?)"
    return repr(text)


def parse_scopes(words: Iterable[str], *, where: str) -> tuple[frozenset[str], frozenset[Sport] | None]:
    """Scope words into (surfaces and views, sports or None for every sport)."""
    scopes: set[str] = set()
    sports: set[Sport] = set()
    for raw in words:
        word = raw.strip()
        if not word:
            continue
        if word == ALL:
            scopes.update(SCOPES)
        elif word in SCOPES:
            scopes.add(word)
        elif word in SPORT_NAMES:
            sports.add(Sport(word))
        else:
            raise KeyConfigError(
                f"{where}: unknown scope {_word(word)}; use {ALL}, {', '.join(SCOPES)} "
                f"or sports ({', '.join(SPORT_NAMES)})")
    if not scopes:
        raise KeyConfigError(f"{where}: the key names no surface ({ALL}, {', '.join(SCOPES)})")
    return frozenset(scopes), frozenset(sports) or None


def parse_limits(words: Iterable[str], defaults: Limits, *, where: str) -> Limits:
    """``rate=20``, ``burst=40``, ``connections=2``, ``subscriptions=500`` over the defaults."""
    values: dict[str, float | int] = {}
    for raw in words:
        word = raw.strip()
        if not word:
            continue
        name, sep, text = word.partition("=")
        if not sep or name not in LIMIT_NAMES:
            raise KeyConfigError(f"{where}: unknown limit {_word(word)}; use "
                                 f"{', '.join(n + '=N' for n in LIMIT_NAMES)}")
        try:
            value = float(text) if name == "rate" else int(text)
        except ValueError:
            raise KeyConfigError(f"{where}: limit {name} must be a number, not {_word(text)}") from None
        low = 1 if name in ("rate", "burst") else 0
        if not value >= low or value != value or value == float("inf"):
            raise KeyConfigError(f"{where}: limit {name} must be at least {low}")
        values[name] = value
    return replace(defaults, **values)  # type: ignore[arg-type]


def make_key(name: str, key: str, scopes: Iterable[str], limits: Iterable[str], defaults: Limits,
             *, where: str) -> ConsumerKey:
    """One key from its parts; raises :class:`KeyConfigError` naming what is wrong."""
    if not NAME_RE.match(name):
        raise KeyConfigError(f"{where}: key name {_word(name)} must match [a-z0-9_-]{{1,32}}")
    if not is_valid_key(key):
        raise KeyConfigError(f"{where}: the key of {name!r} must be at least {MIN_KEY_LENGTH} "
                             f"characters of {KEY_CHARACTERS}")
    surfaces, sports = parse_scopes(scopes, where=where)
    return ConsumerKey(name, digest(key), surfaces, sports, parse_limits(limits, defaults, where=where))


def parse_inline_keys(text: str, defaults: Limits) -> list[ConsumerKey]:
    """``name:key:scopes[:limits],...`` (the environment form; ``|`` separates words)."""
    keys = []
    for n, item in enumerate(p.strip() for p in text.split(",")):
        if not item:
            continue
        parts = item.split(":")
        where = f"API_KEYS entry {n + 1}"
        if len(parts) not in (3, 4):
            raise KeyConfigError(f"{where}: expected name:key:scopes[:limits]")
        limits = parts[3].split("|") if len(parts) == 4 else []
        keys.append(make_key(parts[0], parts[1], parts[2].split("|"), limits, defaults, where=where))
    return keys


def parse_keys_text(text: str, defaults: Limits, *, source: str) -> list[ConsumerKey]:
    """A keys file's text: ``name key scopes [limit=value ...]`` per line."""
    keys = []
    for n, parts in key_file_lines(text):
        where = f"{source}:{n}"
        if len(parts) < 3:
            raise KeyConfigError(f"{where}: expected 'name key scopes [limit=value ...]'")
        keys.append(make_key(parts[0], parts[1], re.split(r"[,|+]", parts[2]), parts[3:],
                             defaults, where=where))
    return keys


def read_keys_file(path: Path, defaults: Limits) -> list[ConsumerKey]:
    """The keys of a file (:func:`parse_keys_text`)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise KeyConfigError(f"consumer keys file {path}: {exc.strerror or exc}") from exc
    return parse_keys_text(text, defaults, source=str(path))


class KeyTable:
    """The configured keys: constant-time lookup by key, and by name."""

    def __init__(self, keys: Sequence[ConsumerKey]) -> None:
        self.keys = tuple(keys)
        names = [k.name for k in self.keys]
        if len(names) != len(set(names)):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise KeyConfigError(f"key names must be unique: {', '.join(twice)} named twice")
        if len({k.digest for k in self.keys}) != len(self.keys):
            raise KeyConfigError("the same consumer key is configured twice")
        self.by_name = {k.name: k for k in self.keys}

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, token: str) -> ConsumerKey | None:
        """The key ``token`` is, compared in constant time against every key."""
        return find_key(token, self.keys, lambda key: key.digest)

    def describe(self) -> str:
        """Every key's name and scopes, for the start-up log line."""
        return "; ".join(k.describe() for k in self.keys) or "none"
