"""The decide layer: one message against an event's applied state (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.processors.domain.decide import Decision, decide, suspend_silent
from services.processors.domain.state import EventState
from shared.enums import Disposition, EventStatus, MarketStatus, MessageKind, Sport
from shared.live import EventSnapshot, apply_delta
from tests.support.decisions import NOW, RULES, TOTALS, applied, build
from tests.support.samples import Messages


@pytest.fixture
def msgs() -> Messages:
    return Messages(Sport.FOOTBALL)


def status(state: EventState, key: str) -> MarketStatus:
    return state.markets[key].status


def test_first_fixture_creates_the_event_at_version_one(msgs: Messages) -> None:
    state = applied(None, msgs.fixture("e1"))
    assert state.version == 1
    assert state.status is EventStatus.NOT_STARTED
    assert state.fixture.home is not None
    assert state.fixture.home.id == "e1-h"


def test_first_fixture_must_be_complete(msgs: Messages) -> None:
    decision = decide(None, msgs.fixture("e1", complete=False, body={"status": "live"}), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "first fixture" in (decision.reason or "")


def test_a_partial_fixture_change_keeps_what_it_does_not_name(msgs: Messages) -> None:
    state = build(msgs)
    later = datetime(2026, 5, 2, 18, 0, tzinfo=UTC)
    state = applied(state, msgs.fixture("e1", complete=False, body={"start_time": later}))
    assert state.fixture.start_time == later
    assert state.fixture.home is not None
    assert state.fixture.home.id == "e1-h"
    assert state.version == 2


@pytest.mark.parametrize("kind", ["live", "odds", "bet_stop", "settlement", "cancel", "rollback"])
def test_message_for_an_unknown_event_is_rejected_with_its_reason(msgs: Messages, kind: str) -> None:
    builders = {
        "live": lambda: msgs.live("nope"),
        "odds": lambda: msgs.odds("nope"),
        "bet_stop": lambda: msgs.bet_stop("nope"),
        "settlement": lambda: msgs.settlement("nope", "1x2", "home"),
        "cancel": lambda: msgs.cancel("nope"),
        "rollback": lambda: msgs.rollback("nope"),
    }
    decision = decide(None, builders[kind](), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "unknown event nope" in (decision.reason or "")


def test_stale_message_is_marked_stale(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"))
    old = msgs.odds("e1", at=state.last_provider_ts - timedelta(seconds=1))
    decision = decide(state, old, RULES, NOW)
    assert decision.disposition is Disposition.STALE
    assert "older than" in (decision.reason or "")


def test_equal_provider_ts_is_not_stale(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"))
    same = msgs.odds("e1", {"1x2": {"home": "1.5", "draw": "4", "away": "6"}},
                     at=state.last_provider_ts)
    assert decide(state, same, RULES, NOW).disposition is Disposition.APPLIED


def test_illegal_event_transition_is_rejected(msgs: Messages) -> None:
    state = build(msgs, msgs.live("e1", EventStatus.LIVE), msgs.live("e1", EventStatus.ENDED))
    decision = decide(state, msgs.live("e1", EventStatus.LIVE), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "ended -> live" in (decision.reason or "")


def test_live_moves_the_event_status_and_bumps_the_version(msgs: Messages) -> None:
    state = build(msgs, msgs.live("e1", periods=[("1h", 1, 0)]))
    assert state.status is EventStatus.LIVE
    assert state.live is not None
    assert (state.live.score.home, state.live.score.away) == (1, 0)
    assert state.version == 2


def test_odds_create_markets_in_catalogue_order(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", {"1x2": {"away": "3", "home": "2", "draw": "3.2"}}))
    assert [o.id for o in state.markets["1x2"].state.outcomes] == ["home", "draw", "away"]
    assert status(state, "1x2") is MarketStatus.ACTIVE


def test_odds_history_records_only_real_changes(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", {"1x2": {"home": "2", "draw": "3", "away": "4"}}))
    decision = decide(state, msgs.odds("e1", {"1x2": {"home": "2", "draw": "3.1", "away": "4"}}),
                      RULES, NOW)
    assert [(r.outcome_id, str(r.price)) for r in decision.odds] == [("draw", "3.1")]
    same = decide(state, msgs.odds("e1", {"1x2": {"home": "2", "draw": "3", "away": "4"}}), RULES, NOW)
    assert same.disposition is Disposition.APPLIED
    assert same.odds == ()


def test_market_status_change_records_every_outcome(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"))
    decision = decide(state, msgs.odds("e1", status=MarketStatus.SUSPENDED), RULES, NOW)
    assert {r.outcome_id for r in decision.odds} == {"home", "draw", "away"}
    assert {r.market_status for r in decision.odds} == {MarketStatus.SUSPENDED}


def test_bet_stop_suspends_only_active_markets(msgs: Messages) -> None:
    state = build(
        msgs,
        msgs.odds("e1", {"1x2": None, TOTALS: None}),
        msgs.odds("e1", {"btts": None}, status=MarketStatus.DEACTIVATED),
    )
    decision = decide(state, msgs.bet_stop("e1"), RULES, NOW)
    assert decision.state is not None
    assert status(decision.state, "1x2") is MarketStatus.SUSPENDED
    assert status(decision.state, TOTALS) is MarketStatus.SUSPENDED
    assert status(decision.state, "btts") is MarketStatus.DEACTIVATED
    assert decision.delta is not None
    assert {m.market_key for m in decision.delta.markets} == {"1x2", TOTALS}


def test_bet_stop_with_names_suspends_only_those(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", {"1x2": None, TOTALS: None}))
    state = applied(state, msgs.bet_stop("e1", [TOTALS]))
    assert status(state, "1x2") is MarketStatus.ACTIVE
    assert status(state, TOTALS) is MarketStatus.SUSPENDED
    assert state.markets[TOTALS].state.status_reason == "bet stop"


def test_odds_after_a_bet_stop_reopen_the_market(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.bet_stop("e1"), msgs.odds("e1"))
    assert status(state, "1x2") is MarketStatus.ACTIVE
    assert state.markets["1x2"].state.status_reason is None


def test_settled_market_refuses_new_odds(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.settlement("e1", "1x2", "home"))
    decision = decide(state, msgs.odds("e1"), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "settled" in (decision.reason or "")


def test_cancelled_market_refuses_new_odds(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.cancel("e1", ["1x2"]))
    assert status(state, "1x2") is MarketStatus.CANCELLED
    assert decide(state, msgs.odds("e1"), RULES, NOW).disposition is Disposition.REJECTED


def test_deactivated_market_cannot_be_handed_over(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", status=MarketStatus.DEACTIVATED))
    decision = decide(state, msgs.odds("e1", status=MarketStatus.HANDED_OVER), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "deactivated -> handed_over" in (decision.reason or "")


def test_handed_over_market_accepts_only_a_new_producer(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", producer="pre"),
                  msgs.odds("e1", status=MarketStatus.HANDED_OVER, producer="pre"))
    same = decide(state, msgs.odds("e1", producer="pre"), RULES, NOW)
    assert same.disposition is Disposition.REJECTED
    assert "handed over" in (same.reason or "")
    other = decide(state, msgs.odds("e1", producer="live"), RULES, NOW)
    assert other.disposition is Disposition.APPLIED


def test_settlement_of_unknown_market_is_rejected(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"))
    decision = decide(state, msgs.settlement("e1", TOTALS, "over"), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "unknown market" in (decision.reason or "")


def test_settlement_with_an_outcome_the_market_does_not_have_is_rejected(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", {"uof:47": {"x": "2", "y": "2"}}))
    body = {"markets": [{"market_key": "uof:47", "outcomes": [
        {"outcome_id": "x", "result": "won"}, {"outcome_id": "z", "result": "lost"}]}]}
    decision = decide(state, msgs.message("e1", MessageKind.SETTLEMENT, body), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "outcome z is not an outcome" in (decision.reason or "")


def test_settlement_closes_the_market_and_records_results(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.bet_stop("e1"))
    decision = decide(state, msgs.settlement("e1", "1x2", "draw"), RULES, NOW)
    assert decision.state is not None
    assert status(decision.state, "1x2") is MarketStatus.SETTLED
    assert decision.state.markets["1x2"].status_before_final is MarketStatus.SUSPENDED
    assert {(r.outcome_id, r.result.value) for r in decision.settlements} == {
        ("home", "lost"), ("draw", "won"), ("away", "lost")}
    assert decision.delta is not None
    assert decision.delta.settlements[0].market_key == "1x2"


def test_a_second_settlement_with_other_results_corrects_the_first(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.settlement("e1", "1x2", "home"))
    decision = decide(state, msgs.settlement("e1", "1x2", "away"), RULES, NOW)
    assert decision.disposition is Disposition.APPLIED
    assert decision.delta is not None
    assert [(s.market_key, s.change) for s in decision.delta.settlements] == [("1x2", "corrected")]
    assert [(m.market_key, m.action) for m in decision.marks] == [("1x2", "superseded")]


def test_rollback_restores_settled_market(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.bet_stop("e1"), msgs.settlement("e1", "1x2", "home"))
    decision = decide(state, msgs.rollback("e1", "settlement", ["1x2"]), RULES, NOW)
    assert decision.state is not None
    assert status(decision.state, "1x2") is MarketStatus.SUSPENDED
    assert decision.state.markets["1x2"].status_before_final is None
    assert [(m.market_key, m.action) for m in decision.marks] == [("1x2", "rolled_back")]
    assert decision.delta is not None
    assert decision.delta.rolled_back == ("1x2",)
    # After the rollback the market takes odds and can be settled again.
    state = applied(decision.state, msgs.odds("e1"))
    assert applied(state, msgs.settlement("e1", "1x2", "away")).markets["1x2"].status is MarketStatus.SETTLED


def test_rollback_of_an_active_market_is_rejected(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"))
    decision = decide(state, msgs.rollback("e1", "settlement", ["1x2"]), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "market 1x2 has no settlement in force (status active" in (decision.reason or "")


def test_rollback_of_cancel_restores_the_previous_status(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.cancel("e1"))
    state = applied(state, msgs.rollback("e1", "cancel"))
    assert status(state, "1x2") is MarketStatus.ACTIVE


def test_cancel_all_leaves_settled_markets_alone(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1", {"1x2": None, TOTALS: None}),
                  msgs.settlement("e1", "1x2", "home"))
    decision = decide(state, msgs.cancel("e1"), RULES, NOW)
    assert decision.state is not None
    assert status(decision.state, "1x2") is MarketStatus.SETTLED
    assert status(decision.state, TOTALS) is MarketStatus.CANCELLED
    assert [r.market_key for r in decision.cancellations] == [TOTALS]


def test_cancel_of_a_settled_market_by_name_is_rejected(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"), msgs.settlement("e1", "1x2", "home"))
    assert decide(state, msgs.cancel("e1", ["1x2"]), RULES, NOW).disposition is Disposition.REJECTED


def test_alive_is_applied_without_an_event(msgs: Messages) -> None:
    decision = decide(None, msgs.alive(), RULES, NOW)
    assert decision.disposition is Disposition.APPLIED
    assert decision.liveness is not None
    assert decision.delta is None


def test_message_of_another_sport_is_rejected() -> None:
    decision = decide(None, Messages(Sport.TENNIS).fixture("t1"), RULES, NOW)
    assert decision.disposition is Disposition.REJECTED
    assert "tennis message on the football feed" in (decision.reason or "")


def test_every_delta_turns_the_previous_snapshot_into_the_next(msgs: Messages) -> None:
    snapshot = EventSnapshot(event_id="e1", sport=Sport.FOOTBALL, version=0)
    state: EventState | None = None
    for msg in [
        msgs.fixture("e1"), msgs.live("e1"), msgs.odds("e1", {"1x2": None, TOTALS: None}),
        msgs.bet_stop("e1", [TOTALS]), msgs.odds("e1", {TOTALS: None}),
        msgs.settlement("e1", "1x2", "home"), msgs.rollback("e1"), msgs.cancel("e1"),
    ]:
        decision: Decision = decide(state, msg, RULES, NOW)
        assert decision.delta is not None, decision.reason
        assert decision.state is not None
        snapshot = apply_delta(snapshot, decision.delta)
        state = decision.state
        assert snapshot == state.snapshot()


def test_silence_suspends_only_the_silent_providers_active_markets(msgs: Messages) -> None:
    other = Messages(Sport.FOOTBALL, provider="other", prefix="o")
    state = build(msgs, msgs.odds("e1"), other.odds("e1", {TOTALS: None}),
                  msgs.odds("e1", {"btts": None}, status=MarketStatus.SUSPENDED))
    decision = suspend_silent(state, "gen", NOW)
    assert decision is not None
    assert decision.state is not None
    assert status(decision.state, "1x2") is MarketStatus.SUSPENDED
    assert decision.state.markets["1x2"].state.status_reason == "provider gen silent"
    assert status(decision.state, TOTALS) is MarketStatus.ACTIVE
    assert decision.state.last_provider_ts == state.last_provider_ts
    assert decision.state.version == state.version + 1
    assert suspend_silent(decision.state, "gen", NOW) is None


def test_odds_reopen_a_market_suspended_by_silence(msgs: Messages) -> None:
    state = build(msgs, msgs.odds("e1"))
    silenced = suspend_silent(state, "gen", NOW)
    assert silenced is not None
    assert silenced.state is not None
    assert status(applied(silenced.state, msgs.odds("e1")), "1x2") is MarketStatus.ACTIVE
