"""The importer's MySQL side: one connection, one transaction per file.

The bulk writes are multi-row INSERTs (and DELETE/UPDATE over an id list) rendered by
:mod:`shared.storage.sqltext`, as the processors' batches are; reads and the run's own
row bind parameters. A file's rows, its run record, its problems and its unknown
columns commit together or not at all. Imports serialise on a named lock, so two runs of the same
files cannot interleave their version checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiomysql

from services.history.plan import COLUMNS, UPSERT, Existing, FilePlan
from shared.footballdata.model import ColumnNote, Problem, RunOutcome
from shared.settings import MySQLSettings
from shared.storage.pool import connect_kwargs, to_db_datetime
from shared.storage.sqltext import insert_statements, literal

# Parents before children, so a reader never sees an event without its competition.
WRITE_ORDER = ("competitions", "competitors", "events", "live_state", "markets", "outcomes",
               "settlements", "history_matches", "history_odds")
ID_CHUNK = 1000


@dataclass(frozen=True)
class RunRecord:
    """What ``history_runs`` says of one file's run."""

    file_name: str
    file_path: str
    sha256: str
    size_bytes: int
    started_at: datetime
    divisions: str | None = None
    season: str | None = None
    data_rows: int = 0
    blank_rows: int = 0
    events_inserted: int = 0
    events_updated: int = 0
    events_unchanged: int = 0
    rows_skipped: int = 0
    values_ignored: int = 0
    odds_quotes: int = 0
    odds_rows_written: int = 0
    unknown_columns: int = 0
    new_bookmakers: str | None = None
    new_teams: str | None = None
    outcome: RunOutcome = RunOutcome.FAILED
    error: str | None = None


RUN_COLUMNS = ("file_name", "file_path", "sha256", "size_bytes", "divisions", "season", "data_rows",
               "blank_rows", "events_inserted", "events_updated", "events_unchanged", "rows_skipped",
               "values_ignored", "odds_quotes", "odds_rows_written", "unknown_columns",
               "new_bookmakers", "new_teams", "outcome", "error")


def _run_values(run: RunRecord) -> list[Any]:
    values = [getattr(run, c) for c in RUN_COLUMNS]
    values[RUN_COLUMNS.index("outcome")] = run.outcome.value
    return values


class HistoryStore:
    """Reads and writes of one import, on one connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def _execute(self, sql: str) -> int:
        async with self._conn.cursor() as cur:
            return int(await cur.execute(sql))

    async def _fetch(self, sql: str, args: Sequence[Any]) -> list[Any]:
        async with self._conn.cursor() as cur:
            await cur.execute(sql, tuple(args))
            return list(await cur.fetchall())

    async def existing(self, event_ids: Sequence[str]) -> dict[str, Existing]:
        """The version and hashes of those events that exist already."""
        found: dict[str, Existing] = {}
        for start in range(0, len(event_ids), ID_CHUNK):
            part = event_ids[start : start + ID_CHUNK]
            rows = await self._fetch(
                "SELECT e.id, e.version, m.row_hash, m.settlement_hash FROM events e"
                " LEFT JOIN history_matches m ON m.event_id = e.id"
                f" WHERE e.id IN ({', '.join(['%s'] * len(part))})", part,
            )
            for event_id, version, digest, s_digest in rows:
                found[event_id] = Existing(int(version), digest, s_digest)
        return found

    async def imported_digests(self) -> set[str]:
        """The sha256 of every file a run imported (``ok`` or ``partial``)."""
        rows = await self._fetch("SELECT DISTINCT sha256 FROM history_runs WHERE outcome <> %s", ("failed",))
        return {row[0] for row in rows}

    async def start_run(self, run: RunRecord) -> int:
        """Insert the run's row (finished later in the same transaction); its id."""
        values = [*_run_values(run), run.started_at, run.started_at, 0]
        columns = (*RUN_COLUMNS, "started_at", "finished_at", "duration_ms")
        async with self._conn.cursor() as cur:
            await cur.execute(next(insert_statements("history_runs", columns, [values])))
            return int(cur.lastrowid)

    async def finish_run(self, run_id: int, run: RunRecord, finished_at: datetime) -> None:
        """Write the run's final counts, outcome and duration."""
        duration = max(0, round((finished_at - run.started_at).total_seconds() * 1000))
        columns = (*RUN_COLUMNS, "finished_at", "duration_ms")
        values = (*_run_values(run), to_db_datetime(finished_at), duration, run_id)
        async with self._conn.cursor() as cur:
            await cur.execute(
                f"UPDATE history_runs SET {', '.join(f'{c} = %s' for c in columns)} WHERE id = %s",
                values,
            )

    async def record_failed_run(self, run: RunRecord, finished_at: datetime) -> int:
        """A run that wrote nothing: its row alone, committed."""
        run_id = await self.start_run(run)
        await self.finish_run(run_id, run, finished_at)
        await self.commit()
        return run_id

    async def execute(self, sql: str) -> None:
        """Run one statement of the file's transaction."""
        await self._execute(sql)

    async def write_report(self, run_id: int, problems: Sequence[Problem],
                           columns: Sequence[ColumnNote]) -> None:
        """The run's problems (file line, column, reason) and its reported columns."""
        problem_rows = [(run_id, n, p.line, (p.column or "")[:64] or None, p.reason[:500], p.action.value)
                        for n, p in enumerate(problems)]
        column_rows = [(run_id, c.position, c.name[:64], c.status.value, c.detail[:300]) for c in columns]
        for statement in insert_statements(
            "history_run_problems", ("run_id", "seq", "line", "column_name", "reason", "action"), problem_rows
        ):
            await self._execute(statement)
        for statement in insert_statements(
            "history_run_columns", ("run_id", "position", "column_name", "status", "detail"), column_rows
        ):
            await self._execute(statement)

    async def commit(self) -> None:
        """Commit the transaction."""
        await self._conn.commit()

    async def rollback(self) -> None:
        """Undo everything since the last commit."""
        await self._conn.rollback()


def write_statements(plan: FilePlan) -> Iterator[str]:
    """Every statement that writes ``plan``, in order (pure: rendered as it is consumed).

    Corrected events first lose what is replaced (odds; markets and outcomes when their
    settlement changed, whose settlement rows are rolled back, not deleted), then every
    planned row is inserted, or upserted where the table keeps rows across versions.
    """
    updated = plan.updated
    resettled = list(plan.resettled)
    for start in range(0, len(updated), ID_CHUNK):
        yield f"DELETE FROM history_odds WHERE event_id IN {in_list(updated[start:start + ID_CHUNK])}"
    for start in range(0, len(resettled), ID_CHUNK):
        ids = in_list(resettled[start : start + ID_CHUNK])
        yield f"DELETE FROM outcomes WHERE event_id IN {ids}"
        yield f"DELETE FROM markets WHERE event_id IN {ids}"
    for event_id, message in plan.resettled.items():
        # Kept, not deleted: corrected results supersede the earlier ones, as a corrected
        # settlement does in the processors.
        yield ("UPDATE settlements SET superseded_at = UTC_TIMESTAMP(6),"
               f" superseded_by = {literal(message)} WHERE event_id = {literal(event_id)}"
               " AND rolled_back_at IS NULL AND superseded_at IS NULL")
    for table in WRITE_ORDER:
        rows = plan.rows[table]
        if rows:
            yield from insert_statements(table, COLUMNS[table], rows, upsert=UPSERT.get(table, ()))


def lock_name(database: str) -> str:
    """The named lock every import of one database takes (MySQL: at most 64 characters)."""
    return f"sportsfeed_history:{database}"[:64]


@asynccontextmanager
async def open_store(settings: MySQLSettings, lock_timeout_s: float) -> AsyncIterator[HistoryStore]:
    """A store holding the import lock of the database; released and closed on exit."""
    conn = await aiomysql.connect(**connect_kwargs(settings))
    try:
        name = lock_name(settings.database)
        async with conn.cursor() as cur:
            await cur.execute("SELECT GET_LOCK(%s, %s)", (name, lock_timeout_s))
            got = await cur.fetchone()
        if got != (1,):
            raise TimeoutError(f"another import holds lock {name!r} (waited {lock_timeout_s:g} s)")
        try:
            yield HistoryStore(conn)
        finally:
            await conn.rollback()
            async with conn.cursor() as cur:
                await cur.execute("SELECT RELEASE_LOCK(%s)", (name,))
    finally:
        conn.close()


def in_list(values: Sequence[Any]) -> str:
    """``(v1, v2, ...)`` for an IN clause of a bulk write (non-empty)."""
    if not values:
        raise ValueError("an IN list needs at least one value")
    return "(" + ", ".join(literal(v) for v in values) + ")"
