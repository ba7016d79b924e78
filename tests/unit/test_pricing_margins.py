"""Margins both ways: the overround asked for, and removing what was applied gives it back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.pricing.margins import (
    Method,
    apply_margin,
    book_overround,
    fair_probabilities,
    quote,
    remove_margin,
)

METHODS = list(Method)


def _fair(weights: list[float]) -> list[float]:
    return [w / sum(weights) for w in weights]


outcomes = st.lists(st.floats(min_value=0.02, max_value=1.0), min_size=2, max_size=6).map(_fair)
margins = st.floats(min_value=0.0, max_value=0.12)
# Every test of one-winner books draws the same cases: fair probabilities, a margin, a method.
books = given(probabilities=outcomes, margin=margins, method=st.sampled_from(METHODS))


@settings(max_examples=300, deadline=None)
@books
def test_a_book_carries_exactly_the_margin_asked_for(
    probabilities: list[float], margin: float, method: Method
) -> None:
    implied = apply_margin(probabilities, margin, method)
    assert book_overround(implied) == pytest.approx(margin, abs=1e-9)
    assert all(x >= p - 1e-12 for x, p in zip(implied, probabilities, strict=True))


@settings(max_examples=300, deadline=None)
@books
def test_removing_the_applied_margin_returns_the_probabilities(
    probabilities: list[float], margin: float, method: Method
) -> None:
    implied = apply_margin(probabilities, margin, method)
    prices = [1 / x for x in implied]
    fair = remove_margin(prices, method)  # one winner: penaltyblog's inverse
    assert sum(fair) == pytest.approx(1.0, abs=1e-9)
    assert fair == pytest.approx(probabilities, abs=1e-9)
    # ... and this module's own inverse agrees with penaltyblog's.
    assert fair_probabilities(implied, method) == pytest.approx(fair, abs=1e-9)


def _double_chance(weights: tuple[float, float, float]) -> list[float]:
    home, draw, away = _fair(list(weights))
    return [home + draw, home + away, draw + away]


@settings(max_examples=200, deadline=None)
@given(three=st.tuples(*[st.floats(0.05, 1.0)] * 3).map(_double_chance), margin=margins,
       method=st.sampled_from(METHODS))
def test_double_chance_books_count_two_winners(
    three: list[float], margin: float, method: Method
) -> None:
    implied = apply_margin(three, margin, method, winners=2)
    assert sum(implied) == pytest.approx(2 * (1 + margin), abs=1e-9)
    assert book_overround(implied, winners=2) == pytest.approx(margin, abs=1e-9)
    fair = remove_margin([1 / x for x in implied], method, winners=2)
    assert sum(fair) == pytest.approx(2.0, abs=1e-9)
    assert fair == pytest.approx(three, abs=1e-9)


def test_methods_load_the_margin_on_the_longshot_differently() -> None:
    fair = [0.75, 0.25]
    mult, power, shin, ratio = (apply_margin(fair, 0.05, m) for m in (
        Method.MULTIPLICATIVE, Method.POWER, Method.SHIN, Method.ODDS_RATIO))
    # Proportional: the longshot's implied probability grows by 5 %, like the favourite's.
    assert mult[1] / fair[1] == pytest.approx(1.05)
    for other in (power, shin, ratio):
        assert other[1] / fair[1] > mult[1] / fair[1]
        assert other[0] / fair[0] < mult[0] / fair[0]


def test_removal_matches_known_answers() -> None:
    prices = [2.7, 2.3, 4.4]  # penaltyblog's documented example
    assert remove_margin(prices) == pytest.approx([0.35873804, 0.42112726, 0.2201347], abs=1e-8)
    # Shin on a two-way book has a closed form: z from the overround and the odds.
    home, away = 1.5, 2.6
    fair = remove_margin([home, away], Method.SHIN)
    assert sum(fair) == pytest.approx(1.0)
    assert fair[0] > 1 / home / (1 / home + 1 / away)  # Shin favours the favourite


def test_shin_on_a_book_without_overround_is_proportional() -> None:
    prices = [2.1, 2.1]  # Σ 1/price < 1: best prices across books, say
    assert remove_margin(prices, Method.SHIN) == pytest.approx([0.5, 0.5])


def test_a_margin_out_of_reach_is_refused() -> None:
    with pytest.raises(ValueError, match="overround"):
        apply_margin([0.999, 0.001], 1.5, Method.POWER)  # Σ p^e cannot pass 2
    with pytest.raises(ValueError, match="overround"):
        apply_margin([0.999, 0.001], 0.2, Method.SHIN)  # at most (Σ √p)² - 1 = 6.3 %
    with pytest.raises(ValueError, match=">= 0"):
        apply_margin([0.5, 0.5], -0.01)


def _tolerance(prices: tuple[Decimal, ...]) -> float:
    return sum(0.005 / float(p - Decimal("0.005")) ** 2 for p in prices) + 1e-9


@settings(max_examples=200, deadline=None)
@books
def test_quoted_prices_carry_the_margin_within_rounding(
    probabilities: list[float], margin: float, method: Method
) -> None:
    implied = apply_margin(probabilities, margin, method)
    assume(max(implied) < 1 / 1.01 and min(implied) > 1 / 1000)
    prices = quote(probabilities, margin, method)
    assert all(isinstance(p, Decimal) for p in prices)
    overround = sum(1 / float(p) for p in prices) - 1
    assert overround == pytest.approx(margin, abs=_tolerance(prices))
