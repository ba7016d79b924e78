"""The engine's decisions: only on price changes of active outcomes of active markets, only
with a recent model, within the filters and the one-bet rule; closing lines; replays."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.trading.domain.book import Book, bet_key, deposit_key, entry_key
from services.trading.domain.engine import Engine
from services.trading.domain.models import ModelBook
from shared.enums import EventStatus, MarketStatus
from shared.trading.model import BetPhase, BetStatus, LedgerKind
from tests.support.trading import (
    EVENT,
    T0,
    at,
    delta,
    engine,
    fixture_delta,
    fresh_book,
    live_delta,
    market,
    model_prices,
    result,
    run,
    settled,
    settlement_delta,
    strategies,
)

D = Decimal
HOME_VALUE = {"1x2": {"home": 0.55, "draw": 0.25, "away": 0.20}}
ODDS = market("1x2", "2.10", "3.30", "3.60")


def started(probabilities: dict[str, dict[str, float]] | None = None) -> tuple[Engine, Book]:
    eng = engine()
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(1, probabilities or HOME_VALUE))
    run(eng, book, fixture_delta())
    return eng, book


def test_a_price_with_an_edge_is_bet_with_what_the_issue_asks_to_keep() -> None:
    eng, book = started()
    run(eng, book, delta(2, ODDS))
    ev = next(b for b in book.new_bets if b.strategy == "ev")
    assert (ev.event_id, ev.market_key, ev.outcome_id, ev.price, ev.stake) == (
        EVENT, "1x2", "home", D("2.10"), D("10.00"))
    assert ev.probability == 0.55
    assert abs(ev.edge - 0.155) < 1e-12
    assert (ev.market_version, ev.model_version, ev.model) == (2, 1, "test-model@1")
    assert (ev.phase, ev.placed_at, ev.message_id) == (BetPhase.PRE_MATCH, at(2), f"{EVENT}-m2")
    assert ev.status is BetStatus.OPEN
    assert ev.closing_price == D("2.10")
    assert book.balances["ev"] == D("990.00")
    assert book.decisions[("ev", "placed")] == 1
    assert book.decisions[("ev", "no_edge")] == 2  # draw and away


def test_a_strategy_asking_for_rated_sides_passes_on_a_model_of_league_averages() -> None:
    strats = strategies().__class__(
        s.model_copy(update={"min_sides_rated": 2}) if s.name == "ev" else s for s in strategies())
    eng = engine(strats)
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(1, HOME_VALUE, sides_rated=1))  # one side never seen
    run(eng, book, fixture_delta())
    run(eng, book, delta(2, ODDS))
    assert [b.strategy for b in book.new_bets] == ["kelly"]
    assert book.decisions[("ev", "sides_unrated")] == 3
    eng.models.add(model_prices(2, HOME_VALUE, sides_rated=2))
    run(eng, book, delta(3, market("1x2", "2.12", "3.30", "3.60")))
    assert [b.strategy for b in book.new_bets if b.market_version == 3] == ["ev"]


def test_never_on_a_suspended_market() -> None:
    eng, book = started()
    run(eng, book, delta(2, market("1x2", "2.10", "3.30", "3.60", status=MarketStatus.SUSPENDED)))
    assert not book.new_bets
    assert not book.decisions


def test_never_on_an_inactive_outcome() -> None:
    eng, book = started()
    run(eng, book, delta(2, market("1x2", "2.10", "3.30", "3.60", inactive=["home"])))
    assert not book.new_bets
    assert book.decisions[("ev", "no_edge")] == 2


def test_never_on_a_deactivated_or_settled_market() -> None:
    eng, book = started()
    for n, status in enumerate((MarketStatus.DEACTIVATED, MarketStatus.SETTLED, MarketStatus.HANDED_OVER)):
        run(eng, book, delta(2 + n, market("1x2", "2.10", "3.30", "3.60", status=status)))
    assert not book.new_bets


def test_only_a_changed_price_is_offered_and_a_reopening_counts_as_a_change() -> None:
    eng, book = started({"1x2": {"home": 0.40, "draw": 0.25, "away": 0.25}})
    run(eng, book, delta(2, ODDS))
    assert book.decisions[("ev", "no_edge")] == 3
    run(eng, book, delta(3, market("1x2", "2.10", "3.30", "3.70")))  # only away moved
    assert book.decisions[("ev", "no_edge")] == 4
    run(eng, book, delta(4, market("1x2", "2.10", "3.30", "3.70", status=MarketStatus.SUSPENDED)))
    run(eng, book, delta(5, market("1x2", "2.10", "3.30", "3.70")))  # reopened, same prices
    assert book.decisions[("ev", "no_edge")] == 7


def test_one_bet_per_strategy_market_and_outcome_unless_configured() -> None:
    eng, book = started()
    run(eng, book, delta(2, ODDS), delta(3, market("1x2", "2.20", "3.30", "3.60")))
    assert len([b for b in book.new_bets if b.strategy == "ev"]) == 1
    assert book.decisions[("ev", "already_bet")] == 1

    many = strategies("[[strategy]]\nname='many'\nkind='expected_value'\nbankroll=100\n"
                      "threshold=0\nstake_share=0.1\nmax_bets_per_outcome=2")
    eng2 = Engine(many, ModelBook())
    book2 = fresh_book(many)
    eng2.models.add(model_prices(1, HOME_VALUE))
    run(eng2, book2, fixture_delta(), delta(2, ODDS), delta(3, market("1x2", "2.20", "3.3", "3.6")),
        delta(4, market("1x2", "2.30", "3.3", "3.6")))
    assert [b.price for b in book2.new_bets] == [D("2.10"), D("2.20")]


def test_without_model_prices_nothing_is_bet_until_they_come() -> None:
    eng = engine()
    book = fresh_book(eng.strategies)
    run(eng, book, fixture_delta(), delta(2, ODDS))
    assert not book.new_bets
    assert book.decisions[("ev", "no_model")] == 3
    eng.models.add(model_prices(1, HOME_VALUE))
    run(eng, book, delta(3, market("1x2", "2.12", "3.30", "3.60")))
    assert [b.outcome_id for b in book.new_bets if b.strategy == "ev"] == ["home"]


def test_a_model_older_than_the_last_live_change_is_stale() -> None:
    eng, book = started()
    # Kick-off and a goal: the pre-match model (version 1) knows neither.
    run(eng, book, live_delta(2), live_delta(3, home=1), delta(4, ODDS, status=EventStatus.LIVE))
    assert not book.new_bets
    assert book.decisions[("ev", "stale_model")] == 3
    eng.models.add(model_prices(3, HOME_VALUE, phase="in_play", computed_at=at(3)))
    run(eng, book, delta(5, market("1x2", "2.12", "3.30", "3.60"), status=EventStatus.LIVE))
    bet = next(b for b in book.new_bets if b.strategy == "ev")
    assert (bet.phase, bet.model_version) == (BetPhase.IN_PLAY, 3)


def test_a_model_of_a_later_state_than_the_price_is_never_used() -> None:
    eng = engine()
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(3, HOME_VALUE))  # computed after a change the price has not seen
    run(eng, book, fixture_delta(), delta(2, ODDS))
    assert not book.new_bets
    assert book.decisions[("ev", "model_ahead")] == 3


def test_an_older_model_is_still_used_when_a_newer_one_came_first() -> None:
    eng = engine()
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(5, {"1x2": {"home": 0.1, "draw": 0.1, "away": 0.8}}))
    eng.models.add(model_prices(1, HOME_VALUE))
    run(eng, book, fixture_delta(), delta(2, ODDS))
    assert {b.outcome_id for b in book.new_bets} == {"home"}


def test_in_play_a_model_computed_too_long_before_the_price_is_too_old() -> None:
    eng = Engine(strategies(), ModelBook(max_age_s=60))
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(2, HOME_VALUE, phase="in_play", computed_at=at(2)))
    late = at(2) + timedelta(seconds=61)
    run(eng, book, fixture_delta(), live_delta(2), delta(3, ODDS, status=EventStatus.LIVE, when=late))
    assert book.decisions[("ev", "model_too_old")] == 3
    assert not book.new_bets


def test_an_ended_model_or_an_ended_event_takes_no_bets() -> None:
    eng, book = started()
    eng.models.add(model_prices(2, HOME_VALUE, phase="ended"))
    run(eng, book, live_delta(2, status=EventStatus.LIVE), delta(3, ODDS, status=EventStatus.LIVE))
    assert book.decisions[("ev", "ended")] == 3
    run(eng, book, live_delta(4, status=EventStatus.ENDED),
        delta(5, market("1x2", "2.2", "3.3", "3.6"), status=EventStatus.ENDED))
    assert book.decisions[("ev", "not_tradable")] == 1
    assert not book.new_bets


def test_phase_filter_and_price_range_filter() -> None:
    only_live = strategies("[[strategy]]\nname='live'\nkind='expected_value'\nbankroll=100\n"
                           "threshold=0\nstake_share=0.1\nphase='in_play'\nmax_price=2")
    eng = Engine(only_live, ModelBook())
    book = fresh_book(only_live)
    eng.models.add(model_prices(1, HOME_VALUE))
    run(eng, book, fixture_delta(), delta(2, ODDS))
    assert book.decisions[("live", "filtered")] == 3
    assert not book.new_bets


def test_an_old_price_from_a_backlog_is_not_traded() -> None:
    eng = engine(max_price_age_s=30)
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(1, HOME_VALUE))
    run(eng, book, fixture_delta(), delta(2, ODDS), now=at(2) + timedelta(seconds=31))
    assert not book.new_bets
    assert book.decisions[("ev", "old_price")] == 1


def test_an_event_first_seen_mid_feed_needs_a_model_of_at_least_the_previous_version() -> None:
    eng = engine()
    book = fresh_book(eng.strategies)
    eng.models.add(model_prices(1, HOME_VALUE))
    run(eng, book, delta(7, ODDS))  # versions 1-6 never seen: a goal may be among them
    assert book.decisions[("ev", "stale_model")] == 3
    eng.models.add(model_prices(6, HOME_VALUE))
    run(eng, book, delta(8, market("1x2", "2.11", "3.30", "3.60")))
    assert len(book.new_bets) == 2


def test_the_closing_line_follows_the_price_until_the_market_stops() -> None:
    eng, book = started()
    run(eng, book, delta(2, ODDS), delta(3, market("1x2", "2.00", "3.40", "3.70")),
        delta(4, market("1x2", "1.95", "3.50", "3.80")))
    bet = next(b for b in book.new_bets if b.strategy == "ev")
    assert (bet.closing_price, bet.closing_fixed) == (D("1.95"), False)
    run(eng, book, delta(5, market("1x2", "1.95", "3.5", "3.8", status=MarketStatus.SUSPENDED)),
        delta(6, market("1x2", "1.60", "4.0", "5.0")))  # reopened later: the line closed before
    assert (bet.closing_price, bet.closing_fixed) == (D("1.95"), True)


def test_the_closing_line_is_fixed_when_the_outcome_goes_inactive() -> None:
    eng, book = started()
    run(eng, book, delta(2, ODDS), delta(3, market("1x2", "2.05", "3.3", "3.6", inactive=["home"])))
    bet = next(b for b in book.new_bets if b.strategy == "ev")
    assert (bet.closing_price, bet.closing_fixed) == (D("2.10"), True)


def test_a_replayed_delta_places_and_settles_nothing_twice() -> None:
    eng, book = started()
    feed = [delta(2, ODDS), settlement_delta(3, settled("1x2", result("home", True)))]
    run(eng, book, *feed)
    bets, ledger = list(book.new_bets), list(book.ledger)
    run(eng, book, fixture_delta(), *feed)  # delivered again (after a crash)
    assert book.new_bets == bets
    assert book.ledger == ledger
    assert book.replays == 3


def test_idempotency_keys_come_from_the_delta_and_nothing_else() -> None:
    first = bet_key("ev", EVENT, 2, "1x2", "home")
    assert first == bet_key("ev", EVENT, 2, "1x2", "home")
    assert len({first, bet_key("ev", EVENT, 3, "1x2", "home"), bet_key("kelly", EVENT, 2, "1x2", "home"),
                bet_key("ev", EVENT, 2, "1x2", "draw"), bet_key("ev", "ev-2", 2, "1x2", "home")}) == 5
    keys = {entry_key(kind, first, EVENT, 5) for kind in LedgerKind} | {deposit_key("ev")}
    assert len(keys) == len(LedgerKind) + 1
    eng, book = started()
    run(eng, book, delta(2, ODDS))
    again_eng, again_book = started()
    run(again_eng, again_book, delta(2, ODDS))  # another process, another time: the same keys
    assert [b.key for b in book.new_bets] == [b.key for b in again_book.new_bets]
    assert [e.key for e in book.ledger] == [e.key for e in again_book.ledger]


def test_a_failed_batch_forgets_its_prices_so_the_retry_decides_again() -> None:
    eng, _ = started()
    failed = fresh_book(eng.strategies)
    eng.apply(failed, delta(2, ODDS), at(2))  # never committed: no engine.committed(failed)
    retry = fresh_book(eng.strategies)
    eng.apply(retry, delta(2, ODDS), at(2))
    assert len(retry.new_bets) == 2


def test_bets_in_play_are_marked_in_play() -> None:
    eng, book = started()
    eng.models.add(model_prices(2, HOME_VALUE, phase="in_play", computed_at=T0))
    run(eng, book, live_delta(2), delta(3, ODDS, status=EventStatus.LIVE))
    assert {b.phase for b in book.new_bets} == {BetPhase.IN_PLAY}
