"""Multi-row INSERT statements for the import, rendered fast.

Values are bound client-side as the driver binds them (pymysql has no server-side
parameters: ``execute(sql, args)`` escapes each value into the text with
``pymysql.converters``). ``executemany`` does that through a generic per-value
dispatch that cost more than the whole database write for the 20 shared files; here
each value is rendered by its type, strings with the driver's own ``escape_string``,
and the few thousand distinct strings, prices and times of a file are rendered once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pymysql.converters import escape_string

MAX_STATEMENT_BYTES = 1_000_000  # MariaDB's max_allowed_packet is 16 MiB by default


@lru_cache(maxsize=65536)
def _text(value: str) -> str:
    escaped: str = escape_string(value)
    return "'" + escaped + "'"


@lru_cache(maxsize=65536)
def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"refusing a non-finite decimal {value}")
    return format(value, "f")


@lru_cache(maxsize=16384)
def _moment(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("refusing a naive datetime: times are timezone-aware UTC")
    return "'" + value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") + "'"


def _date(value: date) -> str:
    return f"'{value.isoformat()}'"


def _null(value: None) -> str:
    return "NULL"


def _flag(value: bool) -> str:
    return "1" if value else "0"


# One dictionary lookup per value instead of a chain of type tests.
_RENDER: dict[type, Callable[[Any], str]] = {
    str: _text, int: str, Decimal: _decimal, type(None): _null, bool: _flag, datetime: _moment,
    date: _date,
}


def literal(value: Any) -> str:
    """One value as SQL text (str, int, Decimal, None, bool, aware datetime, date)."""
    try:
        render = _RENDER[type(value)]
    except KeyError:
        raise TypeError(f"no SQL literal for {type(value).__name__}") from None
    return render(value)


def insert_statements(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                      *, upsert: Sequence[str] = (), limit: int = MAX_STATEMENT_BYTES) -> Iterator[str]:
    """``INSERT INTO table (columns) VALUES (...), ...`` cut below ``limit`` bytes each.

    ``upsert`` names the columns a duplicate key overwrites (``ON DUPLICATE KEY UPDATE``).
    """
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    tail = ""
    if upsert:
        tail = " ON DUPLICATE KEY UPDATE " + ", ".join(f"{c} = VALUES({c})" for c in upsert)
    chunk: list[str] = []
    size = len(head) + len(tail)
    for row in rows:
        text = "(" + ", ".join([_RENDER[type(v)](v) for v in row]) + ")"
        if chunk and size + len(text) + 2 > limit:
            yield head + ", ".join(chunk) + tail
            chunk, size = [], len(head) + len(tail)
        chunk.append(text)
        size += len(text) + 2
    if chunk:
        yield head + ", ".join(chunk) + tail


def in_list(values: Sequence[Any]) -> str:
    """``(v1, v2, ...)`` for an IN clause (non-empty)."""
    if not values:
        raise ValueError("an IN list needs at least one value")
    return "(" + ", ".join(literal(v) for v in values) + ")"
