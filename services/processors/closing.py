"""Closing markets and undoing it: settlements, cancellations, rollbacks (pure).

Settled and cancelled are final market statuses; only a rollback leaves them, back to
the status the market had before it was closed (remembered in
:attr:`~.state.MarketEntry.status_before_final`).
"""

from __future__ import annotations

from typing import Literal

from services.processors.changes import (
    CancellationRow,
    Change,
    Refused,
    RollbackMark,
    SettlementRow,
    history_rows,
    with_status,
)
from services.processors.rules import StatefulRules
from services.processors.state import EventState, MarketEntry
from shared.enums import FINAL_MARKET_STATUSES, MarketStatus, market_transition_error
from shared.markets import MarketSettlement
from shared.model import CancelBody, FeedMessage, RollbackBody, SettlementBody


def _known(state: EventState, key: str, what: str) -> MarketEntry:
    entry = state.markets.get(key)
    if entry is None:
        raise Refused(f"{what} of unknown market {key} of event {state.event_id}")
    return entry


def _close(
    state: EventState, msg: FeedMessage, entry: MarketEntry, status: MarketStatus,
    reason: str | None, change: Change,
) -> None:
    key = entry.state.market_key
    if entry.status is status:
        raise Refused(f"market {key} is already {status.value}: roll it back first")
    error = market_transition_error(entry.status, status)
    if error:
        raise Refused(f"market {key}: {error}")
    new = with_status(entry, status, reason, msg.provider_ts, before_final=entry.status)
    change.markets[key] = new
    change.odds.extend(history_rows(state.event_id, entry, new.state, msg.provider_ts, msg.message_id))


def settlement_change(
    state: EventState, msg: FeedMessage, body: SettlementBody, rules: StatefulRules
) -> Change:
    """Settle the named markets: each must exist, be open and know the outcomes."""
    change = Change(settled=body.markets)
    for settlement in body.markets:
        entry = _known(state, settlement.market_key, "settlement")
        error = rules.settlement_error(settlement, tuple(o.id for o in entry.state.outcomes))
        if error:
            raise Refused(error)
        _close(state, msg, entry, MarketStatus.SETTLED, None, change)
        change.settlements.extend(_settlement_rows(state.event_id, settlement, body, msg))
    return change


def _settlement_rows(
    event_id: str, settlement: MarketSettlement, body: SettlementBody, msg: FeedMessage
) -> list[SettlementRow]:
    return [
        SettlementRow(
            event_id=event_id,
            market_key=settlement.market_key,
            outcome_id=o.outcome_id,
            result=o.result,
            void_factor=o.void_factor,
            dead_heat_factor=o.dead_heat_factor,
            certainty=body.certainty,
            message_id=msg.message_id,
            provider_ts=msg.provider_ts,
        )
        for o in settlement.outcomes
    ]


def cancel_change(state: EventState, msg: FeedMessage, body: CancelBody) -> Change:
    """Cancel the named markets (each must be cancellable) or every open one."""
    change = Change()
    if body.market_keys is not None:
        entries = [_known(state, key, "cancellation") for key in body.market_keys]
    else:
        # "All": every market not closed yet; settled ones need a rollback first.
        entries = [e for e in state.markets.values() if e.status not in FINAL_MARKET_STATUSES]
    for entry in entries:
        _close(state, msg, entry, MarketStatus.CANCELLED, body.void_reason, change)
        change.cancellations.append(
            CancellationRow(
                event_id=state.event_id,
                market_key=entry.state.market_key,
                void_reason=body.void_reason,
                start_time=body.start_time,
                end_time=body.end_time,
                message_id=msg.message_id,
                provider_ts=msg.provider_ts,
            )
        )
    return change


def rollback_change(state: EventState, msg: FeedMessage, body: RollbackBody) -> Change:
    """Reopen settled (or cancelled) markets in the status they had before."""
    final = MarketStatus.SETTLED if body.of == "settlement" else MarketStatus.CANCELLED
    table: Literal["settlements", "cancellations"] = (
        "settlements" if body.of == "settlement" else "cancellations"
    )
    if body.market_keys is not None:
        entries = [_known(state, key, f"rollback of {body.of}") for key in body.market_keys]
        for entry in entries:
            if entry.status is not final:
                raise Refused(
                    f"rollback of {body.of}: market {entry.state.market_key} is "
                    f"{entry.status.value}, not {final.value}"
                )
    else:
        entries = [e for e in state.markets.values() if e.status is final]
        if not entries:
            raise Refused(f"rollback of {body.of}: event {state.event_id} has no {final.value} market")
    change = Change(rolled_back=tuple(e.state.market_key for e in entries))
    for entry in entries:
        # Back to the status it had before it was closed; suspended if unknown.
        restored = entry.status_before_final or MarketStatus.SUSPENDED
        error = market_transition_error(entry.status, restored, rollback=True)
        if error:  # pragma: no cover - only final markets get here
            raise Refused(error)
        new = with_status(entry, restored, f"rollback of {body.of}", msg.provider_ts)
        change.markets[entry.state.market_key] = new
        change.odds.extend(
            history_rows(state.event_id, entry, new.state, msg.provider_ts, msg.message_id)
        )
        change.rollbacks.append(
            RollbackMark(table, state.event_id, entry.state.market_key, msg.message_id)
        )
    return change
