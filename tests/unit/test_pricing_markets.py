"""Every market of every sport, named as the rules name it; the football grid against penaltyblog."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.enums import Sport
from shared.pricing.basketball import BasketballParams
from shared.pricing.event import SportParams, offered_lines, price_event, sport_of
from shared.pricing.football import FootballParams, correct_score, football_outlook
from shared.pricing.grid import score_grid
from shared.pricing.ice_hockey import HockeyParams, hockey_outlook
from shared.pricing.markets import MarketLine, plain_markets, price_markets
from shared.pricing.tennis import TennisParams
from shared.rules import rules_for

FOOTBALL = FootballParams(1.55, 1.15, -0.06)
HOCKEY = HockeyParams(3.2, 2.7)
PARAMS: dict[Sport, SportParams] = {
    Sport.FOOTBALL: FOOTBALL,
    Sport.ICE_HOCKEY: HOCKEY,
    Sport.BASKETBALL: BasketballParams.from_points(114.0, 109.5),
    Sport.TENNIS: TennisParams(0.66, 0.62, best_of=5),
}


@pytest.mark.parametrize("sport", list(Sport))
def test_every_market_type_of_the_rules_is_priced_with_its_outcomes(sport: Sport) -> None:
    params = PARAMS[sport]
    assert sport_of(params) is sport
    prices = price_event(params)
    rules = rules_for(sport)
    assert {key.split("|")[0] for key in prices} == set(rules.markets)
    for key, market in prices.items():
        spec = rules.markets[key.split("|")[0]]
        assert market.key == key
        assert rules.check_market_key(key) == []
        assert tuple(market.probabilities) == spec.outcomes
        assert sum(market.probabilities.values()) == pytest.approx(spec.winners, abs=1e-9)
        assert all(0.0 <= p <= 1.0 for p in market.probabilities.values())
        if market.odds is not None:
            for outcome, law in market.odds.items():
                assert law.effective == pytest.approx(market.probabilities[outcome], abs=1e-9)


def test_the_keys_are_canonical_market_keys() -> None:
    prices = price_event(PARAMS[Sport.FOOTBALL], lines=[
        MarketLine("totals", Decimal("2.50")), MarketLine("handicap", Decimal("-0.75")),
        MarketLine("handicap", Decimal("+1"))])
    assert list(prices) == ["totals|total=2.5", "handicap|hcp=-0.75", "handicap|hcp=1"]


def test_football_offers_whole_half_and_quarter_lines_with_pushes_priced() -> None:
    params = FOOTBALL
    lines = [MarketLine("totals", Decimal(t)) for t in ("2", "2.25", "2.5", "2.75", "3")] + [
        MarketLine("handicap", Decimal(h)) for h in ("-1", "-0.75", "-0.5", "-0.25", "0", "0.25")]
    prices = price_markets(Sport.FOOTBALL, football_outlook(params), lines)
    whole = prices["totals|total=2"].odds
    quarter = prices["totals|total=2.25"].odds
    assert whole is not None
    assert quarter is not None
    assert whole["over"].push > 0.2
    assert whole["over"].half_win == 0.0
    assert quarter["over"].push == 0.0
    assert quarter["over"].half_lose > 0.2
    # The draw-no-bet price and the level handicap are the same bet.
    dnb = price_markets(Sport.FOOTBALL, football_outlook(params), [MarketLine("draw_no_bet")])
    level = prices["handicap|hcp=0"].probabilities
    assert dnb["draw_no_bet"].probabilities["home"] == pytest.approx(level["home"])
    # Quarter lines sit between their neighbours.
    over = {t: prices[f"totals|total={t}"].probabilities["over"] for t in ("2", "2.25", "2.5")}
    assert over["2"] > over["2.25"] > over["2.5"]


def _penaltyblog_grid(lam_home: float, lam_away: float, rho: float) -> np.ndarray:
    """The grid penaltyblog's fitted Dixon-Coles model predicts with (its Cython kernel).

    Not ``create_dixon_coles_grid``: in penaltyblog 1.13.1 that helper swaps the 1-0 and
    0-1 factors (1 + rho·λ_home on 1-0), unlike the paper and penaltyblog's own model.
    """
    from penaltyblog.models.probabilities import compute_dixon_coles_probabilities

    size = 30
    cells, out_home, out_away = np.empty(size * size), np.empty(1), np.empty(1)
    compute_dixon_coles_probabilities(math.log(lam_home), math.log(lam_away), 0.0, 0.0, 0.0, rho,
                                      size, cells, out_home, out_away)
    return cells.reshape(size, size)


@settings(max_examples=100, deadline=None)
@given(lam_home=st.floats(0.2, 3.5), lam_away=st.floats(0.2, 3.5), rho=st.floats(-0.25, 0.25))
def test_the_dixon_coles_grid_matches_penaltyblogs_model(
    lam_home: float, lam_away: float, rho: float
) -> None:
    low, high = max(-1 / lam_home, -1 / lam_away), min(1.0, 1 / (lam_home * lam_away))
    assume(low <= rho <= high)  # Dixon and Coles' admissible range (ours clamps to it)
    ours = score_grid(lam_home, lam_away, rho=rho)
    theirs = _penaltyblog_grid(lam_home, lam_away, rho)
    home, away = np.indices(theirs.shape)
    three = (theirs[home > away].sum(), np.trace(theirs), theirs[home < away].sum())
    assert ours.three_way() == pytest.approx(three, abs=1e-9)
    assert ours.both_score() == pytest.approx(theirs[1:, 1:].sum(), abs=1e-9)
    scores = ours.correct_score(top=3)
    for h, a in ((0, 0), (1, 0), (0, 1), (1, 1), (2, 1)):
        assert scores[f"{h}-{a}"] == pytest.approx(theirs[h, a], abs=1e-12)
    total = ours.total()
    for goals in range(6):
        assert total[goals] == pytest.approx(theirs[home + away == goals].sum(), abs=1e-12)


def test_the_dixon_coles_tau_is_the_papers() -> None:
    lam, mu, rho = 1.4, 0.9, -0.08
    base = score_grid(lam, mu).correct_score(2)
    adjusted = score_grid(lam, mu, rho=rho).correct_score(2)
    for (h, a), tau in {(0, 0): 1 - lam * mu * rho, (0, 1): 1 + lam * rho, (1, 0): 1 + mu * rho,
                        (1, 1): 1 - rho}.items():
        assert adjusted[f"{h}-{a}"] == pytest.approx(base[f"{h}-{a}"] * tau, rel=1e-12)


def test_correct_score_adds_up_and_rho_moves_the_low_scores() -> None:
    poisson = correct_score(FootballParams(1.3, 1.0, 0.0))
    dixon = correct_score(FootballParams(1.3, 1.0, -0.1))
    assert sum(poisson.values()) == pytest.approx(1.0) == sum(dixon.values())
    assert dixon["0-0"] > poisson["0-0"]
    assert dixon["1-1"] > poisson["1-1"]
    assert dixon["1-0"] < poisson["1-0"]
    assert dixon["0-1"] < poisson["0-1"]
    assert dixon["2-1"] == pytest.approx(poisson["2-1"])


def test_ice_hockey_moneyline_adds_overtime_to_regulation() -> None:
    params = HOCKEY
    outlook = hockey_outlook(params)
    assert outlook.three_way is not None
    home, draw, _away = outlook.three_way
    assert 0.15 < draw < 0.3
    assert home < outlook.winner[0] < home + draw
    assert sum(outlook.total.values()) == pytest.approx(1.0)
    assert outlook.margin.get(0, 0.0) == 0.0  # a hockey game always has a winner
    playoff = hockey_outlook(HockeyParams(3.2, 2.7, knockout=True))
    # Play-off overtime is won by the better side more often than a coin-like shoot-out.
    assert playoff.winner[0] > outlook.winner[0]


def test_plain_markets_are_the_rules_markets_without_lines() -> None:
    assert [line.key for line in plain_markets(Sport.FOOTBALL)] == [
        "1x2", "double_chance", "draw_no_bet", "btts"]
    assert [line.key for line in plain_markets(Sport.TENNIS)] == ["moneyline"]


@pytest.mark.parametrize("sport", list(Sport))
def test_offered_lines_sit_around_even_money(sport: Sport) -> None:
    params = PARAMS[sport]
    prices = price_event(params, lines=offered_lines(params))
    totals = [m for k, m in prices.items() if k.startswith("totals|")]
    assert min(abs(m.probabilities["over"] - 0.5) for m in totals) < 0.12
