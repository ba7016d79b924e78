"""History endpoints: bookmaker odds, the import status, competitions and league tables.

``GET /v1/events/{id}/bookmaker-odds``, ``GET /v1/history/status``,
``GET /v1/competitions`` and ``GET /v1/competitions/{id}/table?season=`` (documented in
``docs/history.md``, ``docs/rest.md`` and ``/openapi.json``). The rows come from the
football-data imports (``services/history``); competitions and tables cover feed
competitions as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from services.distribution.rest.access import require_sport, scoped_sports
from services.distribution.rest.context import RestContext
from services.distribution.rest.handlers import json_response as _json
from services.distribution.rest.handlers import not_found as _not_found
from services.distribution.rest.params import (
    ParamError,
    check_id,
    one,
    parse_enums,
    parse_limit,
    parse_market_key,
)
from services.distribution.rest.views import competition_of, decimal_text, iso
from shared.enums import Sport
from shared.footballdata.bookmakers import bookmaker_name
from shared.footballdata.model import MARKET_OUTCOMES, OddsPhase
from shared.footballdata.names import COMPETITION_PREFIX, division
from shared.footballdata.standings import Result, league_table
from shared.markets import parse_market_key as split_market_key
from shared.storage.history import HistoryStatus
from shared.storage.pool import from_db_datetime

BOOKMAKER_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
SEASON_RE = re.compile(r"[A-Za-z0-9/_.\-]{1,32}")
PRICE_COLUMNS = ("home", "draw", "away", "over", "under")
RUNS_MAX = 200


def parse_bookmakers(query: Mapping[str, str]) -> list[str]:
    """``bookmaker=pinnacle,bet365``."""
    text = one(query, "bookmaker")
    if text is None:
        return []
    ids = text.split(",")
    if len(ids) > 50 or not all(BOOKMAKER_RE.fullmatch(i) for i in ids):
        raise ParamError("bookmaker", "at most 50 bookmaker ids of 1-32 characters A-Z a-z 0-9 _")
    return list(dict.fromkeys(ids))


def parse_season(query: Mapping[str, str]) -> str | None:
    """``season=2018/19``."""
    text = one(query, "season")
    if text is not None and not SEASON_RE.fullmatch(text):
        raise ParamError("season", "is 1-32 characters of A-Z a-z 0-9 / _ . - (e.g. 2018/19)")
    return text


def odds_rows(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """One entry per outcome price from rows of ``history_queries.ODDS_COLUMNS``."""
    out = []
    for bookmaker, key, phase, *prices in rows:
        market, specifiers = split_market_key(key)
        line = specifiers.get("total") or specifiers.get("hcp")
        by_outcome = dict(zip(PRICE_COLUMNS, prices, strict=True))
        for outcome in MARKET_OUTCOMES.get(market, PRICE_COLUMNS):
            price = by_outcome.get(outcome)
            if price is not None:
                out.append({"bookmaker": bookmaker, "bookmaker_name": bookmaker_name(bookmaker),
                            "market_key": key, "market": market, "line": line, "phase": phase,
                            "outcome_id": outcome, "price": decimal_text(price)})
    return out


def status_view(state: HistoryStatus) -> dict[str, Any]:
    """``GET /v1/history/status``."""
    return {
        "seasons": [{"competition_id": s.competition_id, "name": s.name, "country": s.country,
                     "season": s.season, "events": s.events, "finished": s.finished,
                     "first_date": s.first_date.isoformat(), "last_date": s.last_date.isoformat()}
                    for s in state.seasons],
        "odds": [{"bookmaker": o.bookmaker, "bookmaker_name": bookmaker_name(o.bookmaker),
                  "phase": o.phase, "rows": o.rows, "prices": o.prices} for o in state.odds],
        "runs": [{"id": r.id, "file": r.file_name, "sha256": r.sha256, "divisions": r.divisions,
                  "season": r.season, "rows": r.data_rows, "events_inserted": r.events_inserted,
                  "events_updated": r.events_updated, "events_unchanged": r.events_unchanged,
                  "rows_skipped": r.rows_skipped, "values_ignored": r.values_ignored,
                  "odds_quotes": r.odds_quotes, "odds_rows_written": r.odds_rows_written,
                  "unknown_columns": r.unknown_columns, "new_bookmakers": r.new_bookmakers,
                  "outcome": r.outcome, "error": r.error, "started_at": iso(r.started_at),
                  "duration_ms": r.duration_ms} for r in state.runs],
        "totals": {"events": sum(s.events for s in state.seasons),
                   "finished": sum(s.finished for s in state.seasons),
                   "odds_rows": sum(o.rows for o in state.odds),
                   "prices": sum(o.prices for o in state.odds)},
    }


def competitions_view(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Competitions with their seasons from ``history_queries.competitions`` rows."""
    found: dict[str, dict[str, Any]] = {}
    for cid, sport, name, country, season_column, season, events, finished in rows:
        entry = found.setdefault(cid, {
            **(competition_of(cid, name, country, season_column) or {}), "sport": sport,
            "events": 0, "finished": 0, "seasons": [],
        })
        entry["events"] += int(events)
        entry["finished"] += int(finished)
        if int(events) or season is not None:
            entry["seasons"].append({"season": season, "events": int(events), "finished": int(finished)})
    return list(found.values())


def table_view(competition: dict[str, Any], season: str,
               rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The league table of one season from ``history_queries.results`` rows."""
    names: dict[str, str] = {}
    results = []
    for start, home_id, home_name, away_id, away_name, home_goals, away_goals in rows:
        names[home_id], names[away_id] = home_name or home_id, away_name or away_id
        results.append(Result(from_db_datetime(start), home_id, away_id, int(home_goals), int(away_goals)))
    cid: str = competition["id"]
    imported = cid.startswith(COMPETITION_PREFIX)
    tiebreak = division(cid.removeprefix(COMPETITION_PREFIX)).tiebreak if imported else "goal_difference"
    table = league_table(results, tiebreak)
    last: datetime | None = max((r.start_time for r in results), default=None)
    return {
        "competition": competition, "season": season, "matches": len(results),
        "last_match": iso(last), "tiebreak": tiebreak,
        "rows": [{"position": s.position,
                  "competitor": {"id": s.competitor_id, "name": names[s.competitor_id]},
                  "played": s.played, "won": s.won, "drawn": s.drawn, "lost": s.lost,
                  "goals_for": s.goals_for, "goals_against": s.goals_against,
                  "goal_difference": s.goal_difference, "points": s.points, "form": s.form}
                 for s in table],
    }


def _ctx(request: web.Request) -> RestContext:
    return request.app[RestContext.KEY]


async def bookmaker_odds(request: web.Request) -> web.Response:
    """``GET /v1/events/{id}/bookmaker-odds``: every imported bookmaker price of an event."""
    ctx = _ctx(request)
    event_id = check_id(request.match_info["id"], "id")
    q = request.query
    bookmakers = parse_bookmakers(q)
    phases = [p.value for p in parse_enums(q, "phase", OddsPhase)]
    market = one(q, "market_key")
    market_key = parse_market_key(market) if market is not None else None
    sport = await ctx.history.event_sport(event_id)
    if sport is None:
        return _not_found(f"unknown event {event_id}")
    require_sport(request, sport)
    rows = await ctx.history.bookmaker_odds(event_id, bookmakers, phases, market_key)
    return _json({"event_id": event_id, "odds": odds_rows(rows)})


async def history_status(request: web.Request) -> web.Response:
    """``GET /v1/history/status``: competitions and seasons, odds by bookmaker, recent runs."""
    require_sport(request, Sport.FOOTBALL)  # what the football-data imports hold
    runs = parse_limit(request.query, default=20, maximum=RUNS_MAX, name="runs")
    return _json(status_view(await _ctx(request).history.history_status(runs)))


async def competitions(request: web.Request) -> web.Response:
    """``GET /v1/competitions``: every competition with its seasons and event counts."""
    sports = scoped_sports(request, parse_enums(request.query, "sport", Sport))
    rows = await _ctx(request).history.competitions(sports)
    return _json({"competitions": competitions_view(rows)})


async def competition_table(request: web.Request) -> web.Response:
    """``GET /v1/competitions/{id}/table?season=``: points, goal difference and form."""
    ctx = _ctx(request)
    competition_id = check_id(request.match_info["id"], "id")
    season = parse_season(request.query)
    found = competitions_view(await ctx.history.competitions([], competition_id))
    if not found:
        return _not_found(f"unknown competition {competition_id}")
    require_sport(request, found[0]["sport"])
    competition = {k: found[0][k] for k in ("id", "name", "country", "season")}
    season, rows = await ctx.history.results(competition_id, season)
    if season is None or not rows:
        wanted = f"season {season}" if season else "any season"
        return _not_found(f"competition {competition_id} has no football results in {wanted}")
    return _json(table_view(competition, season, rows))
