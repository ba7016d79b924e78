"""Every settlement case, on the maths and through the engine: won, lost, void factors, dead
heat, push, half won, half lost, window-limited cancellation, rollback then resettlement,
confirmation and correction; the ledger always adds up."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.trading.domain.book import Bet, Book
from services.trading.domain.engine import Engine
from services.trading.domain.settle import settle_bet, within_window
from shared.enums import MarketStatus, SettlementResult
from shared.live import AppliedCancellation, EventDelta
from shared.markets import OutcomeSettlement
from shared.pricing.lines import settle_handicap, settle_line
from shared.trading.model import BetStatus, LedgerKind
from tests.support.trading import (
    EVENT,
    at,
    delta,
    engine,
    fixture_delta,
    fresh_book,
    market,
    model_prices,
    result,
    run,
    settled,
    settlement_delta,
    strategies,
)

D = Decimal


@pytest.mark.parametrize(("outcome", "status", "payout"), [
    (result("home", True), BetStatus.WON, "25.0000"),
    (result("home", False), BetStatus.LOST, "0.0000"),
    (result("home", False, void="1"), BetStatus.PUSH, "10.0000"),
    (result("home", True, void="1"), BetStatus.PUSH, "10.0000"),
    (result("home", True, void="0.5"), BetStatus.HALF_WON, "17.5000"),  # 5 back + 5 x 2.5
    (result("home", False, void="0.5"), BetStatus.HALF_LOST, "5.0000"),
    (result("home", True, dead_heat="0.5"), BetStatus.DEAD_HEAT, "12.5000"),
    (result("home", True, dead_heat="0.3333"), BetStatus.DEAD_HEAT, "8.3325"),
    (result("home", True, void="0.5", dead_heat="0.5"), BetStatus.HALF_WON, "11.2500"),
])
def test_a_bet_settles_as_uof_results_say(outcome: OutcomeSettlement, status: BetStatus,
                                          payout: str) -> None:
    assert settle_bet(D("10"), D("2.5"), outcome) == (status, D(payout))


def _asian_payout(stake: Decimal, price: Decimal, value: int, line: Decimal, *, over: bool) -> Decimal:
    """Asian rules written out: a quarter line is half the stake on each neighbour."""
    parts = [line] if line % D("0.5") == 0 else [line - D("0.25"), line + D("0.25")]
    back = D(0)
    for part in parts:
        piece = stake / len(parts)
        wins = value > part if over else value < part
        back += piece if value == part else piece * price if wins else D(0)
    return back


@pytest.mark.parametrize("line", [D("2"), D("2.25"), D("2.5"), D("2.75"), D("3")])
@pytest.mark.parametrize("goals", range(6))
def test_the_feeds_half_stakes_pay_what_asian_rules_say(line: Decimal, goals: int) -> None:
    over, under = settle_line(goals, line)
    for side, settlement in (("over", over), ("under", under)):
        outcome = OutcomeSettlement(outcome_id=side, result=settlement.result,
                                    void_factor=settlement.void_factor)
        _, payout = settle_bet(D("10"), D("1.9"), outcome)
        assert payout == _asian_payout(D("10"), D("1.9"), goals, line, over=side == "over")


def test_quarter_handicaps_half_win_and_half_lose() -> None:
    home, away = settle_handicap(1, D("-0.75"))  # home by one at -0.75: half won, half pushed
    as_outcome = [OutcomeSettlement(outcome_id=i, result=s.result, void_factor=s.void_factor)
                  for i, s in (("home", home), ("away", away))]
    assert settle_bet(D("10"), D("2"), as_outcome[0]) == (BetStatus.HALF_WON, D("15.0000"))
    assert settle_bet(D("10"), D("2"), as_outcome[1]) == (BetStatus.HALF_LOST, D("5.0000"))


def test_a_cancellation_window_includes_its_start_and_excludes_its_end() -> None:
    assert within_window(at(10), at(10), at(20))
    assert not within_window(at(20), at(10), at(20))
    assert within_window(at(5), None, at(20))
    assert within_window(at(50), at(10), None)
    assert within_window(at(50), None, None)
    assert not within_window(at(5), at(10), None)


# --- through the engine --------------------------------------------------------------


PROBS = {"1x2": {"home": 0.55, "draw": 0.25, "away": 0.20}}


def placed(eng: Engine | None = None) -> tuple[Engine, Book, list[Bet]]:
    """A fixture, the model, and odds the model likes on home: both strategies bet."""
    eng = eng or engine()
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(1, PROBS))
    run(eng, book, fixture_delta(), delta(2, market("1x2", "2.10", "3.30", "3.60")))
    bets = book.new_bets
    assert {(b.strategy, b.outcome_id) for b in bets} == {("ev", "home"), ("kelly", "home")}
    return eng, book, bets


def assert_ledger_adds_up(book: Book) -> None:
    """Each strategy's balance is its bankroll plus its ledger entries."""
    for strategy in strategies():
        moved = sum((e.amount for e in book.ledger if e.strategy == strategy.name), D(0))
        assert book.balances[strategy.name] == strategy.bankroll + moved
        entries = [e for e in book.ledger if e.strategy == strategy.name]
        if entries:
            assert entries[-1].balance == book.balances[strategy.name]


def test_a_won_bet_returns_stake_times_price() -> None:
    eng, book, bets = placed()
    run(eng, book, settlement_delta(3, settled("1x2", result("home", True), result("draw", False),
                                               result("away", False))))
    for bet in bets:
        assert bet.status is BetStatus.WON
        assert bet.payout == bet.stake * D("2.10")
        assert bet.settled_by == f"{EVENT}-m3"
    assert_ledger_adds_up(book)
    assert book.balances["ev"] == D("1000") - D("10") + D("21.0000")


def test_a_lost_bet_returns_nothing_and_is_booked_with_a_nil_return() -> None:
    eng, book, bets = placed()
    run(eng, book, settlement_delta(3, settled("1x2", result("home", False), result("away", True))))
    assert all(b.status is BetStatus.LOST and b.payout == 0 for b in bets)
    assert [e.kind for e in book.ledger if e.strategy == "ev"] == [LedgerKind.STAKE, LedgerKind.RETURN]
    assert book.balances["ev"] == D("990")


def test_rollback_reverses_the_settlement_and_a_later_settlement_applies_again() -> None:
    eng, book, bets = placed()
    won = settled("1x2", result("home", True), result("away", False))
    run(eng, book, settlement_delta(3, won))
    run(eng, book, delta(4, market("1x2", "2.0", "3.3", "3.7", status=MarketStatus.SUSPENDED),
                         rolled_back=["1x2"]))
    assert all(b.status is BetStatus.OPEN and b.payout is None for b in bets)
    assert book.balances["ev"] == D("990")  # the stake is reserved again
    run(eng, book, settlement_delta(5, settled("1x2", result("home", False), result("away", True))))
    assert all(b.status is BetStatus.LOST for b in bets)
    kinds = [e.kind for e in book.ledger if e.strategy == "ev"]
    assert kinds == [LedgerKind.STAKE, LedgerKind.RETURN, LedgerKind.REVERSAL, LedgerKind.RETURN]
    assert_ledger_adds_up(book)


def test_a_confirmation_of_the_same_results_changes_only_the_certainty() -> None:
    eng, book, bets = placed()
    won = [result("home", True), result("away", False)]
    run(eng, book, settlement_delta(3, settled("1x2", *won, certainty="live_scouted")))
    entries = len(book.ledger)
    run(eng, book, settlement_delta(4, settled("1x2", *won, change="confirmed")))
    assert len(book.ledger) == entries
    assert all(b.status is BetStatus.WON and b.certainty == "confirmed" for b in bets)


def test_a_correction_resettles_reversing_the_first_return() -> None:
    eng, book, bets = placed()
    run(eng, book, settlement_delta(3, settled("1x2", result("home", True), result("away", False))))
    run(eng, book, settlement_delta(4, settled("1x2", result("home", False), result("away", True),
                                               change="corrected")))
    assert all(b.status is BetStatus.LOST and b.payout == 0 for b in bets)
    reversal = [e for e in book.ledger if e.strategy == "ev" and e.kind is LedgerKind.REVERSAL]
    assert [e.amount for e in reversal] == [D("-21.0000")]
    assert book.balances["ev"] == D("990")
    assert_ledger_adds_up(book)


def _cancel(version: int, start: int | None, end: int | None, reason: str = "void") -> EventDelta:
    return delta(version, market("1x2", None, None, None, status=MarketStatus.CANCELLED),
                 cancellations=[AppliedCancellation(
                     market_key="1x2", void_reason=reason,
                     start_time=at(start) if start is not None else None,
                     end_time=at(end) if end is not None else None)])


def test_a_cancellation_voids_only_the_bets_placed_within_its_window() -> None:
    eng = engine()
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(1, {"1x2": {"home": 0.55, "draw": 0.3, "away": 0.3}}))
    run(eng, book, fixture_delta(), delta(2, market("1x2", "2.10", "3.30", "3.60")),
        delta(10, market("1x2", "2.10", "3.60", "3.60")))  # draw bet placed at T0+10 s
    home = [b for b in book.new_bets if b.outcome_id == "home"]
    draw = [b for b in book.new_bets if b.outcome_id == "draw"]
    assert home
    assert draw
    run(eng, book, _cancel(11, 5, 20))
    assert all(b.status is BetStatus.OPEN for b in home)  # placed at T0+2 s, before the window
    assert all(b.status is BetStatus.VOID and b.payout == b.stake for b in draw)
    assert_ledger_adds_up(book)


def test_a_superseding_cancellation_that_leaves_a_bet_out_reopens_it() -> None:
    eng, book, bets = placed()
    run(eng, book, _cancel(3, None, None))
    assert all(b.status is BetStatus.VOID for b in bets)
    run(eng, book, _cancel(4, 100, None, "another window"))
    assert all(b.status is BetStatus.OPEN for b in bets)
    assert book.balances["ev"] == D("990")
    run(eng, book, delta(5, rolled_back=["1x2"]))  # rollback of the cancellation: nothing to undo
    assert all(b.status is BetStatus.OPEN for b in bets)
    assert_ledger_adds_up(book)


def test_a_rolled_back_cancellation_reopens_the_voided_bets_and_results_settle_them() -> None:
    eng, book, bets = placed()
    run(eng, book, _cancel(3, None, None))
    run(eng, book, delta(4, market("1x2", "2.1", "3.3", "3.6", status=MarketStatus.SUSPENDED),
                         rolled_back=["1x2"]))
    assert all(b.status is BetStatus.OPEN for b in bets)
    run(eng, book, settlement_delta(5, settled("1x2", result("home", True, void="0.5"))))
    assert all(b.status is BetStatus.HALF_WON for b in bets)
    assert_ledger_adds_up(book)


def test_results_that_do_not_name_the_bets_outcome_leave_it_open() -> None:
    eng, book, bets = placed()
    run(eng, book, settlement_delta(3, settled("1x2", result("away", True))))
    assert all(b.status is BetStatus.OPEN for b in bets)
    assert book.decisions[("ev", "outcome_not_settled")] == 1


def test_a_settlement_of_another_market_leaves_the_bets_alone() -> None:
    eng, book, bets = placed()
    run(eng, book, settlement_delta(3, settled("totals|total=2.5", result("over", True))))
    assert all(b.status is BetStatus.OPEN for b in bets)
    assert book.ledger[-1].kind is LedgerKind.STAKE


def test_settled_at_is_when_the_platform_applied_the_settlement() -> None:
    eng, book, bets = placed()
    run(eng, book, settlement_delta(3, settled("1x2", result("home", True))))
    assert all(b.settled_at == at(3) for b in bets)
    assert all(b.placed_at == at(2) and b.settled_at is not None
               and b.settled_at - b.placed_at == timedelta(seconds=1) for b in bets)
    assert SettlementResult.WON.value == "won"
