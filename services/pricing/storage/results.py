"""Finished events from MySQL: what the fits learn from.

Every event of the sport whose status is ``ended`` or ``closed`` and that has a live
state (its score): the imported football history (provider ``football-data``, closed,
with the halves when the file had them) and every match the processors recorded from
the feed. Cancelled, abandoned and unfinished events are not results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from services.pricing.domain.training import FinishedMatch
from shared.enums import Sport
from shared.storage.pool import from_db_datetime, to_db_datetime

FINISHED_SQL = (
    "SELECT e.id, e.competition_id, e.provider, e.start_time, e.home_id, e.away_id, e.best_of,"
    " l.home_score, l.away_score, l.periods"
    " FROM events e JOIN live_state l ON l.event_id = e.id"
    " WHERE e.sport = %s AND e.status IN ('ended', 'closed')"
)


def _periods(text: str | None) -> tuple[tuple[str, int, int], ...]:
    if not text:
        return ()
    return tuple((str(p["period"]), int(p["home"]), int(p["away"])) for p in orjson.loads(text))


def finished_match(row: tuple[Any, ...]) -> FinishedMatch:
    """One row of :data:`FINISHED_SQL` as a match."""
    (event_id, competition, provider, start, home, away, best_of, home_score, away_score,
     periods) = row
    return FinishedMatch(
        event_id=event_id, competition_id=competition, provider=provider,
        start=from_db_datetime(start), home=home, away=away, home_score=int(home_score),
        away_score=int(away_score), periods=_periods(periods),
        best_of=int(best_of) if best_of is not None else None,
    )


async def load_finished(cur: Any, sport: Sport) -> list[FinishedMatch]:
    """Every finished event of ``sport`` with its score."""
    await cur.execute(FINISHED_SQL, (sport.value,))
    return [finished_match(row) for row in await cur.fetchall()]


async def count_finished(cur: Any, sport: Sport, after: datetime | None = None) -> int:
    """Finished events of ``sport`` (that started after ``after``, when given)."""
    sql = ("SELECT COUNT(*) FROM events e JOIN live_state l ON l.event_id = e.id"
           " WHERE e.sport = %s AND e.status IN ('ended', 'closed')")
    args: tuple[Any, ...] = (sport.value,)
    if after is not None:
        sql += " AND e.start_time > %s"
        args += (to_db_datetime(after),)
    await cur.execute(sql, args)
    row = await cur.fetchone()
    return int(row[0]) if row else 0
