"""Simulated matches as the processors publish them: a snapshot, then one delta per change.

The feed generator's own messages of a match (``feedgen.feed.match_feed``: fixture,
odds, live scores) become what the pricing service reads: the snapshot after the
fixture and the first odds, then an :class:`EventDelta` per live and odds message with
versions one apart, each carrying the event's status as the processors' deltas do. Bet
stops, settlements and the closing are left out: they change no price the model
publishes in play. For the pricing benchmark and tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feedgen.feed import match_feed
from feedgen.sim import make_setup
from shared.enums import EventStatus, MessageKind, Sport
from shared.live import (
    EventDelta,
    EventSnapshot,
    FixtureState,
    LiveState,
    MarketState,
    OutcomeState,
    ordered_outcomes,
)
from shared.markets import Market
from shared.model import FixtureBody, LiveBody, OddsBody

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FedMatch:
    """One match as the updates topic carries it."""

    snapshot: EventSnapshot
    deltas: tuple[EventDelta, ...]


def market_state(sport: Sport, market: Market) -> MarketState:
    """A market of an odds message as a snapshot holds it."""
    outcomes = tuple(OutcomeState(id=o.id, price=o.price, active=o.active) for o in market.outcomes)
    return MarketState(market_key=market.market_key, status=market.status,
                       outcomes=ordered_outcomes(sport, market.market_key, outcomes))


def live_state(live: LiveBody, at: datetime) -> LiveState:
    """A live message's state."""
    return LiveState(status=live.status, period=live.period, clock=live.clock, score=live.score,
                     game=live.game, server=live.server, provider_ts=at)


def fed_match(sport: Sport, number: int, *, seed: int = 11) -> FedMatch:
    """Match ``number`` of a run: its snapshot before kick-off, then its in-play deltas."""
    rng = random.Random(f"pricing-feed:{sport.value}:{number}")
    setup = make_setup(sport, number, seed, rng)
    event_id = setup.event_id
    fixture: FixtureState | None = None
    markets: dict[str, MarketState] = {}
    deltas: list[EventDelta] = []
    snapshot: EventSnapshot | None = None
    status = EventStatus.NOT_STARTED
    version = 0
    for draft in match_feed(setup, rng, margin=0.05, prematch_seconds=600, kickoff_at=T0):
        at = T0 + timedelta(seconds=draft.t)
        body = draft.body
        version += 1
        if isinstance(body, FixtureBody):
            fixture = FixtureState(competition=body.competition, start_time=body.start_time,
                                   home=body.home, away=body.away, best_of=body.best_of)
            continue
        if snapshot is None:
            if isinstance(body, OddsBody):
                markets.update({m.market_key: market_state(sport, m) for m in body.markets})
                continue
            assert fixture is not None
            snapshot = EventSnapshot(event_id=event_id, sport=sport, version=version - 1,
                                     status=EventStatus.NOT_STARTED, fixture=fixture,
                                     markets=markets, updated_at=at)
        common = {"event_id": event_id, "sport": sport, "version": version,
                  "message_id": f"{event_id}-{version}", "provider": "bench", "provider_ts": at,
                  "applied_at": at}
        if isinstance(body, LiveBody):
            if body.status is EventStatus.CLOSED:
                break
            status = body.status
            deltas.append(EventDelta(kind=MessageKind.LIVE, status=status,
                                     live=live_state(body, at), **common))
        elif isinstance(body, OddsBody):
            deltas.append(EventDelta(kind=MessageKind.ODDS, status=status, markets=tuple(
                market_state(sport, m) for m in body.markets), **common))
        else:
            version -= 1  # bet stops and settlements are left out: the versions stay contiguous
    assert snapshot is not None
    return FedMatch(snapshot, tuple(deltas))
