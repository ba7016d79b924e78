"""Helpers of the history import tests: fixture paths, parsed files as JSON, row counts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.history.importer import FileResult, csv_files, import_files
from services.history.settings import HistorySettings
from services.history.store import open_store
from shared.footballdata import ParsedFile
from shared.settings import MySQLSettings, RedisSettings
from shared.storage.pool import create_pool

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "football-data"
SHARED_DATA = (REPO / ".." / "shared" / "data" / "football-data").resolve()
TABLES = ("competitions", "competitors", "events", "live_state", "markets", "outcomes",
          "settlements", "history_matches", "history_odds")


def parsed_as_json(parsed: ParsedFile) -> dict[str, Any]:
    """A parsed file in a stable JSON form (the golden files' format)."""
    return {
        "name": parsed.name, "season": parsed.season, "data_rows": parsed.data_rows,
        "blank_rows": parsed.blank_rows, "divisions": list(parsed.divisions),
        "columns": [[c.name, c.status.value] for c in parsed.columns],
        "problems": [str(p) for p in parsed.problems],
        "matches": [{
            "line": m.line, "event_id": m.event_id, "competition_id": m.competition_id,
            "season": m.season, "date": m.match_date.isoformat(),
            "start_time": m.start_time.isoformat(), "kickoff_known": m.kickoff_known,
            "home": [m.home.id, m.home.name], "away": [m.away.id, m.away.name],
            "score": [m.home_goals, m.away_goals], "half_time": [m.ht_home_goals, m.ht_away_goals],
            "referee": m.referee,
            "statistics": {k: v for k, v in vars_of(m.statistics).items() if v is not None},
            "bookmaker_counts": m.bookmaker_counts,
            "odds": {f"{p.bookmaker} {p.market_key} {p.phase.value}": {o: str(v) for o, v in p.prices}
                     for p in m.markets},
        } for m in parsed.matches],
    }


def vars_of(obj: Any) -> dict[str, Any]:
    """A slots dataclass's fields."""
    return {name: getattr(obj, name) for name in obj.__slots__}


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """A football-data-like file (CRLF line ends, as the real ones)."""
    lines = [",".join(header), *(",".join(r) for r in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def history_settings(mysql: MySQLSettings, redis: RedisSettings | None = None) -> HistorySettings:
    """Importer settings on a test database (Redis invalidation only when a prefix is given)."""
    return HistorySettings(mysql=mysql, redis=redis or RedisSettings(),
                           invalidate_cache=redis is not None, lock_timeout_s=30)


async def import_paths(mysql: MySQLSettings, *paths: Path) -> list[FileResult]:
    """Import files or folders into the test database, as ``python -m services.history import``."""
    async with open_store(mysql, 30) as store:
        return await import_files(store, csv_files(paths))


async def query(mysql: MySQLSettings, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of one query on the test database."""
    async with create_pool(mysql) as pool, pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, args)
        rows = list(await cur.fetchall())
        await conn.commit()
    return rows


async def snapshot_counts(mysql: MySQLSettings) -> dict[str, Any]:
    """Row counts of every table an import writes, the versions, and the newest change."""
    counts: dict[str, Any] = {}
    for table in TABLES:
        (counts[table],), = await query(mysql, f"SELECT COUNT(*) FROM {table}")
    (counts["versions"], counts["events_changed"]), = await query(
        mysql, "SELECT SUM(version), MAX(updated_at) FROM events")
    (counts["in_force"],), = await query(
        mysql, "SELECT COUNT(*) FROM settlements WHERE rolled_back_at IS NULL")
    (counts["matches_changed"],), = await query(mysql, "SELECT MAX(updated_at) FROM history_matches")
    return counts
