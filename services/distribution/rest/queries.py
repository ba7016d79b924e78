"""The MySQL reads behind the REST API; each is one or two indexed queries.

Connections have autocommit off, so every read ends its transaction (``commit``):
otherwise a pooled connection would keep reading an old snapshot of the data
(InnoDB's repeatable read) the next time it is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.enums import EventStatus, Sport
from shared.storage.pool import Pool, to_db_datetime

QUERY_TIMEOUT_S = 10.0

SUMMARY_COLUMNS = (
    "e.id, e.sport, e.status, e.start_time, e.version, e.updated_at, e.best_of,"
    " e.competition_id, c.name, c.country, c.season, e.home_id, h.name, e.away_id, a.name"
)
SUMMARY_FROM = (
    " FROM events e LEFT JOIN competitions c ON c.id = e.competition_id"
    " LEFT JOIN competitors h ON h.id = e.home_id LEFT JOIN competitors a ON a.id = e.away_id"
)
HISTORY_COLUMNS = "outcome_id, price, active, market_status, provider_ts, recorded_at, message_id"
SETTLEMENT_COLUMNS = (
    "id, market_key, outcome_id, result, void_factor, dead_heat_factor, certainty, message_id,"
    " provider_ts, settled_at, rolled_back_at, rolled_back_by, superseded_at, superseded_by"
)
CANCELLATION_COLUMNS = (
    "id, market_key, void_reason, start_time, end_time, message_id, provider_ts, cancelled_at,"
    " rolled_back_at, rolled_back_by, superseded_at, superseded_by"
)
REFUSAL_COLUMNS = "r.market_key, r.message_id, l.kind, r.reason, r.processed_at"


@dataclass(frozen=True)
class EventFilter:
    """What ``GET /v1/events`` selects, and where the page starts."""

    sports: list[Sport] = field(default_factory=list)
    statuses: list[EventStatus] = field(default_factory=list)
    competitions: list[str] = field(default_factory=list)
    start_from: datetime | None = None
    start_to: datetime | None = None
    after: tuple[datetime, str] | None = None
    limit: int = 100


def _in(column: str, values: Sequence[Any], where: list[str], args: list[Any]) -> None:
    if values:
        where.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
        args.extend(values)


def events_sql(f: EventFilter) -> tuple[str, list[Any]]:
    """The page query: ``limit + 1`` rows, so the caller knows whether more follow."""
    where: list[str] = []
    args: list[Any] = []
    _in("e.sport", [s.value for s in f.sports], where, args)
    _in("e.status", [s.value for s in f.statuses], where, args)
    _in("e.competition_id", f.competitions, where, args)
    if f.start_from is not None:
        where.append("e.start_time >= %s")
        args.append(to_db_datetime(f.start_from))
    if f.start_to is not None:
        where.append("e.start_time < %s")
        args.append(to_db_datetime(f.start_to))
    if f.after is not None:
        start, event_id = f.after
        where.append("(e.start_time > %s OR (e.start_time = %s AND e.id > %s))")
        args += [to_db_datetime(start), to_db_datetime(start), event_id]
    sql = f"SELECT {SUMMARY_COLUMNS}{SUMMARY_FROM}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY e.start_time, e.id LIMIT %s"
    args.append(f.limit + 1)
    return sql, args


class Queries:
    """Read-only queries on one pool."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def _cursor(self) -> AsyncIterator[Any]:
        async with asyncio.timeout(QUERY_TIMEOUT_S), self._pool.acquire() as conn:
            try:
                async with conn.cursor() as cur:
                    yield cur
            finally:
                await conn.commit()

    async def events(self, f: EventFilter) -> list[Any]:
        """Rows of :data:`SUMMARY_COLUMNS`, ``limit + 1`` at most."""
        sql, args = events_sql(f)
        async with self._cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())

    async def sport_counts(self) -> list[Any]:
        """``(sport, status, n)`` for every sport and status that has events."""
        async with self._cursor() as cur:
            await cur.execute("SELECT sport, status, COUNT(*) FROM events GROUP BY sport, status")
            return list(await cur.fetchall())

    async def event_sport(self, event_id: str) -> str | None:
        """The event's sport, None when the events table has no such event."""
        async with self._cursor() as cur:
            await cur.execute("SELECT sport FROM events WHERE id = %s", (event_id,))
            row = await cur.fetchone()
            return None if row is None else str(row[0])

    async def existing(self, event_ids: Sequence[str]) -> dict[str, str]:
        """The sport of each of the events the events table has."""
        if not event_ids:
            return {}
        async with self._cursor() as cur:
            await cur.execute(
                f"SELECT id, sport FROM events WHERE id IN ({', '.join(['%s'] * len(event_ids))})",
                tuple(event_ids))
            return {row[0]: row[1] for row in await cur.fetchall()}

    async def market_exists(self, event_id: str, market_key: str) -> bool:
        """True when the event has (or had) the market."""
        async with self._cursor() as cur:
            await cur.execute(
                "SELECT 1 FROM markets WHERE event_id = %s AND market_key = %s"
                " UNION ALL SELECT 1 FROM odds_history WHERE event_id = %s AND market_key = %s"
                " LIMIT 1",
                (event_id, market_key, event_id, market_key),
            )
            return await cur.fetchone() is not None

    async def history(
        self, event_id: str, market_key: str, start: datetime | None, end: datetime | None,
        limit: int,
    ) -> list[Any]:
        """Rows of :data:`HISTORY_COLUMNS` by provider time, ``limit + 1`` at most."""
        sql = (f"SELECT {HISTORY_COLUMNS} FROM odds_history"
               " WHERE event_id = %s AND market_key = %s")
        args: list[Any] = [event_id, market_key]
        if start is not None:
            sql += " AND provider_ts >= %s"
            args.append(to_db_datetime(start))
        if end is not None:
            sql += " AND provider_ts < %s"
            args.append(to_db_datetime(end))
        sql += " ORDER BY provider_ts, id LIMIT %s"
        args.append(limit + 1)
        async with self._cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())

    async def settlements(self, event_id: str) -> tuple[list[Any], list[Any], list[Any]]:
        """The event's settlement, cancellation and refused-market rows, oldest first
        (rolled back and superseded rows too)."""
        async with self._cursor() as cur:
            await cur.execute(
                f"SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE event_id = %s ORDER BY id",
                (event_id,),
            )
            settled = list(await cur.fetchall())
            await cur.execute(
                f"SELECT {CANCELLATION_COLUMNS} FROM cancellations WHERE event_id = %s"
                " ORDER BY id",
                (event_id,),
            )
            cancelled = list(await cur.fetchall())
            await cur.execute(
                f"SELECT {REFUSAL_COLUMNS} FROM ledger_refusals r"
                " LEFT JOIN ledger l ON l.message_id = r.message_id"
                " WHERE r.event_id = %s AND l.kind IN ('settlement', 'cancel', 'rollback')"
                " ORDER BY r.id",
                (event_id,),
            )
            return settled, cancelled, list(await cur.fetchall())

    async def ledger(
        self, start: datetime | None, end: datetime | None, sports: list[Sport],
        providers: list[str],
    ) -> tuple[list[Any], list[Any]]:
        """Disposition counts and repeated-delivery counts by sport and provider."""
        where: list[str] = []
        args: list[Any] = []
        if start is not None:
            where.append("processed_at >= %s")
            args.append(to_db_datetime(start))
        if end is not None:
            where.append("processed_at < %s")
            args.append(to_db_datetime(end))
        _in("sport", [s.value for s in sports], where, args)
        _in("provider", providers, where, args)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        async with self._cursor() as cur:
            await cur.execute(
                f"SELECT sport, provider, disposition, COUNT(*) FROM ledger{clause}"
                " GROUP BY sport, provider, disposition", args,
            )
            counts = list(await cur.fetchall())
            await cur.execute(
                f"SELECT sport, provider, COUNT(*) FROM ledger_duplicates{clause}"
                " GROUP BY sport, provider", args,
            )
            return counts, list(await cur.fetchall())
