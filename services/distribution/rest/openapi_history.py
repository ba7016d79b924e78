"""The OpenAPI part of the history endpoints (``rest/history.py``), merged by ``openapi.py``."""

from __future__ import annotations

from services.distribution.rest.openapi import (
    BAD,
    DECIMAL_PATTERN,
    DOWN,
    ID_SCHEMA,
    INT,
    MARKET_KEY,
    MISSING,
    PRICE,
    SPORT_LIST,
    SPORTS,
    STR,
    TIME,
    Schema,
    _json,
    array,
    listing,
    null,
    obj,
    query,
    ref,
)
from shared.footballdata.model import OddsPhase, RunOutcome

PHASES = [p.value for p in OddsPhase]
DATE: Schema = {"type": "string", "format": "date"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOKMAKER_ID: Schema = {"type": "string", "pattern": r"^[A-Za-z0-9_]{1,32}$"}
SEASON: Schema = {"type": "string", "pattern": r"^[A-Za-z0-9/_.\-]{1,32}$"}

SCHEMAS: dict[str, Schema] = {
    "BookmakerPrice": obj({
        "bookmaker": STR, "bookmaker_name": STR, "market_key": STR,
        "market": {"enum": ["1x2", "totals", "handicap"]},
        "line": null({"type": "string", "pattern": DECIMAL_PATTERN,
                      "description": "the total, or the home team's handicap"}),
        "phase": {"enum": PHASES}, "outcome_id": STR, "price": PRICE,
    }),
    "BookmakerOdds": obj({"event_id": STR, "odds": array(ref("BookmakerPrice"))}),
    "HistorySeason": obj({
        "competition_id": STR, "name": STR, "country": null(STR), "season": STR, "events": COUNT,
        "finished": COUNT, "first_date": DATE, "last_date": DATE,
    }),
    "HistoryOdds": obj({"bookmaker": STR, "bookmaker_name": STR, "phase": {"enum": PHASES},
                        "rows": COUNT, "prices": COUNT}),
    "HistoryRun": obj({
        "id": INT, "file": STR, "sha256": STR, "divisions": null(STR), "season": null(STR),
        "rows": COUNT, "events_inserted": COUNT, "events_updated": COUNT,
        "events_unchanged": COUNT, "rows_skipped": COUNT, "values_ignored": COUNT,
        "odds_quotes": COUNT, "odds_rows_written": COUNT, "unknown_columns": COUNT,
        "new_bookmakers": null(STR), "outcome": {"enum": [o.value for o in RunOutcome]},
        "error": null(STR), "started_at": TIME, "duration_ms": COUNT,
    }),
    "HistoryStatus": obj({
        "seasons": array(ref("HistorySeason")), "odds": array(ref("HistoryOdds")),
        "runs": array(ref("HistoryRun")),
        "totals": obj({"events": COUNT, "finished": COUNT, "odds_rows": COUNT, "prices": COUNT}),
    }),
    "CompetitionSeason": obj({"season": null(STR), "events": COUNT, "finished": COUNT}),
    "CompetitionEntry": obj({
        "id": STR, "name": STR, "country": null(STR), "season": null(STR),
        "sport": {"enum": SPORTS}, "events": COUNT, "finished": COUNT,
        "seasons": array(ref("CompetitionSeason")),
    }),
    "Standing": obj({
        "position": {"type": "integer", "minimum": 1},
        "competitor": obj({"id": STR, "name": STR}),
        "played": COUNT, "won": COUNT, "drawn": COUNT, "lost": COUNT, "goals_for": COUNT,
        "goals_against": COUNT, "goal_difference": INT, "points": COUNT,
        "form": {"type": "string", "pattern": "^[WDL]{0,5}$",
                 "description": "the last five results, oldest first"},
    }),
    "LeagueTable": obj({
        "competition": ref("Competition"), "season": STR, "matches": COUNT,
        "last_match": null(TIME), "tiebreak": {"enum": ["goal_difference", "head_to_head"]},
        "rows": array(ref("Standing")),
    }),
}

_ID = {"name": "id", "in": "path", "required": True, "schema": ID_SCHEMA}


def paths() -> dict[str, Schema]:
    """The history operations."""
    return {
        "/v1/events/{id}/bookmaker-odds": {"get": {
            "operationId": "getBookmakerOdds",
            "summary": "Every imported bookmaker price of an event (football-data.co.uk)",
            "parameters": [
                _ID,
                query("bookmaker", listing(BOOKMAKER_ID), "only these bookmakers"),
                query("phase", listing({"enum": PHASES}), "opening and/or closing"),
                query("market_key", MARKET_KEY, "one market, e.g. handicap|hcp=-0.75"),
            ],
            "responses": {"200": _json(ref("BookmakerOdds"), "one entry per outcome price"),
                          "400": BAD, "404": MISSING, "503": DOWN},
        }},
        "/v1/history/status": {"get": {
            "operationId": "getHistoryStatus",
            "summary": "What is imported: seasons, odds by bookmaker and phase, recent runs",
            "parameters": [query("runs", {"type": "integer", "minimum": 1, "maximum": 200},
                                 "recent runs listed (20)")],
            "responses": {"200": _json(ref("HistoryStatus"), "the status"), "400": BAD, "503": DOWN},
        }},
        "/v1/competitions": {"get": {
            "operationId": "listCompetitions",
            "summary": "Competitions with their seasons and event counts",
            "parameters": [query("sport", SPORT_LIST, "only these sports")],
            "responses": {"200": _json(obj({"competitions": array(ref("CompetitionEntry"))}),
                                       "the competitions"), "400": BAD, "503": DOWN},
        }},
        "/v1/competitions/{id}/table": {"get": {
            "operationId": "getLeagueTable",
            "summary": "A season's league table from the results: points, goal difference, form",
            "parameters": [_ID, query("season", SEASON, "e.g. 2018/19 (default: the latest)")],
            "responses": {"200": _json(ref("LeagueTable"), "the table"), "400": BAD,
                          "404": _json(ref("Error"), "no such competition, or no results in the season"),
                          "503": DOWN},
        }},
    }
