"""Enumerations of the canonical model and the two state machines (event, market).

The state machines live here, beside the values, so that every service (the
processors that enforce them, the generator that must respect them, the pricing
layer that reads them) shares one definition.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, cast

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema


class _Values(StrEnum):
    """A ``StrEnum`` that pydantic writes to JSON as the member itself, a ``str``.

    pydantic's default reads each member's ``.value``, a Python-level property: five of
    them made a third of encoding a feed message. The JSON is the same; validation,
    Python-mode dumps and JSON schemas are untouched.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> CoreSchema:
        schema = dict(handler(source))
        schema["serialization"] = core_schema.to_string_ser_schema(when_used="json")
        return cast(CoreSchema, schema)


class Sport(_Values):
    """The four sports the platform carries; the value is used in topic names."""

    FOOTBALL = "football"
    BASKETBALL = "basketball"
    TENNIS = "tennis"
    ICE_HOCKEY = "ice_hockey"


class MessageKind(_Values):
    """What a feed message is about; selects the body type."""

    FIXTURE = "fixture"
    LIVE = "live"
    ODDS = "odds"
    BET_STOP = "bet_stop"
    SETTLEMENT = "settlement"
    CANCEL = "cancel"
    ROLLBACK = "rollback"
    ALIVE = "alive"


class EventStatus(_Values):
    """Status of a sport event, following the values UOF's sport_event_status uses."""

    NOT_STARTED = "not_started"
    LIVE = "live"
    SUSPENDED = "suspended"
    INTERRUPTED = "interrupted"
    ENDED = "ended"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    DELAYED = "delayed"
    POSTPONED = "postponed"
    ABANDONED = "abandoned"


class MarketStatus(_Values):
    """Market status with the industry's values (UOF: 1, -1, 0, -3, -4, -2)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    HANDED_OVER = "handed_over"


class Resolution(_Values):
    """What is in force about a market's bets, apart from its trading status.

    A market's status says whether it takes bets ("settled": no more odds); its
    resolution says whether its bets are decided. UOF sends the two facts separately
    (an ``odds_change`` with status -3, a ``bet_settlement`` with results) and in
    either order, so the state keeps them apart.
    """

    LIVE_SCOUTED = "live_scouted"  # results known, not yet confirmed (UOF certainty 1)
    CONFIRMED = "confirmed"  # results confirmed (UOF certainty 2)
    VOID = "void"  # a cancellation is in force: the market's bets are void


RESULT_RESOLUTIONS = frozenset({Resolution.LIVE_SCOUTED, Resolution.CONFIRMED})


class Disposition(_Values):
    """The one final outcome of every accepted message, recorded in the ledger."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REJECTED = "rejected"


class SettlementResult(_Values):
    """Result of one outcome in a settlement (UOF result="1" / result="0")."""

    WON = "won"
    LOST = "lost"


_E = EventStatus
# Which event status may follow which. Staying in the same status is always allowed.
EVENT_TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    _E.NOT_STARTED: frozenset({_E.LIVE, _E.DELAYED, _E.POSTPONED, _E.CANCELLED, _E.ABANDONED}),
    _E.DELAYED: frozenset({_E.NOT_STARTED, _E.LIVE, _E.POSTPONED, _E.CANCELLED, _E.ABANDONED}),
    _E.POSTPONED: frozenset({_E.NOT_STARTED, _E.DELAYED, _E.CANCELLED}),
    _E.LIVE: frozenset({_E.SUSPENDED, _E.INTERRUPTED, _E.ENDED, _E.ABANDONED}),
    _E.SUSPENDED: frozenset({_E.LIVE, _E.INTERRUPTED, _E.ENDED, _E.ABANDONED}),
    _E.INTERRUPTED: frozenset({_E.LIVE, _E.SUSPENDED, _E.ENDED, _E.ABANDONED}),
    # An ended match is confirmed (closed); a result correction may reopen it as ended.
    _E.ENDED: frozenset({_E.CLOSED}),
    _E.CLOSED: frozenset(),
    _E.CANCELLED: frozenset(),
    _E.ABANDONED: frozenset(),
}

FINAL_EVENT_STATUSES = frozenset({_E.CLOSED, _E.CANCELLED, _E.ABANDONED})
LIVE_EVENT_STATUSES = frozenset({_E.LIVE, _E.SUSPENDED, _E.INTERRUPTED})


def event_transition_error(old: EventStatus | None, new: EventStatus) -> str | None:
    """Return why ``old -> new`` is illegal, or None when it is allowed."""
    if old is None or old == new or new in EVENT_TRANSITIONS[old]:
        return None
    return f"illegal event status transition {old.value} -> {new.value}"


_M = MarketStatus
MARKET_TRANSITIONS: dict[MarketStatus, frozenset[MarketStatus]] = {
    _M.ACTIVE: frozenset({_M.SUSPENDED, _M.DEACTIVATED, _M.SETTLED, _M.CANCELLED, _M.HANDED_OVER}),
    _M.SUSPENDED: frozenset({_M.ACTIVE, _M.DEACTIVATED, _M.SETTLED, _M.CANCELLED, _M.HANDED_OVER}),
    _M.DEACTIVATED: frozenset({_M.ACTIVE, _M.SUSPENDED, _M.SETTLED, _M.CANCELLED}),
    # A handed-over market waits for the new producer, which reopens or closes it.
    _M.HANDED_OVER: frozenset({_M.ACTIVE, _M.SUSPENDED, _M.DEACTIVATED, _M.SETTLED, _M.CANCELLED}),
    # Settled and cancelled are final; only a rollback (checked separately) reopens them.
    _M.SETTLED: frozenset(),
    _M.CANCELLED: frozenset(),
}

FINAL_MARKET_STATUSES = frozenset({_M.SETTLED, _M.CANCELLED})
OPEN_MARKET_STATUSES = frozenset({_M.ACTIVE, _M.SUSPENDED})


def market_transition_error(
    old: MarketStatus | None, new: MarketStatus, *, rollback: bool = False
) -> str | None:
    """Return why a market may not go from ``old`` to ``new``, or None if it may.

    ``rollback`` is set when a rollback message undoes a settlement or cancellation:
    the only way out of a final status.
    """
    if old is None or old == new:
        return None
    if rollback:
        if old in FINAL_MARKET_STATUSES:
            return None
        return f"rollback of market in status {old.value}: only settled or cancelled roll back"
    if new in MARKET_TRANSITIONS[old]:
        return None
    return f"illegal market status transition {old.value} -> {new.value}"
