"""The applied state of one event as a processor holds it, and its Redis snapshot.

States are immutable: deciding a message builds a new state and leaves the old one
alone, so a batch whose transaction fails leaves the worker's memory untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from shared.enums import (
    FINAL_MARKET_STATUSES,
    RESULT_RESOLUTIONS,
    EventStatus,
    MarketStatus,
    Resolution,
    Sport,
)
from shared.live import EventSnapshot, FixtureState, LiveState, MarketState
from shared.markets import OutcomeSettlement


class VoidTerms(NamedTuple):
    """The cancellation in force on a market: its reason and betting window."""

    void_reason: str | None
    start_time: datetime | None
    end_time: datetime | None


class MarketEntry(NamedTuple):
    """A market's published state plus what only the processor needs to remember."""

    state: MarketState
    # Provider whose odds set the market (silence of this provider suspends it).
    provider: str
    # The status a rollback restores once the market is settled or cancelled.
    status_before_final: MarketStatus | None = None
    # The results in force (resolution live_scouted / confirmed), to tell a confirmation
    # from a correction. None when not in memory: loaded before a closing message needs it.
    results: tuple[OutcomeSettlement, ...] | None = None
    # The cancellation in force (resolution void), likewise.
    void: VoidTerms | None = None

    @property
    def status(self) -> MarketStatus:
        """The market's current status."""
        return self.state.status

    @property
    def resolution(self) -> Resolution | None:
        """What is in force about the market's bets (results, void, or nothing yet)."""
        return self.state.resolution

    @property
    def producer(self) -> str:
        """Who priced the market: the producer if the provider named one, else the provider."""
        return self.state.producer or self.provider

    def needs_closing_details(self) -> bool:
        """True when a closing message would need what MySQL has but memory lacks."""
        r = self.state.resolution
        return (
            (self.status in FINAL_MARKET_STATUSES and self.status_before_final is None)
            or (r in RESULT_RESOLUTIONS and self.results is None)
            or (r is Resolution.VOID and self.void is None)
        )


@dataclass(frozen=True, slots=True)
class EventState:
    """Everything applied about one event, at one version."""

    event_id: str
    sport: Sport
    version: int
    last_provider_ts: datetime
    provider: str
    status: EventStatus
    fixture: FixtureState
    live: LiveState | None = None
    markets: Mapping[str, MarketEntry] = field(default_factory=dict)
    updated_at: datetime | None = None

    def snapshot(self) -> EventSnapshot:
        """The snapshot distribution serves for this state."""
        return EventSnapshot(
            event_id=self.event_id,
            sport=self.sport,
            version=self.version,
            status=self.status,
            fixture=self.fixture,
            live=self.live,
            markets={key: entry.state for key, entry in self.markets.items()},
            updated_at=self.updated_at,
        )
