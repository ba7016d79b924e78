"""The applied state of one event as a processor holds it, and its Redis snapshot.

States are immutable: deciding a message builds a new state and leaves the old one
alone, so a batch whose transaction fails leaves the worker's memory untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from shared.enums import (
    FINAL_MARKET_STATUSES,
    RESULT_RESOLUTIONS,
    EventStatus,
    MarketStatus,
    Resolution,
    Sport,
)
from shared.live import EventSnapshot, FixtureState, LiveState, MarketState, OutcomeState
from shared.markets import Outcome, OutcomeSettlement
from shared.rules import rules_for


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


M = TypeVar("M", bound=BaseModel)
_FIELDS: dict[type[BaseModel], set[str]] = {}


def construct(cls: type[M], values: dict[str, Any]) -> M:
    """A model from values that are already valid, every field given: no validation.

    ``model_construct`` does the same with defaults and aliases at three times the cost;
    a batch builds one outcome and market state per price it applies, so this matters.
    Only for values that passed validation once (the message) or come from our rows.
    """
    fields_set = _FIELDS.get(cls)
    if fields_set is None:
        fields_set = _FIELDS[cls] = set(cls.model_fields)
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", fields_set)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


@lru_cache(maxsize=4096)
def outcome_rank(sport: Sport, market_type: str) -> dict[str, int] | None:
    """Position of each outcome in the catalogue order (None for extension markets)."""
    spec = rules_for(sport).markets.get(market_type)
    return {o: i for i, o in enumerate(spec.outcomes)} if spec is not None else None


def ordered_outcomes(
    sport: Sport, market_key: str, outcomes: Iterable[Outcome | OutcomeState]
) -> tuple[OutcomeState, ...]:
    """Outcomes in one canonical order: the catalogue's, else by id.

    Memory and MySQL (which has no order) must agree, or a rebuilt snapshot would
    differ from the one the worker wrote.
    """
    states = [
        o if isinstance(o, OutcomeState)
        else construct(OutcomeState, {"id": o.id, "price": canonical_price(o.price),
                                      "active": o.active})
        for o in outcomes
    ]
    rank = outcome_rank(sport, market_key.split("|", 1)[0])
    if rank is None:
        states.sort(key=_by_id)
        return tuple(states)
    ranks = [rank.get(o.id, -1) for o in states]
    # Providers mostly send the catalogue order already: then there is nothing to sort.
    if -1 in ranks or ranks != sorted(ranks):
        last = len(rank)
        states.sort(key=lambda o: (rank.get(o.id, last), o.id))
    return tuple(states)


def _by_id(outcome: OutcomeState) -> str:
    return outcome.id


def canonical_price(price: Decimal | None) -> Decimal | None:
    """A price in one form whatever its trailing zeros: ``1.8500`` and ``1.85`` agree.

    MySQL's DECIMAL(10,4) gives back four places; the message may have had two. Both
    sides go through this so a snapshot rebuilt from MySQL equals the one in memory.
    """
    if price is None:
        return None
    cached = _PRICES.get(price)
    if cached is not None:
        return cached
    value = price.normalize()
    if value == value.to_integral_value():  # 1E+1 -> 10, 2.0 -> 2
        value = value.quantize(_ONE)
    if len(_PRICES) < 100_000:  # prices repeat: odds move in small steps
        _PRICES[price] = value
    return value


_ONE = Decimal(1)
# Keyed by the Decimal, whose equality ignores trailing zeros: 2.10 and 2.1 share an
# entry and both map to 2.1, which is exactly the point.
_PRICES: dict[Decimal, Decimal] = {}
