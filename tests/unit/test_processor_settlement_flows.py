"""Settlement flows as Sportradar UOF sends them, on the pure core (decide and plan).

UOF facts pinned here: a live-scouted settlement (certainty 1) is followed by a confirmed
one (certainty 2) with the same or corrected results; an ``odds_change`` may mark a market
settled (-3, "no more odds") before or after its results arrive; one message names many
markets and a problem with one of them refuses that market only; a rollback of something
not in force says so instead of inventing a state. The same questions for cancellations.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.processors.domain.decide import Decision, decide
from services.processors.domain.state import EventState
from shared.enums import Disposition, MarketStatus, MessageKind, Resolution, Sport
from shared.live import EventSnapshot, apply_delta
from shared.model import FeedMessage
from tests.support.decisions import EARLIER, NOW, RULES, TOTALS, dispositions, plan, records
from tests.support.samples import Messages


@pytest.fixture
def msgs() -> Messages:
    return Messages(Sport.FOOTBALL)


def run(state: EventState | None, msg: FeedMessage) -> Decision:
    decision = decide(state, msg, RULES, NOW)
    if decision.delta is not None and state is not None:
        # Every applied delta turns the old snapshot into the new one, exactly.
        assert decision.state is not None
        assert apply_delta(state.snapshot(), decision.delta) == decision.state.snapshot()
    return decision


def applied(state: EventState | None, msg: FeedMessage) -> EventState:
    decision = run(state, msg)
    assert decision.disposition is Disposition.APPLIED, decision.reason
    assert decision.state is not None
    return decision.state


def build(msgs: Messages, *messages: FeedMessage) -> EventState:
    state = applied(None, msgs.fixture("e1", at=EARLIER))
    for msg in messages:
        state = applied(state, msg)
    return state


def priced(msgs: Messages) -> FeedMessage:
    return msgs.odds("e1", {"1x2": None, TOTALS: None, "btts": None})


def market(state: EventState, key: str = "1x2") -> tuple[MarketStatus, Resolution | None]:
    entry = state.markets[key]
    return entry.status, entry.resolution


# --- certainty: live scouted, then confirmed -------------------------------------------


def test_confirmed_settlement_with_the_same_results_confirms_the_live_scouted_ones(
    msgs: Messages,
) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home", certainty="live_scouted"))
    assert market(state) == (MarketStatus.SETTLED, Resolution.LIVE_SCOUTED)
    decision = run(state, msgs.settlement("e1", "1x2", "home"))
    assert decision.disposition is Disposition.APPLIED
    assert decision.state is not None
    assert market(decision.state) == (MarketStatus.SETTLED, Resolution.CONFIRMED)
    assert decision.delta is not None
    [settled] = decision.delta.settlements
    assert (settled.market_key, settled.certainty, settled.change) == ("1x2", "confirmed", "confirmed")
    # The confirmed rows are written and the live-scouted ones superseded, never deleted.
    assert {r.certainty for r in decision.settlements} == {"confirmed"}
    assert [(m.table, m.market_key, m.action) for m in decision.marks] == [
        ("settlements", "1x2", "superseded")]


def test_confirmed_settlement_with_corrected_results_replaces_the_live_scouted_ones(
    msgs: Messages,
) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home", certainty="live_scouted"))
    decision = run(state, msgs.settlement("e1", "1x2", "draw"))
    assert decision.disposition is Disposition.APPLIED
    assert decision.delta is not None
    assert [(s.change, s.certainty) for s in decision.delta.settlements] == [("corrected", "confirmed")]
    assert {(r.outcome_id, r.result.value) for r in decision.settlements} == {
        ("home", "lost"), ("draw", "won"), ("away", "lost")}
    assert decision.state is not None
    assert decision.state.markets["1x2"].results is not None
    assert {o.outcome_id for o in decision.state.markets["1x2"].results if o.result == "won"} == {"draw"}


def test_a_live_scouted_settlement_cannot_replace_confirmed_results(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home"))
    decision = run(state, msgs.settlement("e1", "1x2", "away", certainty="live_scouted"))
    assert decision.disposition is Disposition.REJECTED
    assert "has confirmed results" in (decision.reason or "")
    assert [r.market_key for r in decision.refused] == ["1x2"]


def test_the_same_confirmed_results_sent_again_change_nothing_but_are_accounted(
    msgs: Messages,
) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home"))
    decision = run(state, msgs.settlement("e1", "1x2", "home"))  # a new id: not a duplicate
    assert decision.disposition is Disposition.APPLIED
    assert decision.settlements == ()
    assert decision.marks == ()
    assert decision.delta is not None
    assert decision.delta.settlements == ()
    assert decision.state is not None
    assert decision.state.version == state.version + 1


def test_results_can_be_corrected_again_after_confirmation(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home"))
    decision = run(state, msgs.settlement("e1", "1x2", "away"))
    assert decision.delta is not None
    assert [s.change for s in decision.delta.settlements] == ["corrected"]


# --- "no more odds" and "results known" are two facts ----------------------------------


def test_odds_change_settled_before_the_results_only_stops_trading(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.bet_stop("e1"))
    state = applied(state, msgs.odds("e1", {"1x2": None}, status=MarketStatus.SETTLED))
    assert market(state) == (MarketStatus.SETTLED, None)
    assert state.snapshot().markets["1x2"].resolution is None
    decision = run(state, msgs.settlement("e1", "1x2", "away"))
    assert decision.disposition is Disposition.APPLIED, decision.reason
    assert decision.state is not None
    assert market(decision.state) == (MarketStatus.SETTLED, Resolution.CONFIRMED)
    assert len(decision.settlements) == 3
    # What a rollback restores is still the status before trading stopped.
    assert decision.state.markets["1x2"].status_before_final is MarketStatus.SUSPENDED
    rolled = applied(decision.state, msgs.rollback("e1", "settlement", ["1x2"]))
    assert market(rolled) == (MarketStatus.SUSPENDED, None)


def test_odds_change_settled_after_the_results_is_accepted_and_keeps_them(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home"))
    decision = run(state, msgs.odds("e1", {"1x2": None, TOTALS: None}, status=MarketStatus.SETTLED))
    assert decision.disposition is Disposition.APPLIED, decision.reason
    assert decision.state is not None
    assert market(decision.state) == (MarketStatus.SETTLED, Resolution.CONFIRMED)
    # Only the totals market changed: the settled 1x2 keeps its rows and prices.
    assert {r.market_key for r in decision.odds} == {TOTALS}
    assert decision.delta is not None
    assert [m.market_key for m in decision.delta.markets] == [TOTALS]


def test_rollback_of_a_settlement_never_received_says_so(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.odds("e1", {"1x2": None}, status=MarketStatus.SETTLED))
    decision = run(state, msgs.rollback("e1", "settlement", ["1x2"]))
    assert decision.disposition is Disposition.REJECTED
    assert "has no settlement in force (status settled, no resolution)" in (decision.reason or "")


# --- one message, many markets ---------------------------------------------------------


def test_one_bad_market_is_refused_alone_and_the_others_settle(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "btts", "yes"))
    body = msgs.settlements("e1", {"1x2": "home", TOTALS: "over", "btts": "no"},
                            certainty="live_scouted")
    decision = run(state, body)
    assert decision.disposition is Disposition.APPLIED
    # btts has confirmed results: live-scouted ones cannot replace them.
    assert [r.market_key for r in decision.refused] == ["btts"]
    assert "btts" in (decision.reason or "")
    assert "confirmed results" in (decision.reason or "")
    assert decision.state is not None
    assert market(decision.state) == (MarketStatus.SETTLED, Resolution.LIVE_SCOUTED)
    assert market(decision.state, TOTALS) == (MarketStatus.SETTLED, Resolution.LIVE_SCOUTED)
    assert decision.delta is not None
    assert [r.market_key for r in decision.delta.refused] == ["btts"]
    assert {s.market_key for s in decision.delta.settlements} == {"1x2", TOTALS}


def test_an_unknown_market_in_a_settlement_is_refused_alone(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", {"1x2": None}))
    decision = run(state, msgs.settlements("e1", {"1x2": "home", TOTALS: "under"}))
    assert decision.disposition is Disposition.APPLIED
    assert [(r.market_key, "unknown market" in r.reason) for r in decision.refused] == [(TOTALS, True)]


def test_a_settlement_whose_every_market_is_refused_is_rejected_with_each_reason(
    msgs: Messages,
) -> None:
    state = build(msgs, msgs.odds("e1", {"1x2": None}))
    decision = run(state, msgs.settlements("e1", {TOTALS: "over", "btts": "yes"}))
    assert decision.disposition is Disposition.REJECTED
    assert "no market applied (2 refused)" in (decision.reason or "")
    assert [r.market_key for r in decision.refused] == [TOTALS, "btts"]


def test_odds_for_a_settled_market_are_refused_alone(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home"))
    decision = run(state, msgs.odds("e1", {"1x2": None, TOTALS: None}))
    assert decision.disposition is Disposition.APPLIED
    assert [r.market_key for r in decision.refused] == ["1x2"]
    assert decision.state is not None
    assert market(decision.state) == (MarketStatus.SETTLED, Resolution.CONFIRMED)


# --- cancellations ---------------------------------------------------------------------


def test_odds_change_cancelled_then_bet_cancel_records_the_cancellation(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.odds("e1", {"1x2": None}, status=MarketStatus.CANCELLED))
    assert market(state) == (MarketStatus.CANCELLED, None)
    decision = run(state, msgs.cancel("e1", ["1x2"]))
    assert decision.disposition is Disposition.APPLIED, decision.reason
    assert [c.market_key for c in decision.cancellations] == ["1x2"]
    assert decision.state is not None
    assert market(decision.state) == (MarketStatus.CANCELLED, Resolution.VOID)


def test_bet_cancel_then_odds_change_cancelled_keeps_the_cancellation(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.cancel("e1", ["1x2"]))
    decision = run(state, msgs.odds("e1", {"1x2": None}, status=MarketStatus.CANCELLED))
    assert decision.disposition is Disposition.APPLIED
    assert decision.state is not None
    assert market(decision.state) == (MarketStatus.CANCELLED, Resolution.VOID)


def test_a_cancellation_sent_again_changes_nothing_and_a_new_window_supersedes_it(
    msgs: Messages,
) -> None:
    state = build(msgs, priced(msgs), msgs.cancel("e1", ["1x2"]))
    again = run(state, msgs.cancel("e1", ["1x2"]))
    assert again.disposition is Disposition.APPLIED
    assert again.cancellations == ()
    other = msgs.message("e1", MessageKind.CANCEL, {
        "market_keys": ["1x2"], "void_reason": "another reason"})
    decision = run(state, other)
    assert [c.void_reason for c in decision.cancellations] == ["another reason"]
    assert [(m.table, m.action) for m in decision.marks] == [("cancellations", "superseded")]


def test_cancel_of_a_settled_market_is_refused_alone(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home"))
    decision = run(state, msgs.cancel("e1", ["1x2", TOTALS]))
    assert decision.disposition is Disposition.APPLIED
    assert [r.market_key for r in decision.refused] == ["1x2"]
    assert [c.market_key for c in decision.cancellations] == [TOTALS]


def test_rollback_of_a_cancel_not_in_force_is_refused_and_the_others_roll_back(
    msgs: Messages,
) -> None:
    state = build(msgs, priced(msgs), msgs.cancel("e1", [TOTALS]))
    decision = run(state, msgs.rollback("e1", "cancel", ["1x2", TOTALS]))
    assert decision.disposition is Disposition.APPLIED
    assert [r.market_key for r in decision.refused] == ["1x2"]
    assert "has no cancellation in force" in decision.refused[0].reason
    assert decision.state is not None
    assert market(decision.state, TOTALS) == (MarketStatus.ACTIVE, None)


def test_cancel_all_voids_markets_whose_trading_stopped_without_results(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "btts", "no"),
                  msgs.odds("e1", {TOTALS: None}, status=MarketStatus.SETTLED))
    state = applied(state, msgs.cancel("e1"))
    assert market(state) == (MarketStatus.CANCELLED, Resolution.VOID)
    assert market(state, TOTALS) == (MarketStatus.CANCELLED, Resolution.VOID)
    assert market(state, "btts") == (MarketStatus.SETTLED, Resolution.CONFIRMED)


# --- a batch ---------------------------------------------------------------------------


def test_a_batch_confirming_its_own_live_scouted_rows_marks_them_superseded() -> None:
    m = Messages()
    p = plan(records(
        m.fixture("e1"), m.odds("e1"), m.settlement("e1", "1x2", "home", certainty="live_scouted"),
        m.settlement("e1", "1x2", "draw"),
    ))
    assert dispositions(p) == ["applied"] * 4
    confirming = p.ledger[3].message_id
    assert len(p.settlements) == 6
    assert {i: (mark.message_id, mark.action) for i, mark in p.settlement_marks.items()} == {
        i: (confirming, "superseded") for i in range(3)}
    assert p.after["e1"].markets["1x2"].resolution is Resolution.CONFIRMED


def test_refused_markets_of_a_batch_become_refusal_rows() -> None:
    m = Messages()
    p = plan(records(m.fixture("e1"), m.odds("e1"), m.settlements("e1", {"1x2": "home", TOTALS: "over"})))
    assert dispositions(p) == ["applied"] * 3
    [row] = p.refusals
    assert (row.message_id, row.market_key) == (p.ledger[2].message_id, TOTALS)
    assert "unknown market" in row.reason


def test_snapshot_carries_the_resolution(msgs: Messages) -> None:
    state = build(msgs, priced(msgs), msgs.settlement("e1", "1x2", "home", certainty="live_scouted"))
    snapshot = EventSnapshot.model_validate_json(state.snapshot().model_dump_json())
    assert snapshot.markets["1x2"].resolution is Resolution.LIVE_SCOUTED
    assert snapshot.markets[TOTALS].resolution is None


def test_the_cancel_delta_carries_each_market_and_its_betting_window(msgs: Messages) -> None:
    state = build(msgs, priced(msgs))
    start, end = datetime(2026, 5, 1, 12, 10, tzinfo=UTC), datetime(2026, 5, 1, 12, 12, tzinfo=UTC)
    cancel = msgs.message("e1", MessageKind.CANCEL, {
        "market_keys": ["1x2", TOTALS], "void_reason": "odds feed error",
        "start_time": start, "end_time": end})
    decision = run(state, cancel)
    assert decision.delta is not None
    assert [(c.market_key, c.void_reason, c.start_time, c.end_time)
            for c in decision.delta.cancellations] == [
        ("1x2", "odds feed error", start, end), (TOTALS, "odds feed error", start, end)]
