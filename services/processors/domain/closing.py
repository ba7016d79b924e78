"""Closing markets and undoing it: settlements, cancellations, rollbacks (pure).

Two facts about a market are kept apart (UOF sends them separately, in either order):
its trading *status* (``settled`` from an ``odds_change`` with status -3 means "no
more odds") and its *resolution*, what is in force about its bets: results
(live-scouted or confirmed) or void (a cancellation). A settlement records results and
closes trading if it was still open; an ``odds_change`` -3 before or after it only
closes trading.

Each market of a message is decided on its own: one that cannot be applied (unknown,
a conflict) is refused with its reason and the others still apply. Later results for a
market replace the earlier ones: the same results with a higher certainty *confirm*
them, different ones *correct* them; either way the earlier rows stay, marked
superseded. Only a rollback leaves a final status, back to the status the market had
before it was closed (:attr:`~.state.MarketEntry.status_before_final`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from services.processors.domain.changes import (
    CancellationRow,
    Change,
    Refused,
    RowMark,
    SettlementRow,
    history_rows,
    with_status,
)
from services.processors.domain.rules import StatefulRules
from services.processors.domain.state import EventState, MarketEntry, VoidTerms
from shared.enums import (
    FINAL_MARKET_STATUSES,
    RESULT_RESOLUTIONS,
    MarketStatus,
    Resolution,
    market_transition_error,
)
from shared.live import AppliedCancellation, AppliedSettlement, SettlementChange
from shared.markets import MarketSettlement, OutcomeSettlement
from shared.model import CancelBody, FeedMessage, RollbackBody, SettlementBody

_CERTAINTY = {"live_scouted": Resolution.LIVE_SCOUTED, "confirmed": Resolution.CONFIRMED}


def _known(state: EventState, key: str, what: str) -> MarketEntry:
    entry = state.markets.get(key)
    if entry is None:
        raise Refused(f"{what} of unknown market {key} of event {state.event_id}")
    return entry


def _closed(
    state: EventState, msg: FeedMessage, entry: MarketEntry, status: MarketStatus,
    reason: str | None, change: Change, resolution: Resolution,
    results: tuple[OutcomeSettlement, ...] | None, void: VoidTerms | None,
) -> None:
    """The market with ``resolution`` in force; trading closed as ``status`` if still open.

    A market already closed to trading (the provider said "no more odds" first, and
    nothing is in force yet) takes ``status`` and keeps the status it had before;
    otherwise the transition must be legal and the current status is remembered for a
    rollback.
    """
    key = entry.state.market_key
    if entry.status in FINAL_MARKET_STATUSES:
        before = entry.status_before_final
        if entry.status is status:
            reason = entry.state.status_reason
    else:
        error = market_transition_error(entry.status, status)
        if error:
            raise Refused(f"market {key}: {error}")
        before = entry.status
    new = with_status(entry, status, reason, msg.provider_ts, before_final=before,
                      resolution=resolution, results=results, void=void)
    change.markets[key] = new
    change.odds.extend(history_rows(state.event_id, entry, new.state, msg.provider_ts, msg.message_id))


# --- settlements -----------------------------------------------------------------------


def settlement_change(
    state: EventState, msg: FeedMessage, body: SettlementBody, rules: StatefulRules
) -> Change:
    """Record the results of the named markets, each market on its own."""
    change = Change()
    for settlement in body.markets:
        try:
            _settle(state, msg, body, settlement, rules, change)
        except Refused as exc:
            change.refuse(settlement.market_key, str(exc))
    change.check_applied()
    return change


def _same_results(a: tuple[OutcomeSettlement, ...], b: tuple[OutcomeSettlement, ...]) -> bool:
    def key(o: OutcomeSettlement) -> tuple[str, str, Decimal, Decimal | None]:
        return (o.outcome_id, o.result.value, o.void_factor, o.dead_heat_factor)

    return sorted(map(key, a)) == sorted(map(key, b))


def _settle(
    state: EventState, msg: FeedMessage, body: SettlementBody, settlement: MarketSettlement,
    rules: StatefulRules, change: Change,
) -> None:
    key = settlement.market_key
    entry = _known(state, key, "settlement")
    error = rules.settlement_error(settlement, tuple(o.id for o in entry.state.outcomes))
    if error:
        raise Refused(error)
    certainty = _CERTAINTY[body.certainty]
    in_force = entry.resolution
    how: SettlementChange = "new"
    if in_force is Resolution.VOID:
        raise Refused(f"market {key} is cancelled (its bets are void): "
                      "roll back the cancellation before settling it")
    if in_force in RESULT_RESOLUTIONS:
        assert entry.results is not None, "closing details are loaded before settlements"
        same = _same_results(entry.results, settlement.outcomes)
        if in_force is Resolution.CONFIRMED and certainty is Resolution.LIVE_SCOUTED:
            raise Refused(f"market {key} has confirmed results: live-scouted results "
                          "cannot replace them")
        if same and in_force is certainty:
            change.unchanged.append(key)  # a re-send of the results in force
            return
        how = "confirmed" if same else "corrected"
        change.marks.append(RowMark("settlements", state.event_id, key, msg.message_id,
                                    "superseded"))
    _closed(state, msg, entry, MarketStatus.SETTLED, None, change, certainty,
            settlement.outcomes, None)
    change.settled.append(AppliedSettlement(
        market_key=key, outcomes=settlement.outcomes, certainty=body.certainty, change=how,
    ))
    change.settlements.extend(
        SettlementRow(
            event_id=state.event_id,
            market_key=key,
            outcome_id=o.outcome_id,
            result=o.result,
            void_factor=o.void_factor,
            dead_heat_factor=o.dead_heat_factor,
            certainty=body.certainty,
            message_id=msg.message_id,
            provider_ts=msg.provider_ts,
        )
        for o in settlement.outcomes
    )


# --- cancellations ---------------------------------------------------------------------


def cancel_change(state: EventState, msg: FeedMessage, body: CancelBody) -> Change:
    """Void the named markets (each on its own), or every market not decided yet."""
    change = Change()
    terms = VoidTerms(body.void_reason, body.start_time, body.end_time)
    if body.market_keys is not None:
        for key in body.market_keys:
            try:
                _cancel(state, msg, _known(state, key, "cancellation"), terms, change)
            except Refused as exc:
                change.refuse(key, str(exc))
        change.check_applied()
        return change
    # "All": every market whose bets are not decided; settled ones need a rollback first.
    for entry in state.markets.values():
        if entry.resolution is None:
            _cancel(state, msg, entry, terms, change)
    return change


def _cancel(
    state: EventState, msg: FeedMessage, entry: MarketEntry, terms: VoidTerms, change: Change
) -> None:
    key = entry.state.market_key
    if entry.resolution in RESULT_RESOLUTIONS:
        raise Refused(f"market {key} has results in force ({entry.resolution}): "
                      "roll back the settlement before cancelling it")
    if entry.resolution is Resolution.VOID:
        assert entry.void is not None, "closing details are loaded before cancellations"
        if entry.void == terms:
            change.unchanged.append(key)  # a re-send of the cancellation in force
            return
        change.marks.append(RowMark("cancellations", state.event_id, key, msg.message_id,
                                    "superseded"))
    _closed(state, msg, entry, MarketStatus.CANCELLED, terms.void_reason, change,
            Resolution.VOID, None, terms)
    change.voided.append(AppliedCancellation(
        market_key=key, void_reason=terms.void_reason, start_time=terms.start_time,
        end_time=terms.end_time,
    ))
    change.cancellations.append(
        CancellationRow(
            event_id=state.event_id,
            market_key=key,
            void_reason=terms.void_reason,
            start_time=terms.start_time,
            end_time=terms.end_time,
            message_id=msg.message_id,
            provider_ts=msg.provider_ts,
        )
    )


# --- rollbacks -------------------------------------------------------------------------


def rollback_change(state: EventState, msg: FeedMessage, body: RollbackBody) -> Change:
    """Take settlements (or cancellations) out of force and reopen their markets.

    A named market without one in force is refused (the ledger says so; no state is
    invented); the others roll back.
    """
    settlement = body.of == "settlement"
    wanted = RESULT_RESOLUTIONS if settlement else frozenset({Resolution.VOID})
    what = "settlement" if settlement else "cancellation"
    change = Change()
    if body.market_keys is None:
        entries = [e for e in state.markets.values() if e.resolution in wanted]
        if not entries:
            raise Refused(f"rollback of {body.of}: event {state.event_id} has no {what} in force")
    else:
        entries = []
        for key in body.market_keys:
            try:
                entry = _known(state, key, f"rollback of {body.of}")
                if entry.resolution not in wanted:
                    raise Refused(
                        f"rollback of {body.of}: market {key} has no {what} in force "
                        f"(status {entry.status.value}, "
                        f"{'resolution ' + entry.resolution if entry.resolution else 'no resolution'})"
                    )
            except Refused as exc:
                change.refuse(key, str(exc))
            else:
                entries.append(entry)
    table: Literal["settlements", "cancellations"] = "settlements" if settlement else "cancellations"
    change.rolled_back = tuple(e.state.market_key for e in entries)
    for entry in entries:
        key = entry.state.market_key
        # Back to the status it had before it was closed; suspended if unknown.
        restored = entry.status_before_final or MarketStatus.SUSPENDED
        new = with_status(entry, restored, f"rollback of {body.of}", msg.provider_ts,
                          resolution=None, results=None, void=None)
        change.markets[key] = new
        change.odds.extend(history_rows(state.event_id, entry, new.state, msg.provider_ts,
                                        msg.message_id))
        change.marks.append(RowMark(table, state.event_id, key, msg.message_id, "rolled_back"))
    change.check_applied()
    return change
