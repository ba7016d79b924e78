"""MySQL connections: the aiomysql pool every service uses, and UTC datetime conversion.

Every connection runs with ``time_zone='+00:00'``, so ``CURRENT_TIMESTAMP`` defaults and
``UNIX_TIMESTAMP()`` agree with the UTC that the ``DATETIME(6)`` columns hold. The driver
itself ignores ``tzinfo``: it writes a datetime's wall-clock digits and reads back naive
values, hence :func:`to_db_datetime` and :func:`from_db_datetime` at the boundary.

Every connection also pins its ``sql_mode`` (:data:`SQL_MODE`): the server's default is a
DBA's choice, and some choices change what SQL text means. ``NO_BACKSLASH_ESCAPES``
turns ``\\'`` from an escaped quote into a backslash that ends the string, which would
break the processors' hand-rendered batch statements; ``ANSI_QUOTES`` would make
``"text"`` an identifier. Strict mode makes a value that does not fit an error, never a
silent truncation. The mode exists alike on MariaDB 10.x and MySQL 8.

And its isolation level, ``REPEATABLE READ`` (InnoDB's default, which a DBA may change,
often to ``READ COMMITTED``): reads that assemble one snapshot from several tables
(:func:`shared.storage.snapshots.load_events`) rely on every statement of a transaction
seeing the same point in time, so a snapshot labelled version *n* holds version *n*'s
markets. MariaDB names the variable ``tx_isolation`` (until 11.1, an alias after) and MySQL
``transaction_isolation`` (since 5.7.20, the only name in 8): each is set inside the
executable comment only that server runs (``/*M!`` MariaDB's; MariaDB skips MySQL's
``/*!5xxxx`` comments from 5.7 on, and MySQL takes ``/*M!`` for a plain comment).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeAlias

import aiomysql

from shared.retry import RetryCallState, retrying
from shared.settings import MySQLSettings

SQL_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
# One statement, run by the driver on every new connection (and reconnect).
ISOLATION = "REPEATABLE-READ"
INIT_COMMAND = (
    f"SET time_zone='+00:00', sql_mode='{SQL_MODE}'"
    f" /*M!100000 , tx_isolation='{ISOLATION}' */"
    f" /*!50720 , transaction_isolation='{ISOLATION}' */"
)
CONNECT_TIMEOUT_S = 10
# Recycle pooled connections before the server's wait_timeout (8 h by default) drops them.
POOL_RECYCLE_S = 3600
# A readiness probe must answer, not hang on a dead server or an exhausted pool.
PING_TIMEOUT_S = 5.0

# aiomysql ships no type hints: the pool is typed Any, named for the reader.
Pool: TypeAlias = aiomysql.Pool
log = logging.getLogger(__name__)


def connect_kwargs(settings: MySQLSettings, *, database: bool = True) -> dict[str, Any]:
    """Keyword arguments for ``aiomysql.connect``/``create_pool`` from the settings.

    ``database=False`` connects without selecting a database (to create or drop it).
    """
    return {
        "host": settings.host,
        "port": settings.port,
        "user": settings.user,
        "password": settings.password.get_secret_value(),
        "db": settings.database if database else None,
        "charset": "utf8mb4",
        "autocommit": False,
        "init_command": INIT_COMMAND,
        "connect_timeout": CONNECT_TIMEOUT_S,
    }


@asynccontextmanager
async def create_pool(settings: MySQLSettings) -> AsyncIterator[Pool]:
    """An aiomysql pool on ``settings.database``, closed (and waited for) on exit.

    Connections have autocommit off: callers commit or roll back each transaction.
    """
    pool = await aiomysql.create_pool(
        minsize=min(settings.pool_min, settings.pool_max),
        maxsize=settings.pool_max,
        pool_recycle=POOL_RECYCLE_S,
        **connect_kwargs(settings),
    )
    try:
        yield pool
    finally:
        pool.close()
        await pool.wait_closed()


async def wait_for_pool(
    stack: AsyncExitStack, settings: MySQLSettings, *, initial_s: float, max_s: float,
    stopping: Callable[[], bool],
) -> Pool:
    """A pool entered into ``stack``, retried with backoff until MySQL answers.

    For workers that can do nothing without the database: they wait for it at start
    rather than exit. ``stopping`` says the process is shutting down: then the last
    error is raised instead of waiting on.
    """

    def waiting(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning("waiting for MySQL at %s:%s: %r", settings.host, settings.port, exc)

    async for attempt in retrying(initial_s=initial_s, max_s=max_s, give_up=stopping,
                                  before_sleep=waiting):
        with attempt:
            return await stack.enter_async_context(create_pool(settings))
    raise AssertionError("unreachable: retrying re-raises the last error")


async def ping(pool: Pool) -> None:
    """Raise unless the database answers a query within a few seconds (readiness checks)."""
    async with asyncio.timeout(PING_TIMEOUT_S), pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT 1")
        row = await cur.fetchone()
    if row != (1,):
        raise RuntimeError(f"MySQL ping answered {row!r}")


def to_db_datetime(value: datetime) -> datetime:
    """A timezone-aware datetime as the naive UTC value a ``DATETIME(6)`` column stores."""
    if value.tzinfo is None:
        raise ValueError("refusing a naive datetime: times are timezone-aware UTC")
    return value.astimezone(UTC).replace(tzinfo=None)


def from_db_datetime(value: datetime) -> datetime:
    """A naive ``DATETIME(6)`` value read from MySQL as a timezone-aware UTC datetime."""
    return value.replace(tzinfo=UTC)
