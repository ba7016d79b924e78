"""What one batch works on: its events' bets and progress, the balances, and what changes.

A :class:`Book` is loaded from MySQL inside the batch's transaction (the events locked),
changed by the engine (:mod:`.engine`) in memory, and written back in the same
transaction: new bets, changed bets, new ledger entries, balances and progress. A
retried batch loads a fresh book, so nothing of a failed attempt survives.

Idempotency keys are derived from what caused each effect, never from a clock or a
counter, so a replayed record maps to the same keys (the keys are unique in MySQL, a
second guard behind the per-event progress):

- a bet: ``sha256("bet", strategy, event, version of the delta with the price, market,
  outcome)``;
- a ledger entry: ``sha256(kind, bet key, event, version of the delta that caused it)``;
- the deposit of a strategy: ``sha256("deposit", strategy)``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from shared.enums import EventStatus, Sport
from shared.trading.model import BetPhase, BetStatus, LedgerKind


def digest(*parts: object) -> str:
    """The hex SHA-256 of the parts joined by ``|``: an idempotency key."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def bet_key(strategy: str, event_id: str, version: int, market_key: str, outcome_id: str) -> str:
    """The key of the bet a strategy places on a price seen at ``version``."""
    return digest("bet", strategy, event_id, version, market_key, outcome_id)


def entry_key(kind: LedgerKind, bet: str, event_id: str, version: int) -> str:
    """The key of a ledger entry of ``bet`` caused by the delta at ``version``."""
    return digest(kind.value, bet, event_id, version)


def deposit_key(strategy: str) -> str:
    """The key of a strategy's starting deposit."""
    return digest(LedgerKind.DEPOSIT.value, strategy)


@dataclass
class Bet:
    """One paper bet: what was taken, and where it stands."""

    key: str
    strategy: str
    event_id: str
    sport: Sport
    market_key: str
    outcome_id: str
    price: Decimal
    stake: Decimal
    probability: float
    edge: float
    phase: BetPhase
    market_version: int  # the event's feed version of the price taken
    model_version: int  # the event version the model prices were computed from
    model: str
    placed_at: datetime  # the price's provider time (what cancellation windows compare)
    message_id: str  # the feed message that brought the price
    status: BetStatus = BetStatus.OPEN
    payout: Decimal | None = None
    void_factor: Decimal | None = None
    dead_heat_factor: Decimal | None = None
    certainty: str | None = None
    settled_at: datetime | None = None
    settled_by: str | None = None
    closing_price: Decimal | None = None
    closing_fixed: bool = False
    changed: bool = False  # to be written back


@dataclass
class Progress:
    """How far the feed of one event has been applied, and what recency needs of it."""

    event_id: str
    sport: Sport
    version: int = 0  # the last delta applied (a replayed delta is at or below it)
    last_live_version: int = 0  # the last delta with a live state, fixture or status change
    status: EventStatus | None = None
    changed: bool = False


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One bankroll movement."""

    key: str
    strategy: str
    kind: LedgerKind
    amount: Decimal
    balance: Decimal  # the strategy's balance after it
    bet_key: str | None
    event_id: str | None
    message_id: str | None
    at: datetime  # when the platform applied its cause


@dataclass
class Book:
    """The state of one batch (see the module docstring)."""

    balances: dict[str, Decimal]
    progress: dict[str, Progress] = field(default_factory=dict)
    bets: dict[tuple[str, str], list[Bet]] = field(default_factory=dict)  # by (event, market)
    new_bets: list[Bet] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    # Prices seen by this batch (committed to the engine's memory after the commit).
    seen: dict[tuple[str, str, str], Decimal | None] = field(default_factory=dict)
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (strategy, outcome)
    settled: Counter[tuple[str, str]] = field(default_factory=Counter)  # (strategy, status)
    replays: int = 0
    applied: int = 0

    def add(self, bet: Bet) -> None:
        """A bet of the book (loaded or new)."""
        self.bets.setdefault((bet.event_id, bet.market_key), []).append(bet)

    def market_bets(self, event_id: str, market_key: str) -> list[Bet]:
        """The event's bets on one market."""
        return self.bets.get((event_id, market_key), [])

    def count(self, strategy: str, event_id: str, market_key: str, outcome_id: str) -> int:
        """How many bets a strategy holds on one outcome (whatever their status)."""
        return sum(1 for b in self.bets.get((event_id, market_key), ())
                   if b.strategy == strategy and b.outcome_id == outcome_id)

    def move(self, kind: LedgerKind, bet: Bet, amount: Decimal, version: int,
             message_id: str, at: datetime) -> None:
        """Book ``amount`` for ``bet`` (caused by the delta at ``version``)."""
        balance = self.balances[bet.strategy] + amount
        self.balances[bet.strategy] = balance
        self.ledger.append(LedgerEntry(
            entry_key(kind, bet.key, bet.event_id, version), bet.strategy, kind, amount, balance,
            bet.key, bet.event_id, message_id, at,
        ))

    def place(self, bet: Bet, at: datetime) -> None:
        """A new bet: its stake reserved."""
        self.add(bet)
        self.new_bets.append(bet)
        self.move(LedgerKind.STAKE, bet, -bet.stake, bet.market_version, bet.message_id, at)
