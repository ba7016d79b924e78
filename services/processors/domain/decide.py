"""The decision for one message given the event's applied state: pure, no I/O.

:func:`decide` returns a :class:`Decision`: the disposition (applied, stale,
rejected; duplicates are found a level up, in :mod:`.plan`), the reason, and for an
applied message the event's new state, the delta distribution publishes and the rows
that record the change (odds history, settlements, cancellations, rollbacks).
Every applied message raises the event's version by exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.processors.domain.changes import (
    CancellationRow,
    Change,
    LivenessMark,
    OddsRow,
    Refused,
    RowMark,
    SettlementRow,
    history_rows,
    with_status,
)
from services.processors.domain.closing import cancel_change, rollback_change, settlement_change
from services.processors.domain.rules import StatefulRules
from services.processors.domain.state import EventState, MarketEntry
from shared.enums import (
    FINAL_MARKET_STATUSES,
    OPEN_MARKET_STATUSES,
    Disposition,
    EventStatus,
    MarketStatus,
    MessageKind,
    event_transition_error,
    market_transition_error,
)
from shared.live import (
    EventDelta,
    FixtureState,
    LiveState,
    MarketState,
    RefusedMarket,
    construct,
    ordered_outcomes,
)
from shared.markets import Market
from shared.model import (
    AliveBody,
    BetStopBody,
    CancelBody,
    FeedMessage,
    FixtureBody,
    LiveBody,
    OddsBody,
    RollbackBody,
    SettlementBody,
)


@dataclass(frozen=True, slots=True)
class Decision:
    """What one message does: its disposition and, when applied, its effects."""

    disposition: Disposition
    reason: str | None = None
    state: EventState | None = None
    delta: EventDelta | None = None
    odds: tuple[OddsRow, ...] = ()
    settlements: tuple[SettlementRow, ...] = ()
    cancellations: tuple[CancellationRow, ...] = ()
    marks: tuple[RowMark, ...] = ()
    liveness: LivenessMark | None = None
    # Markets of the message not applied, with their reasons (applied or rejected alike).
    refused: tuple[RefusedMarket, ...] = ()


def rejected(reason: str, parts: tuple[RefusedMarket, ...] = ()) -> Decision:
    """A rejection with its reason (and the markets refused one by one, if that is why)."""
    return Decision(Disposition.REJECTED, reason=reason, refused=parts)


def decide(
    state: EventState | None, msg: FeedMessage, rules: StatefulRules, applied_at: datetime
) -> Decision:
    """Decide one message against the event's state (None: the event is unknown)."""
    if msg.sport is not rules.sport:
        return rejected(f"a {msg.sport.value} message on the {rules.sport.value} feed")
    body = msg.body
    if isinstance(body, AliveBody):
        # Alive is about the provider, not an event: no version, no delta.
        return Decision(Disposition.APPLIED, liveness=LivenessMark(msg.provider, msg.provider_ts))
    if state is not None:
        if state.sport is not msg.sport:
            return rejected(f"event {msg.event_id} is a {state.sport.value} event")
        if msg.provider_ts < state.last_provider_ts:
            return Decision(
                Disposition.STALE,
                reason=(
                    f"provider_ts {msg.provider_ts.isoformat()} is older than the event's "
                    f"last applied {state.last_provider_ts.isoformat()}"
                ),
            )
    try:
        if isinstance(body, FixtureBody):
            state, change = _fixture(state, msg, body)
        elif state is None:
            raise Refused(
                f"unknown event {msg.event_id}: no complete fixture has been applied for it, "
                f"so its {msg.kind.value} has nothing to apply to"
            )
        elif isinstance(body, LiveBody):
            change = _live(state, msg, body, rules)
        elif isinstance(body, OddsBody):
            change = _odds(state, msg, body)
        elif isinstance(body, BetStopBody):
            change = _bet_stop(state, msg, body)
        elif isinstance(body, SettlementBody):
            change = settlement_change(state, msg, body, rules)
        elif isinstance(body, CancelBody):
            change = cancel_change(state, msg, body)
        else:
            assert isinstance(body, RollbackBody)
            change = rollback_change(state, msg, body)
    except Refused as exc:
        return rejected(str(exc), exc.parts)
    return apply_change(
        state, change, message_id=msg.message_id, kind=msg.kind, provider=msg.provider,
        provider_ts=msg.provider_ts, applied_at=applied_at,
    )


def apply_change(
    state: EventState,
    change: Change,
    *,
    message_id: str,
    kind: MessageKind,
    provider: str,
    provider_ts: datetime,
    applied_at: datetime,
    watermark: bool = True,
) -> Decision:
    """The new state (version + 1) and the delta that turns the old snapshot into it.

    ``watermark=False`` leaves ``last_provider_ts`` alone: a change the processor
    makes itself (provider silence) has no provider time.
    """
    markets = state.markets
    if change.markets:
        markets = {**state.markets, **change.markets}
    new = EventState(
        state.event_id,
        state.sport,
        state.version + 1,
        provider_ts if watermark else state.last_provider_ts,
        state.provider,
        change.status or state.status,
        change.fixture or state.fixture,
        change.live or state.live,
        markets,
        applied_at,
    )
    # Every value below is already valid (from a validated message or our own state):
    # built without validation, since a batch builds one delta per applied message.
    delta = construct(EventDelta, {
        "event_id": new.event_id,
        "sport": new.sport,
        "version": new.version,
        "message_id": message_id,
        "kind": kind,
        "provider": provider,
        "provider_ts": provider_ts,
        "applied_at": applied_at,
        "status": new.status,
        "fixture": change.fixture,
        "live": change.live,
        "markets": tuple(entry.state for entry in change.markets.values()),
        "settlements": tuple(change.settled),
        "cancellations": tuple(change.voided),
        "rolled_back": change.rolled_back,
        "refused": tuple(change.refused),
    })
    return Decision(
        Disposition.APPLIED,
        reason=_partial_reason(change),
        state=new,
        delta=delta,
        odds=tuple(change.odds),
        settlements=tuple(change.settlements),
        cancellations=tuple(change.cancellations),
        marks=tuple(change.marks),
        refused=tuple(change.refused),
    )


def _partial_reason(change: Change) -> str | None:
    """The ledger's note on an applied message whose markets were not all applied."""
    if not change.refused:
        return None
    text = f"{len(change.refused)} market(s) not applied (ledger_refusals has each): " + "; ".join(
        f"{r.market_key}: {r.reason}" for r in change.refused
    )
    return text[:1000]


# --- kinds ----------------------------------------------------------------------------


def _status_change(old: EventStatus | None, new: EventStatus | None) -> EventStatus | None:
    if new is None:
        return None
    error = event_transition_error(old, new)
    if error:
        raise Refused(error)
    return new


def _fixture(
    state: EventState | None, msg: FeedMessage, body: FixtureBody
) -> tuple[EventState, Change]:
    if state is None:
        if not body.complete:
            raise Refused(
                f"the first fixture of event {msg.event_id} must name competition, "
                "start_time, home and away"
            )
        state = EventState(
            event_id=msg.event_id,
            sport=msg.sport,
            version=0,
            last_provider_ts=msg.provider_ts,
            provider=msg.provider,
            status=EventStatus.NOT_STARTED,
            fixture=FixtureState(),
        )
    old = state.fixture
    fixture = FixtureState(
        competition=body.competition or old.competition,
        start_time=body.start_time or old.start_time,
        home=body.home or old.home,
        away=body.away or old.away,
        best_of=body.best_of if body.best_of is not None else old.best_of,
    )
    status = _status_change(state.status if state.version else None, body.status)
    changed = fixture != old or state.version == 0
    return state, Change(status=status, fixture=fixture if changed else None)


def _live(state: EventState, msg: FeedMessage, body: LiveBody, rules: StatefulRules) -> Change:
    status = _status_change(state.status, body.status)
    error = rules.live_change_error(state, body)
    if error:
        raise Refused(error)
    live = LiveState(
        status=body.status,
        period=body.period,
        clock=body.clock,
        score=body.score,
        game=body.game,
        server=body.server,
        provider_ts=msg.provider_ts,
    )
    return Change(status=status, live=live)


def _odds(state: EventState, msg: FeedMessage, body: OddsBody) -> Change:
    """Each market of the message on its own: one that may not change is refused alone."""
    change = Change()
    producer = body.producer or msg.provider
    for market in body.markets:
        try:
            _odds_market(state, msg, body, market, producer, change)
        except Refused as exc:
            change.refuse(market.market_key, str(exc))
    change.check_applied()
    return change


def _odds_market(
    state: EventState, msg: FeedMessage, body: OddsBody, market: Market, producer: str,
    change: Change,
) -> None:
    key = market.market_key
    entry = state.markets.get(key)
    old_status = entry.status if entry is not None else None
    before_final = None
    if entry is not None:
        if entry.status in FINAL_MARKET_STATUSES:
            if market.status is entry.status:
                # "No more odds" again (UOF sends -3 before or after the results): known.
                change.unchanged.append(key)
                return
            raise Refused(
                f"market {key} is {entry.status.value}: it refuses new odds "
                "until a rollback reopens it"
            )
        if entry.status is MarketStatus.HANDED_OVER and entry.producer == producer:
            raise Refused(
                f"market {key} was handed over by {producer}: only a new producer's "
                "odds are accepted"
            )
        if market.status in FINAL_MARKET_STATUSES:
            before_final = entry.status  # what a rollback of the results restores
    error = market_transition_error(old_status, market.status)
    if error:
        raise Refused(f"market {key}: {error}")
    if market.outcomes or entry is None or market.status in OPEN_MARKET_STATUSES:
        outcomes = ordered_outcomes(state.sport, key, market.outcomes)
    else:
        # A closed market sent without outcomes keeps the prices it had.
        outcomes = entry.state.outcomes
    keep_reason = entry is not None and entry.status is market.status
    reason = entry.state.status_reason if keep_reason and entry is not None else None
    new = construct(MarketState, {
        "market_key": key,
        "status": market.status,
        "outcomes": outcomes,
        "status_reason": None if market.status is MarketStatus.ACTIVE else reason,
        "producer": body.producer,
        "provider_ts": msg.provider_ts,
        "resolution": None,  # only final markets have one, and those never get here
    })
    change.markets[key] = MarketEntry(new, msg.provider, before_final)
    change.odds.extend(history_rows(state.event_id, entry, new, msg.provider_ts, msg.message_id))


def _targets(state: EventState, keys: tuple[str, ...] | None) -> list[str]:
    return list(keys) if keys is not None else list(state.markets)


def _bet_stop(state: EventState, msg: FeedMessage, body: BetStopBody) -> Change:
    change = Change()
    reason = body.reason or "bet stop"
    for key in _targets(state, body.market_keys):
        entry = state.markets.get(key)
        # Only active markets stop; suspended, closed or unknown ones stay as they are.
        if entry is not None and entry.status is MarketStatus.ACTIVE:
            new = with_status(entry, MarketStatus.SUSPENDED, reason, msg.provider_ts)
            change.markets[key] = new
            change.odds.extend(
                history_rows(state.event_id, entry, new.state, msg.provider_ts, msg.message_id)
            )
    return change


def suspend_silent(
    state: EventState, provider: str, applied_at: datetime
) -> Decision | None:
    """Suspend the active markets a silent provider priced; None when it has none.

    No message causes this, so the delta names a synthetic message id and the
    provider time stays the event's own (a silence is not newer provider data).
    """
    reason = f"provider {provider} silent"
    message_id = f"silence:{provider}:{applied_at.isoformat()}"
    change = Change()
    for key, entry in state.markets.items():
        if entry.provider == provider and entry.status is MarketStatus.ACTIVE:
            new = with_status(entry, MarketStatus.SUSPENDED, reason, None)
            change.markets[key] = new
            change.odds.extend(history_rows(state.event_id, entry, new.state, applied_at, message_id))
    if not change.markets:
        return None
    return apply_change(
        state, change, message_id=message_id, kind=MessageKind.BET_STOP, provider=provider,
        provider_ts=applied_at, applied_at=applied_at, watermark=False,
    )
