"""Paper-trading endpoints: ``GET /v1/trading/strategies``, ``/v1/trading/bets`` and
``/v1/trading/performance`` (``docs/trading.md``, ``docs/rest.md``, ``/openapi.json``).

A key limited to some sports sees the bets of those sports only; the strategies and
their performance are the platform's own paper results, not any sport's data.

The trading service writes the tables; these read them. Money and prices are exact
decimal strings, ratios are numbers; the figures are :mod:`shared.trading.performance`'s,
the same the backtest reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from services.distribution.rest.access import scoped_sports
from services.distribution.rest.handlers import ctx_of, json_response
from services.distribution.rest.params import (
    BET_CURSOR_PATTERN,
    ParamError,
    decode_cursor,
    encode_cursor,
    one,
    parse_enums,
    parse_ids,
    parse_limit,
    parse_range,
)
from services.distribution.rest.trading_queries import BetFilter, TradingQueries
from services.distribution.rest.views import decimal_text, iso
from shared.enums import Sport
from shared.storage.pool import from_db_datetime
from shared.trading.model import BetStatus, LedgerKind
from shared.trading.performance import (
    BetFigures,
    LedgerMove,
    Performance,
    SeriesPoint,
    closing_line_value,
    downsample,
    equity_series,
    summarise,
)

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")
POINTS_MAX = 1000


def parse_names(query: Mapping[str, str]) -> list[str]:
    """``strategy=value-ev,kelly-quarter``."""
    text = one(query, "strategy")
    if text is None:
        return []
    names = text.split(",")
    if len(names) > 50 or not all(NAME_RE.fullmatch(n) for n in names):
        raise ParamError("strategy", "at most 50 strategy names of 1-64 characters a-z 0-9 _ -")
    return list(dict.fromkeys(names))


def _queries(request: web.Request) -> TradingQueries:
    return TradingQueries(ctx_of(request).pool)


def _ratio(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None


def _money(value: Decimal) -> str:
    return decimal_text(value) or "0"


def strategy_view(row: Sequence[Any]) -> dict[str, Any]:
    """One strategy from a ``TradingQueries.strategies`` row."""
    (name, kind, bankroll, balance, config, created, updated, open_bets, open_stake, settled,
     profit) = row
    stored = orjson.loads(config)
    return {
        "name": name, "kind": kind, "description": stored.get("description") or None,
        "bankroll": _money(bankroll), "balance": _money(balance),
        "equity": _money(bankroll + profit), "profit": _money(profit),
        "open_bets": int(open_bets), "open_stake": _money(open_stake), "settled_bets": int(settled),
        "config": stored, "created_at": iso(created), "updated_at": iso(updated),
    }


def bet_view(row: Sequence[Any]) -> dict[str, Any]:
    """One bet from a ``TradingQueries.bets`` row."""
    (bet_id, strategy, event_id, sport, market_key, outcome_id, price, stake, probability, value,
     phase, market_version, model_version, model, message_id, placed_at, decided_at, status,
     payout, void_factor, dead_heat, certainty, settled_at, settled_by, closing, fixed,
     start_time, home, away) = row
    return {
        "id": int(bet_id), "strategy": strategy, "event_id": event_id, "sport": sport,
        "event": {"home": home, "away": away, "start_time": iso(start_time)} if home else None,
        "market_key": market_key, "outcome_id": outcome_id, "price": decimal_text(price),
        "stake": _money(stake), "probability": float(probability), "expected_value": float(value),
        "phase": phase, "market_version": int(market_version), "model_version": int(model_version),
        "model": model, "message_id": message_id, "placed_at": iso(placed_at),
        "decided_at": iso(decided_at), "status": status,
        "payout": decimal_text(payout), "profit": _money(payout - stake) if payout is not None else None,
        "void_factor": decimal_text(void_factor), "dead_heat_factor": decimal_text(dead_heat),
        "certainty": certainty, "settled_at": iso(settled_at), "settled_by": settled_by,
        "closing_price": decimal_text(closing), "closing_fixed": bool(fixed),
        "clv": _ratio(closing_line_value(price, closing)) if fixed and closing else None,
    }


def performance_view(perf: Performance) -> dict[str, Any]:
    """The figures of one strategy."""
    return {
        "bets": perf.bets, "open_bets": perf.open_bets, "open_stake": _money(perf.open_stake),
        "settled": perf.settled, "stake_back": perf.stake_back, "wins": perf.wins,
        "turnover": _money(perf.turnover), "returned": _money(perf.returned),
        "profit": _money(perf.profit), "roi": _ratio(perf.roi), "yield": _ratio(perf.yield_),
        "hit_rate": _ratio(perf.hit_rate), "max_drawdown": _money(perf.max_drawdown),
        "max_drawdown_share": _ratio(perf.max_drawdown_share),
        "clv": {"bets": perf.clv_bets, "mean": _ratio(perf.clv_mean),
                "beat_share": _ratio(perf.clv_beat_share)},
    }


def point_view(point: SeriesPoint) -> dict[str, Any]:
    """One point of the bankroll curve."""
    return {"at": iso(point.at), "equity": _money(point.equity), "profit": _money(point.profit),
            "drawdown": _money(point.drawdown)}


def _within(points: list[SeriesPoint], start: datetime | None, end: datetime | None) -> list[SeriesPoint]:
    return [p for p in points if (start is None or p.at >= start) and (end is None or p.at < end)]


async def strategies(request: web.Request) -> web.Response:
    """``GET /v1/trading/strategies``: each strategy, its configuration and balances."""
    rows = await _queries(request).strategies(parse_names(request.query))
    return json_response({"strategies": [strategy_view(r) for r in rows]})


async def bets(request: web.Request) -> web.Response:
    """``GET /v1/trading/bets``: filtered, newest first, cursor paged."""
    ctx = ctx_of(request)
    q = request.query
    start, end = parse_range(q)
    after = decode_cursor(q, BET_CURSOR_PATTERN)
    f = BetFilter(
        strategies=parse_names(q), statuses=parse_enums(q, "status", BetStatus),
        event_ids=parse_ids(q, "event_id"), sports=scoped_sports(request, parse_enums(q, "sport", Sport)),
        placed_from=start, placed_to=end,
        before=(after[0], int(after[1])) if after is not None else None,
        limit=parse_limit(q, default=min(100, ctx.settings.page_max), maximum=ctx.settings.page_max),
    )
    rows = await _queries(request).bets(f)
    page = rows[: f.limit]
    next_cursor = None
    if len(rows) > f.limit:
        last = page[-1]
        next_cursor = encode_cursor(from_db_datetime(last[15]), str(last[0]))
    return json_response({"bets": [bet_view(r) for r in page], "next_cursor": next_cursor})


async def performance(request: web.Request) -> web.Response:
    """``GET /v1/trading/performance``: each strategy's figures and its bankroll curve."""
    q = request.query
    start, end = parse_range(q)
    points = parse_limit(q, default=200, maximum=POINTS_MAX, name="points")
    tq = _queries(request)
    rows = await tq.strategies(parse_names(q))
    names = [r[0] for r in rows]
    figures: dict[str, list[BetFigures]] = {n: [] for n in names}
    moves: dict[str, list[LedgerMove]] = {n: [] for n in names}
    if names:
        for name, stake, price, status, payout, closing, fixed in await tq.figures(names, start, end):
            figures[name].append(BetFigures(stake, price, BetStatus(status), payout,
                                            closing if fixed else None))
        for name, at, kind, amount, stake in await tq.ledger_moves(names):
            moves[name].append(LedgerMove(from_db_datetime(at), LedgerKind(kind), amount, stake))
    out = []
    for row in rows:
        view = strategy_view(row)
        bankroll = row[2]
        series = _within(equity_series(moves[row[0]], bankroll), start, end)
        perf = summarise(figures[row[0]], bankroll, [p.equity for p in series])
        out.append({"name": view["name"], "kind": view["kind"], "bankroll": view["bankroll"],
                    "balance": view["balance"], "equity": view["equity"],
                    "performance": performance_view(perf),
                    "series": [point_view(p) for p in downsample(series, points)]})
    return json_response({"from": iso(start), "to": iso(end), "strategies": out})
