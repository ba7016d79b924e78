"""Query parameters: parsed and checked once, or a 400 that names the parameter.

Pure functions over a mapping of strings (``request.query``), unit tested without a
server. The events cursor is opaque to clients: URL-safe base64 of the last row's
``(start_time, id)``, which the next page continues after (keyset paging: stable
under inserts, no duplicates, no gaps).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

import orjson

from shared.markets import normalise_market_key

E = TypeVar("E", bound=StrEnum)
MAX_LIST = 50
MIN_YEAR, MAX_YEAR = 1970, 9998
ID_RE = re.compile(r"[A-Za-z0-9:_.\-]{1,64}")


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
    try:
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        if value.tzinfo is None:
            raise ParamError(name, "the time needs a UTC offset, e.g. 2026-05-01T18:00:00Z")
        value = value.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, ParamError):
            raise
        raise ParamError(name, f"{text!r} is not an ISO-8601 time") from None
    # The database's DATETIME range; outside it a comparison means nothing.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ParamError(name, f"the year must be from {MIN_YEAR} to {MAX_YEAR}")
    return value


def parse_range(query: Mapping[str, str]) -> tuple[datetime | None, datetime | None]:
    """``from`` (inclusive) and ``to`` (exclusive); ``to`` must not precede ``from``."""
    start, end = parse_time(query, "from"), parse_time(query, "to")
    if start is not None and end is not None and end < start:
        raise ParamError("to", "is before from")
    return start, end


def parse_limit(query: Mapping[str, str], default: int, maximum: int, name: str = "limit") -> int:
    """A page size between 1 and ``maximum``."""
    text = one(query, name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
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
            values.append(kind(part.strip()))
        except ValueError:
            allowed = ", ".join(v.value for v in kind)
            raise ParamError(name, f"{part.strip()!r} is not one of {allowed}") from None
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
    ids = [check_id(part.strip(), name) for part in text.split(",")]
    if len(ids) > MAX_LIST:
        raise ParamError(name, f"at most {MAX_LIST} values")
    return list(dict.fromkeys(ids))


def parse_market_key(value: str, name: str = "market_key") -> str:
    """A market key in its canonical form (``totals|total=2.50`` -> ``totals|total=2.5``)."""
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


def encode_cursor(start_time: datetime, event_id: str) -> str:
    """The cursor that continues after this row."""
    raw = orjson.dumps([start_time.astimezone(UTC).isoformat(), event_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: Mapping[str, str]) -> tuple[datetime, str] | None:
    """The row a ``cursor`` continues after, or None for the first page."""
    text = one(query, "cursor")
    if text is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        start, event_id = orjson.loads(raw)
        when = datetime.fromisoformat(start)
        if when.tzinfo is None or not isinstance(event_id, str):
            raise ValueError("bad cursor contents")
        return when.astimezone(UTC), check_id(event_id, "cursor")
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ParamError("cursor", "is not a cursor this API returned") from None
