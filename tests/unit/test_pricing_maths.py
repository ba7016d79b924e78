"""Pricing maths (moved from the feed generator): prices, Asian lines, Poisson grids, the tennis chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.enums import SettlementResult
from shared.pricing.dist import mean_of, normal_dist
from shared.pricing.grid import score_grid
from shared.pricing.lines import (
    balanced_line,
    line_odds,
    line_probabilities,
    settle_handicap,
    settle_line,
)
from shared.pricing.prices import MAX_PRICE, MIN_PRICE, overround, price_of, prices_with_margin
from shared.pricing.tennis_chain import game_win, match_outlook, set_dist, tiebreak_win

WON, LOST = SettlementResult.WON, SettlementResult.LOST


def _tolerance(prices: tuple[Decimal, ...]) -> float:
    # Each price is rounded to a cent: 1/price moves by at most 0.005 / price^2.
    return sum(0.005 / float(p - Decimal("0.005")) ** 2 for p in prices) + 1e-9


@settings(max_examples=300)
@given(
    weights=st.lists(st.floats(min_value=0.05, max_value=1.0), min_size=2, max_size=3),
    margin=st.floats(min_value=0.0, max_value=0.15),
)
def test_prices_carry_the_configured_margin(weights: list[float], margin: float) -> None:
    probabilities = [w / sum(weights) for w in weights]
    # Clamping to 1.01 (a near-certain favourite) is the one place the margin cannot hold.
    assume(max(probabilities) * (1 + margin) < 1 / 1.01)
    prices = prices_with_margin(probabilities, margin)
    assert all(MIN_PRICE <= p <= MAX_PRICE for p in prices)
    assert abs(float(overround(prices)) - (1 + margin)) <= _tolerance(prices)


def test_prices_are_decimal_cents_clamped_to_the_allowed_range() -> None:
    assert price_of(0.5, 0.0) == Decimal("2")
    assert price_of(0.999, 0.05) == Decimal("1.01")
    assert price_of(1e-9, 0.05) == Decimal("1000")
    assert price_of(0.3, 0.05).as_tuple().exponent == -2


@settings(max_examples=200)
@given(lam_home=st.floats(0.1, 4.0), lam_away=st.floats(0.1, 4.0),
       line=st.sampled_from([Decimal(x) for x in ("1", "1.5", "2", "2.25", "2.5", "2.75", "3")]))
def test_two_way_lines_have_effective_probabilities_adding_to_one(
    lam_home: float, lam_away: float, line: Decimal
) -> None:
    grid = score_grid(lam_home, lam_away)
    over, under = line_probabilities(grid.total(), line)
    assert abs(over + under - 1) < 1e-9
    assert abs(sum(grid.total().values()) - 1) < 1e-9
    assert abs(sum(grid.three_way()) - 1) < 1e-9


@settings(max_examples=200)
@given(lam_home=st.floats(0.1, 4.0), lam_away=st.floats(0.1, 4.0), rho=st.floats(-0.2, 0.2),
       line=st.sampled_from([Decimal(x) for x in ("0.5", "1", "1.75", "2.25", "2.5", "3", "3.25")]))
def test_line_odds_agree_with_the_effective_probabilities(
    lam_home: float, lam_away: float, rho: float, line: Decimal
) -> None:
    total = score_grid(lam_home, lam_away, rho=rho).total()
    over, under = line_odds(total, line)
    effective = line_probabilities(total, line)
    assert over.effective == pytest.approx(effective[0], abs=1e-12)
    assert under.effective == pytest.approx(effective[1], abs=1e-12)
    assert over.win + over.half_win + over.push + over.half_lose + over.lose == pytest.approx(1.0)
    assert (over.win, over.push) == (under.lose, under.push)
    if line % 1 == Decimal("0.5"):
        assert over.push == over.half_win == over.half_lose == 0.0


def test_a_fair_two_way_line_pays_nothing_on_average() -> None:
    # Over 2.25 at its fair price: EV = 0 with half the stake pushed on exactly 2 goals.
    dist = score_grid(1.4, 1.1).total()
    over, _ = line_probabilities(dist, Decimal("2.25"))
    price = 1 / over
    p2, above = dist[2], sum(p for k, p in dist.items() if k > 2)
    ev = 0.5 * (above * price + p2) + 0.5 * (above * price) - 1
    assert abs(ev) < 1e-9


@pytest.mark.parametrize(("value", "line", "over", "under"), [
    (3, "2.5", (WON, "0"), (LOST, "0")),
    (2, "2.5", (LOST, "0"), (WON, "0")),
    (2, "2", (LOST, "1"), (LOST, "1")),  # push: both stakes back
    (2, "2.25", (LOST, "0.5"), (WON, "0.5")),  # half pushed, half lost / won
    (3, "2.75", (WON, "0.5"), (LOST, "0.5")),
    (4, "2.75", (WON, "0"), (LOST, "0")),
])
def test_lines_settle_with_asian_pushes(
    value: int, line: str, over: tuple[SettlementResult, str], under: tuple[SettlementResult, str]
) -> None:
    got_over, got_under = settle_line(value, Decimal(line))
    assert (got_over.result, got_over.void_factor) == (over[0], Decimal(over[1]))
    assert (got_under.result, got_under.void_factor) == (under[0], Decimal(under[1]))


def test_handicap_is_the_home_margin_plus_the_line() -> None:
    home, away = settle_handicap(1, Decimal("-1.5"))
    assert (home.result, away.result) == (LOST, WON)
    home, away = settle_handicap(-1, Decimal("1.5"))
    assert (home.result, away.result) == (WON, LOST)


def test_balanced_lines_sit_near_even_money() -> None:
    dist = normal_dist(214.3, 12.0)
    line = balanced_line(dist)
    assert line % 1 == Decimal("0.5")
    over, _ = line_probabilities(dist, line)
    assert abs(over - 0.5) < 0.05
    assert abs(float(line) - mean_of(dist)) < 1.5


def test_the_tennis_chain_is_symmetric_and_sensible() -> None:
    assert game_win(0.5) == pytest.approx(0.5)
    assert game_win(0.65) > 0.8
    assert tiebreak_win(0.6, 0.6, 0, 0, "home") == pytest.approx(0.5)
    assert tiebreak_win(0.6, 0.6, 6, 0, "home") > 0.99
    dist = set_dist(0.64, 0.64)
    assert sum(dist.values()) == pytest.approx(1.0)
    assert set(dist) <= {(6, n) for n in range(5)} | {(n, 6) for n in range(5)} | {
        (7, 5), (5, 7), (7, 6), (6, 7)}
    even = match_outlook(0.64, 0.64, best_of=5)
    assert even.p_home == pytest.approx(0.5, abs=1e-9)
    assert sum(even.total_games.values()) == pytest.approx(1.0)
    assert sum(even.set_margin.values()) == pytest.approx(1.0)
    leading = match_outlook(0.64, 0.64, best_of=3, sets=(1, 0), games=(5, 2),
                            games_played=(6, 3))
    assert leading.p_home > 0.9
    assert min(leading.total_games) >= 9 + 7
