"""Multi-row INSERT statements rendered in one pass: the bulk writes' SQL text.

Only the bulk writes use this (the processors' batch transaction, the history import):
there the driver's ``executemany`` escapes every value through a generic, per-value
dispatch that cost more CPU than deciding the messages or the database's own insert.
Everything else binds parameters (``cursor.execute(sql, args)``).

Each value is rendered by one dictionary lookup on its type; strings are escaped with
MySQL's escapes exactly as PyMySQL escapes them (property-tested against
``pymysql.converters``), which is right because every pool connection pins a
``sql_mode`` with backslash escapes (:data:`shared.storage.pool.SQL_MODE`); the strings,
prices and times a batch repeats are rendered once.

Statements are cut below ``MAX_STATEMENT`` characters: at most 4 bytes each in UTF-8,
so every statement fits the smallest ``max_allowed_packet`` servers are run with (1 MiB,
the old default). :func:`run_script` sends several statements at once, in scripts no
larger in bytes than the connection's own ``max_allowed_packet`` (read once per
connection) or ``MAX_SCRIPT``: a server configured with a small packet never gets a
packet it refuses (it would drop the connection).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

# Characters: 4 bytes each at most, and room for the packet's header, below 1 MiB.
MAX_STATEMENT = 250_000
# Bytes of a script of statements sent at once, when the server allows that much
# (MariaDB's max_allowed_packet defaults to 16 MiB, MySQL 8's to 64 MiB).
MAX_SCRIPT = 8_000_000
# Bytes kept free below the server's max_allowed_packet (the packet's own header).
PACKET_MARGIN = 1024
# MySQL's string escapes (the table PyMySQL uses). They are right only with backslash
# escapes on: every pool connection pins its sql_mode (shared.storage.pool.SQL_MODE).
ESCAPES = str.maketrans({
    "\0": "\\0", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\032": "\\Z",
    '"': '\\"', "'": "\\'",
})


_SPECIAL = re.compile(r"[\0\\\n\r\x1a\"']").search


def escape_string(value: str) -> str:
    """The body of a quoted MySQL string literal."""
    return value.translate(ESCAPES) if _SPECIAL(value) else value


# A batch quotes the same event ids, market keys, outcome ids and provider names over
# and over (str.translate was the largest single cost of rendering a batch): the quoted
# form of recent strings is remembered. Bounded; unique strings (message ids) age out.
@lru_cache(maxsize=65536)
def quote(value: str) -> str:
    """``'value'`` with MySQL's escapes: a complete string literal."""
    return "'" + escape_string(value) + "'"


# A batch stamps many rows with the same few times (applied_at, provider times).
@lru_cache(maxsize=16384)
def _datetime_literal(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("refusing a naive datetime: times are timezone-aware UTC")
    moment: datetime = value if value.tzinfo is UTC else value.astimezone(UTC)
    return "'" + moment.replace(tzinfo=None).isoformat(" ") + "'"


@lru_cache(maxsize=65536)
def _decimal_literal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"refusing a non-finite decimal {value}")
    return format(value, "f")


def _date_literal(value: date) -> str:
    return f"'{value.isoformat()}'"


def _null(value: None) -> str:
    return "NULL"


def _flag(value: bool) -> str:
    return "1" if value else "0"


# One dictionary lookup per value instead of a chain of type tests.
_RENDER: dict[type, Callable[[Any], str]] = {
    str: quote, int: str, Decimal: _decimal_literal, type(None): _null, bool: _flag,
    datetime: _datetime_literal, date: _date_literal,
}


def _enum_literal(value: Enum) -> str:
    return literal(value.value)


def _str_literal(value: str) -> str:
    return quote(str(value))


def literal(value: Any) -> str:
    """One SQL literal: str, int, Decimal, None, bool, aware datetime (stored as naive
    UTC), date, enums and other str subclasses by their value."""
    kind = type(value)
    render = _RENDER.get(kind)
    if render is not None:
        return render(value)
    # An enum or a str subclass: learn its renderer once (a batch renders thousands).
    if isinstance(value, Enum):
        _RENDER[kind] = _enum_literal
    elif isinstance(value, str):
        _RENDER[kind] = _str_literal
    else:
        raise TypeError(f"no SQL literal for {kind.__name__}")
    return _RENDER[kind](value)


def time_literal(value: datetime | None) -> str:
    """A timezone-aware time as a literal, ``NULL`` for None."""
    return "NULL" if value is None else _datetime_literal(value)


def text_literal(value: str | None) -> str:
    """A string as a literal, ``NULL`` for None (no dispatch on the type: hand-rendered rows)."""
    return "NULL" if value is None else quote(value)


def enum_literal(value: Enum | None) -> str:
    """A string-valued enum member as a literal of its value, ``NULL`` for None."""
    return "NULL" if value is None else quote(value.value)


def row_sql(row: Sequence[Any]) -> str:
    """``(v1, v2, ...)``."""
    return "(" + ", ".join([literal(v) for v in row]) + ")"


def rows_sql(rows: Iterable[Sequence[Any]]) -> list[str]:
    """Rows rendered by the generic renderer."""
    return [row_sql(r) for r in rows]


def iter_statements(head: str, values: Iterable[str], tail: str = "") -> Iterator[str]:
    """``head VALUES (...), (...) tail`` statements holding every rendered row, each
    under the size limit, rendered as they are consumed."""
    chunk: list[str] = []
    empty = len(head) + len(" VALUES ") + len(tail)
    size = empty  # the statement's length with the rows so far, separators included
    for text in values:
        if chunk and size + 2 + len(text) > MAX_STATEMENT:
            yield f"{head} VALUES {', '.join(chunk)}{tail}"
            chunk, size = [], empty
        size += len(text) + (2 if chunk else 0)
        chunk.append(text)
    if chunk:
        yield f"{head} VALUES {', '.join(chunk)}{tail}"


def statements(head: str, values: Iterable[str], tail: str = "") -> list[str]:
    """:func:`iter_statements`, all at once."""
    return list(iter_statements(head, values, tail))


def insert_statements(
    table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
    upsert: Sequence[str] = (),
) -> Iterator[str]:
    """``INSERT INTO table (columns) VALUES ...`` statements under the size limit, rendered
    as consumed; ``upsert`` names the columns a duplicate key overwrites."""
    tail = (" ON DUPLICATE KEY UPDATE " + ", ".join(f"{c} = VALUES({c})" for c in upsert)
            if upsert else "")
    yield from iter_statements(
        f"INSERT INTO {table} ({', '.join(columns)})", (row_sql(r) for r in rows), tail)


class StatementTooLarge(ValueError):
    """A statement is larger than the server accepts in one packet (never sent: the
    server would drop the connection)."""


# max_allowed_packet of each open connection: a session takes the server's value when it
# connects and keeps it, so it is read once per connection (and forgotten with it).
_PACKET_LIMITS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


async def packet_limit(cur: Any) -> int:
    """The largest packet, in bytes, the cursor's connection may send."""
    conn = cur.connection
    limit = _PACKET_LIMITS.get(conn)
    if limit is None:
        await cur.execute("SELECT @@SESSION.max_allowed_packet")
        row = await cur.fetchone()
        limit = _PACKET_LIMITS[conn] = int(row[0])
    return limit


async def run_script(cur: Any, sql: Sequence[str]) -> None:
    """Run statements as multi-statement scripts (aiomysql enables them), each no larger
    in bytes than the connection's ``max_allowed_packet`` allows (and ``MAX_SCRIPT``),
    reading every result so that an error in any statement is raised.

    Raises :class:`StatementTooLarge`, before sending anything, when one statement alone
    is larger than a packet may be.
    """
    limit = min(MAX_SCRIPT, await packet_limit(cur) - PACKET_MARGIN)
    encoding = cur.connection.encoding
    encoded = [s.encode(encoding, "surrogateescape") for s in sql]
    for statement in encoded:
        if len(statement) > limit:
            raise StatementTooLarge(
                f"a statement of {len(statement):,} bytes is larger than the server's"
                f" max_allowed_packet allows ({limit + PACKET_MARGIN:,} bytes):"
                f" {statement[:80].decode(encoding, 'replace')}...")
    script: list[bytes] = []
    size = 0
    for statement in encoded:
        if script and size + 2 + len(statement) > limit:
            await _run(cur, script)
            script, size = [], 0
        size += len(statement) + (2 if script else 0)
        script.append(statement)
    if script:
        await _run(cur, script)


async def _run(cur: Any, script: list[bytes]) -> None:
    await cur.execute(b";\n".join(script))
    while await cur.nextset():
        pass
