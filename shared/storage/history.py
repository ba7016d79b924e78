"""What the history tables hold: the one status query the importer's CLI and REST share.

"What do we have?": every competition and season with its event counts, the odds rows
by bookmaker and phase, and the most recent import runs with their outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.storage.pool import from_db_datetime

RUN_COLUMNS = (
    "id, file_name, sha256, divisions, season, data_rows, events_inserted, events_updated,"
    " events_unchanged, rows_skipped, values_ignored, odds_quotes, odds_rows_written,"
    " unknown_columns, new_bookmakers, outcome, error, started_at, duration_ms"
)


@dataclass(frozen=True)
class SeasonCount:
    """One competition's season."""

    competition_id: str
    name: str
    country: str | None
    season: str
    events: int
    finished: int
    first_date: date
    last_date: date


@dataclass(frozen=True)
class OddsCount:
    """Odds rows (one per event, market) and prices (one per outcome) of a bookmaker and phase."""

    bookmaker: str
    phase: str
    rows: int
    prices: int


@dataclass(frozen=True)
class RunSummary:
    """One import run."""

    id: int
    file_name: str
    sha256: str
    divisions: str | None
    season: str | None
    data_rows: int
    events_inserted: int
    events_updated: int
    events_unchanged: int
    rows_skipped: int
    values_ignored: int
    odds_quotes: int
    odds_rows_written: int
    unknown_columns: int
    new_bookmakers: str | None
    outcome: str
    error: str | None
    started_at: datetime
    duration_ms: int


@dataclass(frozen=True)
class HistoryStatus:
    """The whole answer."""

    seasons: list[SeasonCount]
    odds: list[OddsCount]
    runs: list[RunSummary]


async def read_status(cur: Any, runs: int = 20) -> HistoryStatus:
    """Read the status on an open cursor (the caller ends the transaction)."""
    await cur.execute(
        "SELECT m.competition_id, c.name, c.country, m.season, COUNT(*),"
        " SUM(e.status IN ('ended', 'closed')), MIN(m.match_date), MAX(m.match_date)"
        " FROM history_matches m JOIN events e ON e.id = m.event_id"
        " LEFT JOIN competitions c ON c.id = m.competition_id"
        " GROUP BY m.competition_id, c.name, c.country, m.season"
        " ORDER BY m.competition_id, m.season"
    )
    seasons = [SeasonCount(cid, name or cid, country, season, int(n), int(done or 0), first, last)
               for cid, name, country, season, n, done, first, last in await cur.fetchall()]
    await cur.execute(
        "SELECT bookmaker, phase, COUNT(*), SUM((price_home IS NOT NULL) + (price_draw IS NOT NULL)"
        " + (price_away IS NOT NULL) + (price_over IS NOT NULL) + (price_under IS NOT NULL))"
        " FROM history_odds GROUP BY bookmaker, phase ORDER BY bookmaker, phase"
    )
    odds = [OddsCount(b, p, int(n), int(prices or 0)) for b, p, n, prices in await cur.fetchall()]
    await cur.execute(f"SELECT {RUN_COLUMNS} FROM history_runs ORDER BY id DESC LIMIT %s", (runs,))
    recent = []
    for row in await cur.fetchall():
        values = list(row)
        values[17] = from_db_datetime(values[17])
        recent.append(RunSummary(*values))
    return HistoryStatus(seasons, odds, recent)
