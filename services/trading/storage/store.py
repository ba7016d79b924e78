"""The trading service's MySQL: strategies at start, then one transaction per batch of deltas.

:meth:`TradingStore.apply` is the exactly-once step. In one transaction it

1. makes sure each event of the batch has its ``trading_events`` row and locks them all
   (``SELECT ... FOR UPDATE``, ids sorted so two workers cannot deadlock);
2. locks the strategies' rows (balances change with every bet and settlement);
3. loads every bet of the batch's events;
4. lets the engine apply the deltas to that book (a delta at or below its event's
   version is a replay: no effect);
5. writes the new bets, the changed bets, the ledger entries, the balances and the
   events' progress, and commits.

The caller acknowledges the Kafka records only after this returns, so an offset is
never committed before the effects of its record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.trading.domain.book import Bet, Book, LedgerEntry, Progress, deposit_key
from services.trading.domain.engine import Engine
from services.trading.domain.strategies import Strategy
from shared.enums import EventStatus, Sport
from shared.live import EventDelta
from shared.storage.pool import Pool, from_db_datetime, ping, to_db_datetime
from shared.trading.model import BetPhase, BetStatus, LedgerKind

BET_COLUMNS = (
    "bet_key", "strategy", "event_id", "sport", "market_key", "outcome_id", "price_taken", "stake",
    "probability", "expected_value", "phase", "market_version", "model_version", "model",
    "message_id", "placed_at", "status", "payout", "void_factor", "dead_heat_factor", "certainty",
    "settled_at", "settled_by", "closing_price", "closing_fixed",
)
# What a settlement or a closing line changes on a bet.
BET_UPDATES = ("status", "payout", "void_factor", "dead_heat_factor", "certainty", "settled_at",
               "settled_by", "closing_price", "closing_fixed")
LEDGER_COLUMNS = ("entry_key", "strategy", "kind", "amount", "balance", "bet_key", "event_id",
                  "message_id", "at")
PROBABILITY = Decimal("1e-10")
EXPECTED_VALUE = Decimal("1e-8")


def _db_time(value: datetime | None) -> datetime | None:
    return to_db_datetime(value) if value is not None else None


def bet_row(bet: Bet) -> tuple[Any, ...]:
    """The ``BET_COLUMNS`` values of a bet."""
    return (
        bet.key, bet.strategy, bet.event_id, bet.sport.value, bet.market_key, bet.outcome_id,
        bet.price, bet.stake, Decimal(repr(bet.probability)).quantize(PROBABILITY),
        Decimal(repr(bet.edge)).quantize(EXPECTED_VALUE), bet.phase.value, bet.market_version,
        bet.model_version, bet.model, bet.message_id, to_db_datetime(bet.placed_at),
        *_changing(bet),
    )


def _changing(bet: Bet) -> tuple[Any, ...]:
    return (bet.status.value, bet.payout, bet.void_factor, bet.dead_heat_factor, bet.certainty,
            _db_time(bet.settled_at), bet.settled_by, bet.closing_price, bet.closing_fixed)


def bet_from_row(row: Sequence[Any]) -> Bet:
    """A bet from a row of ``BET_COLUMNS``."""
    (key, strategy, event_id, sport, market_key, outcome_id, price, stake, probability, value,
     phase, market_version, model_version, model, message_id, placed_at, status, payout,
     void_factor, dead_heat, certainty, settled_at, settled_by, closing, fixed) = row
    return Bet(
        key=key, strategy=strategy, event_id=event_id, sport=Sport(sport), market_key=market_key,
        outcome_id=outcome_id, price=price, stake=stake, probability=float(probability),
        edge=float(value), phase=BetPhase(phase), market_version=int(market_version),
        model_version=int(model_version), model=model, placed_at=from_db_datetime(placed_at),
        message_id=message_id, status=BetStatus(status), payout=payout, void_factor=void_factor,
        dead_heat_factor=dead_heat, certainty=certainty,
        settled_at=from_db_datetime(settled_at) if settled_at is not None else None,
        settled_by=settled_by, closing_price=closing, closing_fixed=bool(fixed),
    )


def ledger_row(entry: LedgerEntry) -> tuple[Any, ...]:
    """The ``LEDGER_COLUMNS`` values of an entry."""
    return (entry.key, entry.strategy, entry.kind.value, entry.amount, entry.balance, entry.bet_key,
            entry.event_id, entry.message_id, to_db_datetime(entry.at))


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


class TradingStore:
    """Reads and writes of the trading service over a pool."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def ping(self) -> None:
        """Raise unless MySQL answers."""
        await ping(self.pool)

    async def ensure_strategies(self, strategies: Sequence[Strategy], now: datetime) -> list[str]:
        """Register the configured strategies; returns the names deposited for the first time.

        A new strategy gets its row and its deposit (ledger) in one transaction; a known one
        only has its configuration updated: its bankroll and balance stay as the ledger says.
        """
        created: list[str] = []
        async with self.pool.acquire() as conn:
            try:
                async with conn.cursor() as cur:
                    for s in strategies:
                        config = s.model_dump_json()
                        await cur.execute("SELECT kind FROM trading_strategies WHERE name = %s FOR UPDATE",
                                          (s.name,))
                        if await cur.fetchone() is not None:
                            await cur.execute("UPDATE trading_strategies SET kind = %s, config = %s"
                                              " WHERE name = %s", (s.kind.value, config, s.name))
                            continue
                        await cur.execute(
                            "INSERT INTO trading_strategies (name, kind, bankroll, balance, config)"
                            " VALUES (%s, %s, %s, %s, %s)",
                            (s.name, s.kind.value, s.bankroll, s.bankroll, config))
                        await cur.execute(
                            f"INSERT INTO trading_ledger ({', '.join(LEDGER_COLUMNS)})"
                            f" VALUES ({_marks(len(LEDGER_COLUMNS))})",
                            (deposit_key(s.name), s.name, LedgerKind.DEPOSIT.value, s.bankroll,
                             s.bankroll, None, None, None, to_db_datetime(now)))
                        created.append(s.name)
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
        return created

    async def apply(self, deltas: Sequence[EventDelta], engine: Engine, now: datetime) -> Book:
        """Apply a batch of deltas in one transaction (see the module docstring)."""
        async with self.pool.acquire() as conn:
            try:
                async with conn.cursor() as cur:
                    book = await self._load(cur, deltas, engine)
                    for delta in deltas:
                        engine.apply(book, delta, now)
                    await self._write(cur, book, now)
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
        return book

    async def _load(self, cur: Any, deltas: Sequence[EventDelta], engine: Engine) -> Book:
        sports = {d.event_id: d.sport for d in deltas}
        events = sorted(sports)
        # ON DUPLICATE KEY rather than INSERT IGNORE: the same effect without a warning
        # per known event.
        await cur.execute(
            f"INSERT INTO trading_events (event_id, sport) VALUES"
            f" {', '.join(['(%s, %s)'] * len(events))} ON DUPLICATE KEY UPDATE event_id = event_id",
            [v for e in events for v in (e, sports[e].value)])
        await cur.execute(
            "SELECT event_id, sport, version, last_live_version, status FROM trading_events"
            f" WHERE event_id IN ({_marks(len(events))}) ORDER BY event_id FOR UPDATE", events)
        progress = {
            e: Progress(e, Sport(sport), int(version), int(live), EventStatus(status) if status else None)
            for e, sport, version, live, status in await cur.fetchall()
        }
        names = sorted(s.name for s in engine.strategies)
        await cur.execute(f"SELECT name, balance FROM trading_strategies WHERE name IN ({_marks(len(names))})"
                          " ORDER BY name FOR UPDATE", names)
        balances = {name: balance for name, balance in await cur.fetchall()}
        missing = set(names) - balances.keys()
        if missing:
            raise RuntimeError(f"strategies not registered: {', '.join(sorted(missing))}")
        await cur.execute(f"SELECT {', '.join(BET_COLUMNS)} FROM trading_bets"
                          f" WHERE event_id IN ({_marks(len(events))}) ORDER BY id", events)
        book = Book(balances=balances, progress=progress)
        for row in await cur.fetchall():
            book.add(bet_from_row(row))
        return book

    async def _write(self, cur: Any, book: Book, now: datetime) -> None:
        if book.new_bets:
            await cur.executemany(
                f"INSERT INTO trading_bets ({', '.join(BET_COLUMNS)}, decided_at)"
                f" VALUES ({_marks(len(BET_COLUMNS) + 1)})",
                [(*bet_row(b), to_db_datetime(now)) for b in book.new_bets])
        new = {b.key for b in book.new_bets}
        changed = [b for bets in book.bets.values() for b in bets if b.changed and b.key not in new]
        if changed:
            await cur.executemany(
                f"UPDATE trading_bets SET {', '.join(f'{c} = %s' for c in BET_UPDATES)}"
                " WHERE bet_key = %s", [(*_changing(b), b.key) for b in changed])
        if book.ledger:
            await cur.executemany(
                f"INSERT INTO trading_ledger ({', '.join(LEDGER_COLUMNS)})"
                f" VALUES ({_marks(len(LEDGER_COLUMNS))})", [ledger_row(e) for e in book.ledger])
            moved = {e.strategy for e in book.ledger}
            await cur.executemany("UPDATE trading_strategies SET balance = %s WHERE name = %s",
                                  [(book.balances[name], name) for name in sorted(moved)])
        progressed = [p for p in book.progress.values() if p.changed]
        if progressed:
            await cur.executemany(
                "UPDATE trading_events SET version = %s, last_live_version = %s, status = %s"
                " WHERE event_id = %s",
                [(p.version, p.last_live_version, p.status.value if p.status else None, p.event_id)
                 for p in progressed])

