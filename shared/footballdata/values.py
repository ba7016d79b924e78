"""Cell parsers: dates, kick-off times, counts, prices and handicap lines.

Each raises :class:`CellError` with a reason a person can act on. The same few
hundred distinct texts recur thousands of times in a season file (dates, prices),
so the parsers are cached; failures raise and are not cached.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")
"""football-data.co.uk writes every kick-off in UK local time, whatever the league's country."""

MIN_PRICE = Decimal("1.001")
MAX_PRICE = Decimal("100000")  # below DECIMAL(10,4)'s limit; no real price comes near
PLACES = Decimal("0.0001")
QUARTER = Decimal("0.25")
MAX_LINE = Decimal(30)

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_HM = re.compile(r"^(\d{1,2})[:.](\d{2})(?::\d{2})?$")
_COUNT = re.compile(r"^\d{1,7}(?:\.0*)?$")


class CellError(ValueError):
    """A cell that does not hold what its column promises."""


@lru_cache(maxsize=8192)
def parse_date(text: str) -> date:
    """``dd/mm/yy`` (20yy; 19yy from 70 on), ``dd/mm/yyyy`` or ``yyyy-mm-dd``."""
    m = _DMY.match(text)
    try:
        if m:
            year = int(m[3])
            if len(m[3]) == 2:
                year += 1900 if year >= 70 else 2000
            return date(year, int(m[2]), int(m[1]))
        m = _ISO.match(text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise CellError(f"{text!r} is not a date") from None
    raise CellError(f"{text!r} is not a date (dd/mm/yy or dd/mm/yyyy)")


@lru_cache(maxsize=8192)
def parse_time(text: str) -> time:
    """``HH:MM`` (a 24-hour clock)."""
    m = _HM.match(text)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise CellError(f"{text!r} is not a time (HH:MM)")
    return time(int(m[1]), int(m[2]))


@lru_cache(maxsize=16384)
def kickoff_utc(day: date, clock: time | None) -> datetime:
    """The UTC start of a match: UK local ``clock`` on ``day``, or 00:00 UTC without one."""
    if clock is None:
        return datetime.combine(day, time(0), tzinfo=UTC)
    return datetime.combine(day, clock, tzinfo=UK).astimezone(UTC)


@lru_cache(maxsize=4096)
def parse_count(text: str) -> int:
    """A whole number, also as pandas re-saves it (``4.0``)."""
    if not _COUNT.match(text):
        raise CellError(f"{text!r} is not a whole number")
    return int(text.split(".", 1)[0])


def _number(text: str, what: str) -> Decimal:
    """A finite decimal, or :class:`CellError` naming ``what`` it should have been."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise CellError(f"{what}{text!r} is not a number")
    return value


@lru_cache(maxsize=65536)
def parse_price(text: str) -> Decimal:
    """Decimal odds above 1, at most 4 decimal places (rounded half-even beyond)."""
    value = _number(text, "")
    if not MIN_PRICE <= value <= MAX_PRICE:
        raise CellError(f"price {text} is not decimal odds ({MIN_PRICE} to {MAX_PRICE})")
    if value.as_tuple().exponent < -4:  # type: ignore[operator]
        value = value.quantize(PLACES)
    return Decimal(format(value.normalize(), "f"))


@lru_cache(maxsize=1024)
def parse_line(text: str) -> Decimal:
    """An Asian handicap line: a multiple of 0.25 (``-0.75``, ``0``, ``1.5``)."""
    value = _number(text, "handicap line ")
    if abs(value) > MAX_LINE:
        raise CellError(f"handicap line {text!r} is out of range")
    if value % QUARTER != 0:
        raise CellError(f"handicap line {text} is not a multiple of 0.25")
    text = format(value.normalize(), "f")
    return Decimal("0" if text in ("-0", "+0") else text)


def season_label(start_year: int) -> str:
    """``2022`` -> ``2022/23``."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def season_of(days: list[date]) -> str | None:
    """The July-June season of a file: the one holding its median match date.

    One file is one season. The median rather than each row's own date keeps the
    2019/20 files whole: their last rounds were played in July 2020, after the
    July-June boundary, because of the pandemic.
    """
    if not days:
        return None
    middle = sorted(days)[len(days) // 2]
    return season_label(middle.year if middle.month >= 7 else middle.year - 1)
