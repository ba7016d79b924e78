"""Query parameters: parsed and checked once, or a 400 that names the parameter.

Pure functions over a mapping of strings (``request.query``), unit tested without a
server. What they accept is exactly what the OpenAPI document says (its patterns are
the ones here): the schemathesis test holds them to it both ways. Lists are
comma-separated with no spaces; a range whose ``to`` precedes its ``from`` is empty.
A cursor is the last row's ``(time, id)`` as ``<microseconds since 1970>~<id>``, which
the next page continues after (keyset paging: stable under inserts, no duplicates, no
gaps). Clients treat it as opaque; every string of its pattern is a position the server
accepts, so the document can say exactly what it takes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from shared.markets import normalise_market_key

E = TypeVar("E", bound=StrEnum)
MAX_LIST = 50
MIN_YEAR, MAX_YEAR = 1970, 9998
ID_RE = re.compile(r"[A-Za-z0-9:_.\-]{1,64}")
# An RFC 3339 time whose year (as written) is 1970-9998: the database's range, with room
# for any offset.
TIME_PATTERN = (r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[0-9]{2}-[0-9]{2}"
                r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")
# Cursors: microseconds since 1970 (at most 17 digits: into the 5100s), "~", the row's id.
CURSOR_PATTERN = r"^[0-9]{1,17}~[A-Za-z0-9:_.\-]{1,64}$"
BET_CURSOR_PATTERN = r"^[0-9]{1,17}~[0-9]{1,18}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A market key: its type, then specifiers (``|name=value``), no name twice; at most 200
# characters. Numbers in values are normalised (``total=2.50`` is ``total=2.5``).
MARKET_KEY_PATTERN = (r"^(?!.*\|([a-z][a-z0-9_]{0,31})=.*\|\1=)[a-z0-9][a-z0-9_:]{0,47}"
                      r"(\|[a-z][a-z0-9_]{0,31}=[A-Za-z0-9_.:+\-]{1,64})*$")
MARKET_KEY_MAX = 200
_TIME_RE = re.compile(TIME_PATTERN)
_MARKET_KEY_RE = re.compile(MARKET_KEY_PATTERN)
_LIMIT_RE = re.compile(r"^[1-9][0-9]{0,8}$")  # an integer as the document's "integer" writes it


class ParamError(ValueError):
    """A query parameter that cannot be used: answered with 400 naming it."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


def one(query: Mapping[str, str], name: str) -> str | None:
    """The parameter's value, None when absent; present but empty is a bad parameter."""
    value = query.get(name)
    if value is not None and not value.strip():
        # `?to=` is a client bug (a template with a missing value), not "no filter".
        raise ParamError(name, "is empty; leave the parameter out instead")
    return value


def parse_time(query: Mapping[str, str], name: str) -> datetime | None:
    """An ISO-8601 time with a UTC offset (``Z`` or ``+00:00``); naive times are refused."""
    text = one(query, name)
    if text is None:
        return None
    if _TIME_RE.match(text) is None:
        if re.match(r"^[0-9]{4}-", text) and not MIN_YEAR <= int(text[:4]) <= MAX_YEAR:
            # The database's DATETIME range; outside it a comparison means nothing.
            raise ParamError(name, f"the year must be from {MIN_YEAR} to {MAX_YEAR}")
        raise ParamError(name, f"{text!r} is not an RFC 3339 time with an offset, "
                               "e.g. 2026-05-01T18:00:00Z")
    try:
        return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise ParamError(name, f"{text!r} is not a valid time") from None


def parse_range(query: Mapping[str, str]) -> tuple[datetime | None, datetime | None]:
    """``from`` (inclusive) and ``to`` (exclusive); ``to`` before ``from`` is an empty range."""
    return parse_time(query, "from"), parse_time(query, "to")


def parse_limit(query: Mapping[str, str], default: int, maximum: int, name: str = "limit") -> int:
    """A page size between 1 and ``maximum``."""
    text = one(query, name)
    if text is None:
        return default
    if _LIMIT_RE.match(text) is None or not 1 <= int(text) <= maximum:
        raise ParamError(name, f"must be an integer from 1 to {maximum}")
    return int(text)


def parse_enums(query: Mapping[str, str], name: str, kind: type[E]) -> list[E]:
    """A comma-separated list of enum values (``status=live,suspended``)."""
    text = one(query, name)
    if text is None:
        return []
    values: list[E] = []
    for part in text.split(","):
        try:
            values.append(kind(part))
        except ValueError:
            allowed = ", ".join(v.value for v in kind)
            raise ParamError(name, f"{part!r} is not one of {allowed}") from None
    if len(values) > MAX_LIST:
        raise ParamError(name, f"at most {MAX_LIST} values")
    return list(dict.fromkeys(values))


def check_id(value: str, name: str) -> str:
    """An identifier as the model allows it (1-64 characters of ``A-Za-z0-9:_.-``)."""
    if ID_RE.fullmatch(value) is None:
        raise ParamError(name, "must be 1-64 characters of A-Z a-z 0-9 : _ . -")
    return value


def parse_ids(query: Mapping[str, str], name: str) -> list[str]:
    """A comma-separated list of identifiers."""
    text = one(query, name)
    if text is None:
        return []
    ids = [check_id(part, name) for part in text.split(",")]
    if len(ids) > MAX_LIST:
        raise ParamError(name, f"at most {MAX_LIST} values")
    return list(dict.fromkeys(ids))


def parse_market_key(value: str, name: str = "market_key") -> str:
    """A market key in its canonical form (``totals|total=2.50`` -> ``totals|total=2.5``)."""
    if len(value) > MARKET_KEY_MAX or _MARKET_KEY_RE.match(value) is None:
        raise ParamError(name, "must be a market key of at most 200 characters: a type of "
                               "a-z 0-9 _ :, then |name=value specifiers, no name twice "
                               "(e.g. totals|total=2.5)")
    try:
        return normalise_market_key(value)
    except ValueError as exc:
        raise ParamError(name, str(exc)) from None


def parse_choice(query: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``; the first is the default."""
    text = one(query, name)
    if text is None:
        return choices[0]
    if text not in choices:
        raise ParamError(name, f"must be one of {', '.join(choices)}")
    return text


def encode_cursor(start_time: datetime, row_id: str) -> str:
    """The cursor that continues after this row (exact to the microsecond)."""
    return f"{(start_time - EPOCH) // timedelta(microseconds=1)}~{row_id}"


def decode_cursor(query: Mapping[str, str], pattern: str = CURSOR_PATTERN) -> tuple[datetime, str] | None:
    """The row a ``cursor`` continues after, or None for the first page."""
    text = one(query, "cursor")
    if text is None:
        return None
    if re.match(pattern, text) is None:
        raise ParamError("cursor", "is not a cursor this API returned")
    micros, _, row_id = text.partition("~")
    return EPOCH + timedelta(microseconds=int(micros)), row_id
