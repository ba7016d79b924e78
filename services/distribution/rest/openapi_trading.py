"""The OpenAPI part of the paper-trading endpoints (``rest/trading.py``), merged by ``openapi.py``."""

from __future__ import annotations

from services.distribution.rest.openapi import (
    BAD,
    CURSOR,
    DECIMAL_PATTERN,
    DOWN,
    ID_SCHEMA,
    INT,
    PRICE,
    SPORT_LIST,
    SPORTS,
    STR,
    TIME,
    TIME_QUERY,
    Schema,
    _json,
    array,
    listing,
    null,
    obj,
    query,
    ref,
)
from services.distribution.rest.params import BET_CURSOR_PATTERN
from shared.trading.model import BetPhase, BetStatus, StrategyKind

MONEY: Schema = {"type": "string", "pattern": DECIMAL_PATTERN, "description": "an exact decimal amount"}
NUMBER: Schema = {"type": "number"}
RATIO: Schema = {"type": ["number", "null"], "description": "null when its denominator is zero"}
COUNT: Schema = {"type": "integer", "minimum": 0}
NAME: Schema = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_\-]{0,63}$"}
STATUSES = [s.value for s in BetStatus]
NAMES = query("strategy", listing(NAME), "only these strategies")

SCHEMAS: dict[str, Schema] = {
    "StrategyConfig": obj({
        "name": NAME, "kind": {"enum": [k.value for k in StrategyKind]}, "bankroll": MONEY,
        "threshold": null(NUMBER), "stake_share": null(NUMBER), "min_edge": null(NUMBER),
        "kelly_fraction": null(NUMBER), "max_stake_share": null(NUMBER),
        "sports": array({"enum": SPORTS}), "markets": array(STR),
        "phase": {"enum": ["pre_match", "in_play", "any"]}, "min_price": MONEY, "max_price": MONEY,
        "max_bets_per_outcome": {"type": "integer", "minimum": 1}, "min_stake": MONEY,
        "min_sides_rated": {"type": "integer", "minimum": 0, "maximum": 2,
                            "description": "bets only where the model rated this many sides"},
        "description": STR,
    }),
    "TradingStrategy": obj({
        "name": NAME, "kind": {"enum": [k.value for k in StrategyKind]}, "description": null(STR),
        "bankroll": MONEY | {"description": "the starting bankroll"},
        "balance": MONEY | {"description": "available: open stakes are reserved"},
        "equity": MONEY | {"description": "bankroll + settled P/L"}, "profit": MONEY,
        "open_bets": COUNT, "open_stake": MONEY, "settled_bets": COUNT,
        "config": ref("StrategyConfig"), "created_at": TIME, "updated_at": TIME,
    }),
    "TradingBet": obj({
        "id": INT, "strategy": NAME, "event_id": STR, "sport": {"enum": SPORTS},
        "event": {"anyOf": [obj({"home": STR, "away": STR, "start_time": null(TIME)}),
                            {"type": "null"}]},
        "market_key": STR, "outcome_id": STR, "price": PRICE, "stake": MONEY,
        "probability": NUMBER | {"description": "the model's (effective for lines)"},
        "expected_value": NUMBER | {"description": "probability x price - 1"},
        "phase": {"enum": [p.value for p in BetPhase]},
        "market_version": COUNT, "model_version": COUNT, "model": STR, "message_id": STR,
        "placed_at": TIME | {"description": "provider time of the price taken"},
        "decided_at": TIME, "status": {"enum": STATUSES}, "payout": null(MONEY),
        "profit": null(MONEY), "void_factor": null(PRICE), "dead_heat_factor": null(PRICE),
        "certainty": {"enum": ["live_scouted", "confirmed", None]}, "settled_at": null(TIME),
        "settled_by": null(STR), "closing_price": null(PRICE),
        "closing_fixed": {"type": "boolean",
                          "description": "the market stopped: closing_price is the closing line"},
        "clv": RATIO | {"description": "price / closing price - 1, once the line closed"},
    }),
    "TradingBetPage": obj({"bets": array(ref("TradingBet")), "next_cursor": null(STR)}),
    "TradingPerformance": obj({
        "bets": COUNT, "open_bets": COUNT, "open_stake": MONEY, "settled": COUNT,
        "stake_back": COUNT | {"description": "pushes and voids"}, "wins": COUNT,
        "turnover": MONEY | {"description": "stakes of settled bets that ran a risk"},
        "returned": MONEY, "profit": MONEY,
        "roi": RATIO | {"description": "profit / bankroll"},
        "yield": RATIO | {"description": "profit / turnover"}, "hit_rate": RATIO,
        "max_drawdown": MONEY, "max_drawdown_share": RATIO,
        "clv": obj({"bets": COUNT, "mean": RATIO, "beat_share": RATIO}),
    }),
    "TradingPoint": obj({"at": TIME, "equity": MONEY, "profit": MONEY, "drawdown": MONEY}),
    "TradingStrategyPerformance": obj({
        "name": NAME, "kind": {"enum": [k.value for k in StrategyKind]}, "bankroll": MONEY,
        "balance": MONEY, "equity": MONEY, "performance": ref("TradingPerformance"),
        "series": array(ref("TradingPoint")) | {"description": "the realised bankroll after each settlement"},
    }),
}


def paths(page_max: int = 500) -> dict[str, Schema]:
    """The trading operations (bets pages of at most ``page_max``)."""
    return {
        "/v1/trading/strategies": {"get": {
            "operationId": "listTradingStrategies",
            "summary": "Paper-trading strategies: configuration, bankroll, balance, open bets",
            "parameters": [NAMES],
            "responses": {"200": _json(obj({"strategies": array(ref("TradingStrategy"))}),
                                       "the strategies"), "400": BAD, "503": DOWN},
        }},
        "/v1/trading/bets": {"get": {
            "operationId": "listTradingBets",
            "summary": "Paper bets, newest first, filtered, with cursor paging",
            "parameters": [
                NAMES,
                query("status", listing({"enum": STATUSES}), "only these statuses"),
                query("event_id", listing(ID_SCHEMA), "only these events"),
                query("sport", SPORT_LIST, "only these sports (those the key covers)"),
                query("from", TIME_QUERY, "placed from (inclusive)"),
                query("to", TIME_QUERY, "placed before (exclusive)"),
                query("limit", {"type": "integer", "minimum": 1, "maximum": page_max},
                      f"page size ({min(100, page_max)})"),
                query("cursor", CURSOR | {"pattern": BET_CURSOR_PATTERN},
                      "`next_cursor` of the previous page"),
            ],
            "responses": {"200": _json(ref("TradingBetPage"), "one page"), "400": BAD, "503": DOWN},
        }},
        "/v1/trading/performance": {"get": {
            "operationId": "getTradingPerformance",
            "summary": "P/L, ROI, yield, hit rate, drawdown, CLV and the bankroll curve",
            "parameters": [
                NAMES,
                query("from", TIME_QUERY, "bets placed (and curve points) from (inclusive)"),
                query("to", TIME_QUERY, "before (exclusive)"),
                query("points", {"type": "integer", "minimum": 1, "maximum": 1000},
                      "at most this many curve points (200)"),
            ],
            "responses": {"200": _json(obj({"from": null(TIME), "to": null(TIME),
                                            "strategies": array(ref("TradingStrategyPerformance"))}),
                                       "the figures"), "400": BAD, "503": DOWN},
        }},
    }
