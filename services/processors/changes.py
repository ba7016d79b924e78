"""The rows an applied message adds besides the event's new state (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, NamedTuple

from services.processors.state import MarketEntry, construct
from shared.enums import EventStatus, MarketStatus, SettlementResult
from shared.live import FixtureState, LiveState, MarketState
from shared.markets import MarketSettlement


class Refused(Exception):
    """A message breaks a stateful rule; the text is the ledger's reason."""


# Rows are NamedTuples rather than frozen dataclasses: a batch builds thousands of them
# and a tuple is several times cheaper to create.


class OddsRow(NamedTuple):
    """One ``odds_history`` row: an outcome whose price, active flag or market status changed."""

    event_id: str
    market_key: str
    outcome_id: str
    price: Decimal | None
    active: bool
    market_status: MarketStatus
    provider_ts: datetime
    message_id: str


class SettlementRow(NamedTuple):
    """One ``settlements`` row."""

    event_id: str
    market_key: str
    outcome_id: str
    result: SettlementResult
    void_factor: Decimal
    dead_heat_factor: Decimal | None
    certainty: str
    message_id: str
    provider_ts: datetime


class CancellationRow(NamedTuple):
    """One ``cancellations`` row."""

    event_id: str
    market_key: str
    void_reason: str | None
    start_time: datetime | None
    end_time: datetime | None
    message_id: str
    provider_ts: datetime


class RollbackMark(NamedTuple):
    """Mark the in-force settlement or cancellation rows of one market as rolled back."""

    table: Literal["settlements", "cancellations"]
    event_id: str
    market_key: str
    message_id: str


class LivenessMark(NamedTuple):
    """An alive message: the provider was heard from at ``alive_at`` (its provider time)."""

    provider: str
    alive_at: datetime


@dataclass(slots=True)
class Change:
    """What one message changes, before it becomes a new state and a delta."""

    status: EventStatus | None = None
    fixture: FixtureState | None = None
    live: LiveState | None = None
    markets: dict[str, MarketEntry] = field(default_factory=dict)
    odds: list[OddsRow] = field(default_factory=list)
    settlements: list[SettlementRow] = field(default_factory=list)
    cancellations: list[CancellationRow] = field(default_factory=list)
    rollbacks: list[RollbackMark] = field(default_factory=list)
    settled: tuple[MarketSettlement, ...] = ()
    rolled_back: tuple[str, ...] = ()


def history_rows(
    event_id: str,
    old: MarketEntry | None,
    new: MarketState,
    provider_ts: datetime,
    message_id: str,
) -> list[OddsRow]:
    """Odds-history rows for a market update: only real changes are history.

    A new market or a status change records every outcome; otherwise only outcomes
    whose price or active flag moved.
    """
    status, key = new.status, new.market_key
    if old is None or old.status is not status:
        return [
            OddsRow(event_id, key, o.id, o.price, o.active, status, provider_ts, message_id)
            for o in new.outcomes
        ]
    before = {o.id: o for o in old.state.outcomes}
    rows = []
    for o in new.outcomes:
        prior = before.get(o.id)
        if prior is None or prior.price != o.price or prior.active is not o.active:
            rows.append(OddsRow(event_id, key, o.id, o.price, o.active, status, provider_ts,
                                message_id))
    return rows


def with_status(
    entry: MarketEntry,
    status: MarketStatus,
    reason: str | None,
    provider_ts: datetime | None,
    before_final: MarketStatus | None = None,
) -> MarketEntry:
    """The entry with a new status and reason (and, when closing, what to restore)."""
    new = construct(MarketState, {
        **entry.state.__dict__,
        "status": status,
        "status_reason": reason,
        "provider_ts": provider_ts or entry.state.provider_ts,
    })
    return MarketEntry(new, entry.provider, before_final)
