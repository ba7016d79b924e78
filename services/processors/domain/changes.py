"""The rows an applied message adds besides the event's new state (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from services.processors.domain.state import MarketEntry, VoidTerms
from shared.enums import EventStatus, MarketStatus, Resolution, SettlementResult
from shared.live import (
    AppliedCancellation,
    AppliedSettlement,
    FixtureState,
    LiveState,
    MarketState,
    RefusedMarket,
    construct,
)
from shared.markets import OutcomeSettlement


class Refused(Exception):
    """A message breaks a stateful rule; the text is the ledger's reason.

    ``parts`` lists the markets refused one by one when that is why nothing applied.
    """

    def __init__(self, reason: str, parts: tuple[RefusedMarket, ...] = ()) -> None:
        super().__init__(reason)
        self.parts = parts


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


class RowMark(NamedTuple):
    """Take the in-force settlement or cancellation rows of one market out of force.

    ``rolled_back``: a rollback undid them; ``superseded``: newer rows of the same kind
    (a confirmation or a correction) replace them. Either way the rows stay, marked.
    """

    table: Literal["settlements", "cancellations"]
    event_id: str
    market_key: str
    message_id: str
    action: Literal["rolled_back", "superseded"]


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
    marks: list[RowMark] = field(default_factory=list)
    settled: list[AppliedSettlement] = field(default_factory=list)
    voided: list[AppliedCancellation] = field(default_factory=list)
    rolled_back: tuple[str, ...] = ()
    # Markets of the message that were not applied (the rest was), with the reason.
    refused: list[RefusedMarket] = field(default_factory=list)
    # Markets the message named that were already as it says (nothing to change).
    unchanged: list[str] = field(default_factory=list)

    def refuse(self, market_key: str, reason: str) -> None:
        """Leave one market of the message out, with the reason."""
        self.refused.append(RefusedMarket(market_key=market_key, reason=reason[:1000]))

    def check_applied(self) -> None:
        """Raise :class:`Refused` when every market the message named was refused.

        A message with at least one market applied (or already as it says) is applied,
        its refused markets listed; one whose every market was refused is rejected.
        """
        if not self.refused or self.markets or self.settled or self.voided or self.marks \
                or self.unchanged:
            return
        if len(self.refused) == 1:
            raise Refused(self.refused[0].reason, tuple(self.refused))
        raise Refused(
            f"no market applied ({len(self.refused)} refused): "
            + "; ".join(f"{r.market_key}: {r.reason}" for r in self.refused),
            tuple(self.refused),
        )


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


_KEEP: Any = object()


def with_status(
    entry: MarketEntry,
    status: MarketStatus,
    reason: str | None,
    provider_ts: datetime | None,
    *,
    before_final: MarketStatus | None = None,
    resolution: Resolution | None = _KEEP,
    results: tuple[OutcomeSettlement, ...] | None = _KEEP,
    void: VoidTerms | None = _KEEP,
) -> MarketEntry:
    """The entry with a new status and reason; resolution and what is in force kept
    unless given (when closing, ``before_final`` is the status a rollback restores)."""
    values = {
        **entry.state.__dict__,
        "status": status,
        "status_reason": reason,
        "provider_ts": provider_ts or entry.state.provider_ts,
    }
    if resolution is not _KEEP:
        values["resolution"] = resolution
    new = construct(MarketState, values)
    return MarketEntry(
        new, entry.provider, before_final,
        entry.results if results is _KEEP else results,
        entry.void if void is _KEEP else void,
    )
