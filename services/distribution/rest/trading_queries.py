"""The MySQL reads behind ``/v1/trading/*`` (the trading service writes these tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.distribution.rest.queries import Queries, _in
from shared.enums import Sport
from shared.storage.pool import to_db_datetime
from shared.trading.model import BetStatus

STRATEGY_COLUMNS = "s.name, s.kind, s.bankroll, s.balance, s.config, s.created_at, s.updated_at"
BET_COLUMNS = (
    "b.id, b.strategy, b.event_id, b.sport, b.market_key, b.outcome_id, b.price_taken, b.stake,"
    " b.probability, b.expected_value, b.phase, b.market_version, b.model_version, b.model,"
    " b.message_id, b.placed_at, b.decided_at, b.status, b.payout, b.void_factor,"
    " b.dead_heat_factor, b.certainty, b.settled_at, b.settled_by, b.closing_price,"
    " b.closing_fixed, e.start_time, h.name, a.name"
)
BET_FROM = (
    " FROM trading_bets b LEFT JOIN events e ON e.id = b.event_id"
    " LEFT JOIN competitors h ON h.id = e.home_id LEFT JOIN competitors a ON a.id = e.away_id"
)
FIGURE_COLUMNS = "strategy, stake, price_taken, status, payout, closing_price, closing_fixed"


@dataclass(frozen=True)
class BetFilter:
    """What ``GET /v1/trading/bets`` selects, newest first, and where the page starts."""

    strategies: list[str] = field(default_factory=list)
    statuses: list[BetStatus] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    sports: list[Sport] = field(default_factory=list)
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    before: tuple[datetime, int] | None = None  # the last row of the previous page
    limit: int = 100


def _placed(start: datetime | None, end: datetime | None, where: list[str], args: list[Any],
            column: str = "placed_at") -> None:
    if start is not None:
        where.append(f"{column} >= %s")
        args.append(to_db_datetime(start))
    if end is not None:
        where.append(f"{column} < %s")
        args.append(to_db_datetime(end))


def bets_sql(f: BetFilter) -> tuple[str, list[Any]]:
    """The page query: ``limit + 1`` rows, newest first (keyset on ``placed_at, id``)."""
    where: list[str] = []
    args: list[Any] = []
    _in("b.strategy", f.strategies, where, args)
    _in("b.status", [s.value for s in f.statuses], where, args)
    _in("b.event_id", f.event_ids, where, args)
    _in("b.sport", [s.value for s in f.sports], where, args)
    _placed(f.placed_from, f.placed_to, where, args, "b.placed_at")
    if f.before is not None:
        at, bet_id = f.before
        where.append("(b.placed_at < %s OR (b.placed_at = %s AND b.id < %s))")
        args += [to_db_datetime(at), to_db_datetime(at), bet_id]
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return (f"SELECT {BET_COLUMNS}{BET_FROM}{clause} ORDER BY b.placed_at DESC, b.id DESC LIMIT %s",
            [*args, f.limit + 1])


class TradingQueries(Queries):
    """Strategies, bets, and what the performance figures are computed from."""

    async def strategies(self, names: list[str]) -> list[Any]:
        """Rows of :data:`STRATEGY_COLUMNS` plus open bets, open stake, settled bets and
        settled P/L, by name."""
        where: list[str] = []
        args: list[Any] = []
        _in("s.name", names, where, args)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        async with self._cursor() as cur:
            await cur.execute(
                f"SELECT {STRATEGY_COLUMNS}, COALESCE(SUM(b.status = 'open'), 0),"
                " COALESCE(SUM(IF(b.status = 'open', b.stake, 0)), 0),"
                " COALESCE(SUM(b.status <> 'open'), 0),"
                " COALESCE(SUM(IF(b.status <> 'open', b.payout - b.stake, 0)), 0)"
                f" FROM trading_strategies s LEFT JOIN trading_bets b ON b.strategy = s.name{clause}"
                " GROUP BY s.name ORDER BY s.name", args)
            return list(await cur.fetchall())

    async def bets(self, f: BetFilter) -> list[Any]:
        """Rows of :data:`BET_COLUMNS`, ``limit + 1`` at most."""
        sql, args = bets_sql(f)
        async with self._cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())

    async def figures(self, names: list[str], start: datetime | None, end: datetime | None) -> list[Any]:
        """Rows of :data:`FIGURE_COLUMNS` of the strategies' bets placed in ``[start, end)``."""
        where: list[str] = []
        args: list[Any] = []
        _in("strategy", names, where, args)
        _placed(start, end, where, args)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        async with self._cursor() as cur:
            await cur.execute(f"SELECT {FIGURE_COLUMNS} FROM trading_bets{clause} ORDER BY id", args)
            return list(await cur.fetchall())

    async def ledger_moves(self, names: list[str]) -> list[Any]:
        """``(strategy, at, kind, amount, stake of its bet)`` of every entry, in order."""
        where: list[str] = []
        args: list[Any] = []
        _in("l.strategy", names, where, args)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        async with self._cursor() as cur:
            await cur.execute(
                "SELECT l.strategy, l.at, l.kind, l.amount, b.stake FROM trading_ledger l"
                f" LEFT JOIN trading_bets b ON b.bet_key = l.bet_key{clause} ORDER BY l.id", args)
            return list(await cur.fetchall())
