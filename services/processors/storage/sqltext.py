"""Multi-row INSERT statements rendered in one pass (the hot path of every batch).

The driver's ``executemany`` escapes every value through a generic, per-value
dispatch; a batch of a few thousand rows of ten columns spent more CPU there than in
deciding the messages. Here each value's type is checked once, strings are escaped
with the driver's table (as ``pymysql.converters.escape_string``), and statements
are cut below ``MAX_STATEMENT`` bytes so no ``max_allowed_packet`` is ever exceeded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

MAX_STATEMENT = 1_000_000
# A script of statements sent at once; MariaDB's max_allowed_packet defaults to 16 MiB.
MAX_SCRIPT = 8_000_000
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


def literal(value: Any) -> str:
    """One SQL literal; datetimes must be timezone-aware (stored as naive UTC)."""
    kind = type(value)
    if kind is str:
        return quote(value)
    if value is None:
        return "NULL"
    if kind is bool:
        return "1" if value else "0"
    if kind is int or kind is Decimal:
        return str(value)
    if kind is datetime:
        return _datetime_literal(value)
    if isinstance(value, Enum):
        return literal(value.value)
    if isinstance(value, str):  # str subclasses other than enums
        return literal(str(value))
    raise TypeError(f"no SQL literal for {kind.__name__}")


# A batch stamps many rows with the same few times (applied_at, provider times).
@lru_cache(maxsize=16384)
def _datetime_literal(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("refusing a naive datetime: times are timezone-aware UTC")
    moment: datetime = value if value.tzinfo is UTC else value.astimezone(UTC)
    return "'" + moment.replace(tzinfo=None).isoformat(" ") + "'"


def row_sql(row: Sequence[Any]) -> str:
    """``(v1, v2, ...)``."""
    return "(" + ", ".join([literal(v) for v in row]) + ")"


def time_literal(value: datetime | None) -> str:
    """A timezone-aware time as a literal, ``NULL`` for None."""
    return "NULL" if value is None else _datetime_literal(value)


def statements(head: str, values: Iterable[str], tail: str = "") -> list[str]:
    """``head VALUES (...), (...) tail`` statements holding every rendered row, each
    under the size limit."""
    out: list[str] = []
    chunk: list[str] = []
    size = len(head) + len(tail)
    for text in values:
        if chunk and size + len(text) > MAX_STATEMENT:
            out.append(f"{head} VALUES {', '.join(chunk)}{tail}")
            chunk, size = [], len(head) + len(tail)
        chunk.append(text)
        size += len(text) + 2
    if chunk:
        out.append(f"{head} VALUES {', '.join(chunk)}{tail}")
    return out


def rows_sql(rows: Iterable[Sequence[Any]]) -> list[str]:
    """Rows rendered by the generic renderer."""
    return [row_sql(r) for r in rows]


async def run_script(cur: Any, sql: Sequence[str]) -> None:
    """Run statements as multi-statement scripts (aiomysql enables them), each below the
    size limit, reading every result so that an error in any statement is raised."""
    script: list[str] = []
    size = 0
    for statement in sql:
        if script and size + len(statement) > MAX_SCRIPT:
            await _run(cur, script)
            script, size = [], 0
        script.append(statement)
        size += len(statement) + 2
    if script:
        await _run(cur, script)


async def _run(cur: Any, script: list[str]) -> None:
    await cur.execute(";\n".join(script))
    while await cur.nextset():
        pass
