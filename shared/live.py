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

from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.enums import EventStatus, MarketStatus, MessageKind, Resolution, Sport
from shared.markets import MarketSettlement, Outcome, OutcomeId, Price
from shared.model import (
    Clock,
    Competition,
    Competitor,
    GamePoints,
    Identifier,
    Score,
    UtcDatetime,
)
from shared.rules import rules_for


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


class AppliedCancellation(_Frozen):
    """A market's cancellation as a delta carries it: its bets are void, all of them or
    only those placed within ``start_time``..``end_time`` (an open end is unbounded)."""

    market_key: str
    void_reason: str | None = None
    start_time: UtcDatetime | None = None
    end_time: UtcDatetime | None = None


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
    results (rolled-back markets are in ``rolled_back``); ``cancellations`` the markets a
    cancel voided, with its betting window; ``refused`` lists the markets of the message
    that were not applied, with the reason (the rest was).
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
    cancellations: tuple[AppliedCancellation, ...] = ()
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


# --- building states fast, in one canonical form ---------------------------------------
# A snapshot rebuilt from MySQL must equal the one the worker built in memory, byte for
# byte: outcomes in one order, prices in one spelling. Both the processors and the
# MySQL loader (shared.storage.snapshots) build states through these.

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
