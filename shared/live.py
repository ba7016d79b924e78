"""Live state as processors publish it and distribution serves it.

A processor, after each MySQL commit, writes an :class:`EventSnapshot` to Redis and
publishes an :class:`EventDelta` to ``sportsfeed.<sport>.updates``. Each applied
change raises the event's ``version`` by exactly one, so a client holding version
``n`` that receives ``n + 2`` knows it missed one. :func:`apply_delta` is the one
merge rule both sides use: distribution never reads the database to push a delta.

Redis layout (prefix from ``RedisSettings.key_prefix``): ``<p>:event:<id>`` holds the
snapshot JSON; ``<p>:live:<sport>`` is a sorted set of live event ids scored by start
time; ``<p>:events:<sport>`` the same for every known event.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.enums import EventStatus, MarketStatus, MessageKind, Resolution, Sport
from shared.markets import MarketSettlement, OutcomeId, Price
from shared.model import (
    Clock,
    Competition,
    Competitor,
    GamePoints,
    Identifier,
    Score,
    UtcDatetime,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutcomeState(_Frozen):
    """Current price of one outcome."""

    id: OutcomeId
    price: Price | None = None
    active: bool = True


class MarketState(_Frozen):
    """Current state of one market, always complete (all its outcomes).

    ``status`` is the trading status (``settled``: no more odds); ``resolution`` says
    whether its bets are decided (results live-scouted or confirmed, or void). The two
    arrive separately and in either order.
    """

    market_key: str
    status: MarketStatus
    outcomes: tuple[OutcomeState, ...] = ()
    status_reason: Annotated[str, Field(max_length=200)] | None = None
    producer: str | None = None
    provider_ts: UtcDatetime | None = None
    resolution: Resolution | None = None


SettlementChange = Literal["new", "confirmed", "corrected"]


class AppliedSettlement(MarketSettlement):
    """A market's results as a delta carries them: their certainty and what they replaced.

    ``change``: ``new`` (the market had no results in force), ``confirmed`` (the same
    results, now confirmed, replace live-scouted ones) or ``corrected`` (different
    results replace the earlier ones, which stay in MySQL marked superseded).
    """

    certainty: Literal["live_scouted", "confirmed"]
    change: SettlementChange = "new"


class RefusedMarket(_Frozen):
    """A market of an applied message that was not applied, and why."""

    market_key: str
    reason: Annotated[str, Field(max_length=1000)]


class LiveState(_Frozen):
    """The latest live score of an event."""

    status: EventStatus
    period: str | None = None
    clock: Clock | None = None
    score: Score = Score()
    game: GamePoints | None = None
    server: str | None = None
    provider_ts: UtcDatetime | None = None


class FixtureState(_Frozen):
    """Who plays whom, when (the applied fixture)."""

    competition: Competition | None = None
    start_time: UtcDatetime | None = None
    home: Competitor | None = None
    away: Competitor | None = None
    best_of: int | None = None


class EventDelta(_Frozen):
    """One applied change, as published on the updates topic.

    Only what changed is present: ``fixture`` and ``live`` replace the previous ones;
    ``markets`` lists each changed market in full; ``settlements`` lists the results
    applied by this message, each saying whether it is new, confirms or corrects earlier
    results (rolled-back markets are in ``rolled_back``); ``refused`` lists the markets
    of the message that were not applied, with the reason (the rest was).
    """

    event_id: Identifier
    sport: Sport
    version: Annotated[int, Field(ge=1)]
    message_id: str
    kind: MessageKind
    provider: str
    provider_ts: UtcDatetime
    applied_at: UtcDatetime
    status: EventStatus | None = None
    fixture: FixtureState | None = None
    live: LiveState | None = None
    markets: tuple[MarketState, ...] = ()
    settlements: tuple[AppliedSettlement, ...] = ()
    rolled_back: tuple[str, ...] = ()
    refused: tuple[RefusedMarket, ...] = ()


class EventSnapshot(_Frozen):
    """Everything live about one event at one version."""

    event_id: Identifier
    sport: Sport
    version: Annotated[int, Field(ge=0)]
    status: EventStatus = EventStatus.NOT_STARTED
    fixture: FixtureState = FixtureState()
    live: LiveState | None = None
    markets: dict[str, MarketState] = {}
    updated_at: UtcDatetime | None = None


class VersionGap(ValueError):
    """A delta does not follow the snapshot's version: a fresh snapshot is needed."""


def apply_delta(snapshot: EventSnapshot, delta: EventDelta) -> EventSnapshot:
    """The snapshot after ``delta``; raises :class:`VersionGap` unless it is the next one."""
    if delta.event_id != snapshot.event_id:
        raise ValueError(f"delta for {delta.event_id} applied to snapshot of {snapshot.event_id}")
    if delta.version != snapshot.version + 1:
        raise VersionGap(f"{delta.event_id}: snapshot v{snapshot.version}, delta v{delta.version}")
    markets = dict(snapshot.markets)
    for market in delta.markets:
        markets[market.market_key] = market
    return snapshot.model_copy(
        update={
            "version": delta.version,
            "status": delta.status or snapshot.status,
            "fixture": delta.fixture or snapshot.fixture,
            "live": delta.live or snapshot.live,
            "markets": markets,
            "updated_at": delta.applied_at,
        }
    )


def event_key(prefix: str, event_id: str) -> str:
    """Redis key of an event's snapshot."""
    return f"{prefix}:event:{event_id}"


def live_index_key(prefix: str, sport: Sport) -> str:
    """Redis sorted set of the sport's live events."""
    return f"{prefix}:live:{sport.value}"


def events_index_key(prefix: str, sport: Sport) -> str:
    """Redis sorted set of every event of the sport that has a snapshot."""
    return f"{prefix}:events:{sport.value}"
