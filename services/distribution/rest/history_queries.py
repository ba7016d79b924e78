"""The MySQL reads behind the history and competition endpoints (``rest/history.py``)."""

from __future__ import annotations

from typing import Any

from services.distribution.rest.queries import Queries, _in
from shared.enums import Sport
from shared.storage.history import HistoryStatus, read_status

ODDS_COLUMNS = "bookmaker, market_key, phase, price_home, price_draw, price_away, price_over, price_under"
FINISHED = "('ended', 'closed')"
# A feed competition has one season (competitions.season); an imported match its own.
SEASON = "COALESCE(m.season, c.season)"
RESULTS_FROM = (
    " FROM events e JOIN live_state l ON l.event_id = e.id"
    " LEFT JOIN competitors h ON h.id = e.home_id LEFT JOIN competitors a ON a.id = e.away_id"
    " LEFT JOIN competitions c ON c.id = e.competition_id"
    " LEFT JOIN history_matches m ON m.event_id = e.id"
    f" WHERE e.competition_id = %s AND e.sport = 'football' AND e.status IN {FINISHED}"
)


class HistoryQueries(Queries):
    """Bookmaker odds, the import status, competitions and the results behind a table."""

    async def bookmaker_odds(self, event_id: str, bookmakers: list[str], phases: list[str],
                             market_key: str | None) -> list[Any]:
        """Rows of :data:`ODDS_COLUMNS` of one event, by bookmaker, market and phase."""
        where = ["event_id = %s"]
        args: list[Any] = [event_id]
        _in("bookmaker", bookmakers, where, args)
        _in("phase", phases, where, args)
        if market_key is not None:
            where.append("market_key = %s")
            args.append(market_key)
        async with self._cursor() as cur:
            await cur.execute(f"SELECT {ODDS_COLUMNS} FROM history_odds WHERE {' AND '.join(where)}"
                              " ORDER BY bookmaker, market_key, phase", args)
            return list(await cur.fetchall())

    async def history_status(self, runs: int) -> HistoryStatus:
        """What the history tables hold."""
        async with self._cursor() as cur:
            return await read_status(cur, runs)

    async def competitions(self, sports: list[Sport], competition_id: str | None = None) -> list[Any]:
        """``(id, sport, name, country, season column, season, events, finished)`` per season."""
        where: list[str] = []
        args: list[Any] = []
        _in("c.sport", [s.value for s in sports], where, args)
        if competition_id is not None:
            where.append("c.id = %s")
            args.append(competition_id)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        async with self._cursor() as cur:
            await cur.execute(
                f"SELECT c.id, c.sport, c.name, c.country, c.season, {SEASON} AS s, COUNT(e.id),"
                f" COALESCE(SUM(e.status IN {FINISHED}), 0)"
                " FROM competitions c LEFT JOIN events e ON e.competition_id = c.id"
                f" LEFT JOIN history_matches m ON m.event_id = e.id{clause}"
                " GROUP BY c.id, c.sport, c.name, c.country, c.season, s"
                " ORDER BY c.sport, c.name, c.id, s", args,
            )
            return list(await cur.fetchall())

    async def results(self, competition_id: str, season: str | None) -> tuple[str | None, list[Any]]:
        """The season asked for (the latest with results when None) and its finished matches:
        ``(start_time, home_id, home name, away_id, away name, home_score, away_score)``."""
        async with self._cursor() as cur:
            if season is None:
                await cur.execute(f"SELECT MAX({SEASON}){RESULTS_FROM}", (competition_id,))
                row = await cur.fetchone()
                season = row[0] if row else None
                if season is None:
                    return None, []
            await cur.execute(
                "SELECT e.start_time, e.home_id, h.name, e.away_id, a.name, l.home_score, l.away_score"
                f"{RESULTS_FROM} AND {SEASON} = %s", (competition_id, season),
            )
            return season, list(await cur.fetchall())
