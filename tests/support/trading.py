"""Builders for the trading tests (this module holds no tests): deltas, model prices, strategies.

A test event ``ev-1`` (football) goes fixture (v1) → pre-match odds → kick-off →
in-play odds → settlement; each builder makes one :class:`EventDelta` the way a
processor publishes it (``status`` always present, changed markets in full).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.trading.domain.book import Book
from services.trading.domain.engine import Engine
from services.trading.domain.models import ModelBook
from services.trading.domain.strategies import Strategy, parse_strategies
from shared.enums import EventStatus, MarketStatus, MessageKind, SettlementResult, Sport
from shared.fair import FairMarket, FairOutcome, ModelPrices, Phase
from shared.live import (
    AppliedCancellation,
    AppliedSettlement,
    EventDelta,
    FixtureState,
    LiveState,
    MarketState,
    OutcomeState,
)
from shared.markets import OutcomeSettlement
from shared.model import Competition, Competitor, Score

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
EVENT = "ev-1"
OUTCOMES = {"1x2": ("home", "draw", "away"), "moneyline": ("home", "away"),
            "totals": ("over", "under"), "handicap": ("home", "away")}

STRATEGIES_TOML = """
[[strategy]]
name = "ev"
kind = "expected_value"
bankroll = 1000
threshold = 0.05
stake_share = 0.01

[[strategy]]
name = "kelly"
kind = "kelly"
bankroll = 1000
min_edge = 0.02
kelly_fraction = 0.25
max_stake_share = 0.05
"""


def strategies(text: str = STRATEGIES_TOML) -> tuple[Strategy, ...]:
    """The two test strategies (or those of ``text``)."""
    return parse_strategies(text)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def market(key: str, *prices: str | None, status: MarketStatus = MarketStatus.ACTIVE,
           inactive: Iterable[str] = ()) -> MarketState:
    """A market with its outcomes in catalogue order (``None``: not priced, inactive)."""
    off = set(inactive)
    ids = OUTCOMES[key.split("|", 1)[0]]
    return MarketState(market_key=key, status=status, outcomes=tuple(
        OutcomeState(id=i, price=Decimal(p) if p is not None else None,
                     active=p is not None and i not in off)
        for i, p in zip(ids, prices, strict=True)
    ))


def delta(version: int, *markets: MarketState, event_id: str = EVENT,
          status: EventStatus = EventStatus.NOT_STARTED, kind: MessageKind = MessageKind.ODDS,
          sport: Sport = Sport.FOOTBALL, live: LiveState | None = None,
          fixture: FixtureState | None = None, settlements: Iterable[AppliedSettlement] = (),
          cancellations: Iterable[AppliedCancellation] = (), rolled_back: Iterable[str] = (),
          when: datetime | None = None) -> EventDelta:
    """One applied delta at ``T0 + version`` seconds (unless ``when``)."""
    ts = when or at(version)
    return EventDelta(
        event_id=event_id, sport=sport, version=version, message_id=f"{event_id}-m{version}",
        kind=kind, provider="test", provider_ts=ts, applied_at=ts, status=status,
        fixture=fixture, live=live, markets=markets, settlements=tuple(settlements),
        cancellations=tuple(cancellations), rolled_back=tuple(rolled_back),
    )


def fixture_delta(version: int = 1, event_id: str = EVENT, sport: Sport = Sport.FOOTBALL,
                  when: datetime | None = None) -> EventDelta:
    """The event's fixture."""
    return delta(version, event_id=event_id, kind=MessageKind.FIXTURE, sport=sport, when=when,
                 fixture=FixtureState(
                     competition=Competition(id="league", name="League"), start_time=at(3600),
                     home=Competitor(id=f"{event_id}-h", name="Home FC"),
                     away=Competitor(id=f"{event_id}-a", name="Away FC")))


def live_delta(version: int, home: int = 0, away: int = 0, event_id: str = EVENT,
               status: EventStatus = EventStatus.LIVE, when: datetime | None = None) -> EventDelta:
    """A live score change."""
    return delta(version, event_id=event_id, kind=MessageKind.LIVE, status=status, when=when,
                 live=LiveState(status=status, score=Score(home=home, away=away)))


def result(outcome: str, won: bool, void: str = "0", dead_heat: str | None = None) -> OutcomeSettlement:
    """One outcome's result."""
    return OutcomeSettlement(
        outcome_id=outcome, result=SettlementResult.WON if won else SettlementResult.LOST,
        void_factor=Decimal(void), dead_heat_factor=Decimal(dead_heat) if dead_heat else None)


def settled(key: str, *outcomes: OutcomeSettlement, change: str = "new",
            certainty: str = "confirmed") -> AppliedSettlement:
    """A market's applied results."""
    return AppliedSettlement.model_validate({"market_key": key, "outcomes": outcomes,
                                             "certainty": certainty, "change": change})


def settlement_delta(version: int, *settlements: AppliedSettlement, event_id: str = EVENT,
                     status: EventStatus = EventStatus.ENDED) -> EventDelta:
    """A settlement: the markets settled, with their results."""
    closed = [MarketState(market_key=s.market_key, status=MarketStatus.SETTLED) for s in settlements]
    return delta(version, *closed, event_id=event_id, status=status, kind=MessageKind.SETTLEMENT,
                 settlements=settlements)


def model_prices(version: int, probabilities: Mapping[str, Mapping[str, float]], *,
                 event_id: str = EVENT, phase: Phase = "pre_match", sport: Sport = Sport.FOOTBALL,
                 computed_at: datetime | None = None, sides_rated: int = 2) -> ModelPrices:
    """The model's prices of an event at feed ``version`` (both sides rated, unless told)."""
    return ModelPrices(
        event_id=event_id, sport=sport, event_version=version, phase=phase, model="test-model@1",
        training_size=100, sides_rated=sides_rated, computed_at=computed_at or at(version),
        markets=tuple(FairMarket(market_key=k, outcomes=tuple(
            FairOutcome(id=o, probability=p) for o, p in ps.items())) for k, ps in probabilities.items()),
    )


def fresh_book(strats: Iterable[Strategy]) -> Book:
    """An empty book with every strategy at its starting bankroll."""
    return Book(balances={s.name: s.bankroll for s in strats})


def engine(strats: tuple[Strategy, ...] | None = None, **kwargs: Any) -> Engine:
    """An engine over a fresh model book."""
    return Engine(strats if strats is not None else strategies(), ModelBook(), **kwargs)


def run(eng: Engine, book: Book, *deltas: EventDelta, now: datetime | None = None) -> Book:
    """Apply deltas in order (``now``: each delta's own time) and commit the prices seen."""
    for d in deltas:
        eng.apply(book, d, now or d.applied_at)
    eng.committed(book)
    return book
