"""Market-implied expected goals and the ratings fitted on them (shared.pricing.market_fit)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from shared.pricing.dist import prob_above
from shared.pricing.football import FootballParams, football_outlook
from shared.pricing.football_fit import FittedFootball, MatchResult
from shared.pricing.football_models import model_fitter
from shared.pricing.grid import score_grid
from shared.pricing.implied_goals import grid_summaries, implied_goals
from shared.pricing.market_fit import MARKET_PRIOR_SD, MARKET_RHO, MarketResult, fit_market_football
from tests.support.football_season import STRENGTH, season_rows, true_params

CASES = [(1.5, 1.1, -0.1), (2.9, 0.45, -0.1), (0.6, 2.4, -0.05), (1.2, 1.2, 0.0), (4.0, 3.5, -0.3)]


@pytest.mark.parametrize(("lam_home", "lam_away", "rho"), CASES)
def test_the_vectorised_grid_is_the_pricing_grid(lam_home: float, lam_away: float, rho: float) -> None:
    home, away, over = grid_summaries(np.array([lam_home]), np.array([lam_away]), rho)
    grid = score_grid(lam_home, lam_away, rho=rho)  # (4.0, 3.5, -0.3): rho is clamped alike
    three = grid.three_way()
    assert home[0] == pytest.approx(three[0], abs=1e-9)
    assert away[0] == pytest.approx(three[2], abs=1e-9)
    assert over[0] == pytest.approx(prob_above(grid.total(), 2.5), abs=1e-9)


def _priced(params: FootballParams) -> tuple[tuple[float, float, float], float]:
    outlook = football_outlook(params)
    assert outlook.three_way is not None
    return outlook.three_way, prob_above(outlook.total, 2.5)


def test_prices_give_back_the_expected_goals_that_made_them() -> None:
    truth = [FootballParams(h, a, MARKET_RHO) for h, a, _ in CASES[:4]]
    books = [_priced(p) for p in truth]
    three = np.array([b[0] for b in books])
    over = np.array([b[1] for b in books])
    for with_over in (over, None):  # 1X2 alone pins both rates too
        lam_home, lam_away = implied_goals(three, with_over, MARKET_RHO)
        assert lam_home == pytest.approx([p.lam_home for p in truth], rel=1e-6)
        assert lam_away == pytest.approx([p.lam_away for p in truth], rel=1e-6)
    # Where only some matches have an over/under book, NaN marks the others.
    partial = np.where([True, False, True, False], over, np.nan)
    lam_home, _ = implied_goals(three, partial, MARKET_RHO)
    assert lam_home == pytest.approx([p.lam_home for p in truth], rel=1e-6)


def _market_results(start: date, seed: int) -> list[MarketResult]:
    return [MarketResult(r.day, r.home, r.away, r.home_goals, r.away_goals, r.three_way, r.over)
            for r in season_rows(start, seed)]


def test_ratings_fitted_on_prices_reproduce_the_market() -> None:
    history = _market_results(date(2022, 8, 13), seed=3)
    # Without the prior's pull, exactly the truth the prices came from; with the default
    # prior (worth a few priced matches) a little shrunk: 30 matches in all here.
    for prior_sd, tolerance in ((100.0, 0.01), (MARKET_PRIOR_SD, 0.03)):
        fitted = fit_market_football(history, prior_sd=prior_sd)
        for home in STRENGTH:
            for away in STRENGTH:
                if home != away:
                    ours, truth = fitted.params(home, away), true_params(home, away)
                    assert ours.lam_home == pytest.approx(truth.lam_home, rel=tolerance)
                    assert ours.lam_away == pytest.approx(truth.lam_away, rel=tolerance)
                    assert ours.rho == MARKET_RHO
    assert fitted.kind == "market"
    assert fitted.n_matches == len(history) == 30
    assert fitted.home_advantage == pytest.approx(0.25, abs=0.01)
    assert abs(sum(fitted.attack.values())) < 1e-9
    assert fitted.log_likelihood < 0
    copy = FittedFootball.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert copy == fitted


def test_a_newcomer_gets_a_weak_sides_chances_not_an_impossible_one() -> None:
    history = _market_results(date(2022, 8, 13), seed=3)
    last = history[-1].date
    # Three heavy defeats, priced as a weak side's by the market ...
    weak = true_params("Burnley", "Man City")
    three, over = _priced(weak)
    priced = [MarketResult(last + timedelta(days=d), "Newcomers", "Man City", 0, 5, three, over)
              for d in (7, 14, 21)]
    fitted = fit_market_football(history + priced)
    home_win = _priced(fitted.params("Newcomers", "Man City"))[0][0]
    assert home_win == pytest.approx(_priced(weak)[0][0], abs=0.02)
    # ... and without any prices: the results alone, lightly weighted, move it but little.
    unpriced = [MatchResult(last + timedelta(days=d), "Newcomers", "Liverpool", 0, 5) for d in (7, 14, 21)]
    fitted = fit_market_football(history + unpriced)
    home_win = _priced(fitted.params("Newcomers", "Man City"))[0][0]
    assert 0.03 < home_win < 0.25


def test_the_fit_uses_nothing_played_after_its_day() -> None:
    history = _market_results(date(2022, 8, 13), seed=3)
    day = history[14].date
    before = [m for m in history if m.date <= day]
    assert fit_market_football(history, as_of=day) == fit_market_football(before, as_of=day)


def test_the_fit_needs_prices() -> None:
    plain = [MatchResult(r.day, r.home, r.away, r.home_goals, r.away_goals)
             for r in season_rows(date(2022, 8, 13), seed=3)]
    with pytest.raises(ValueError, match="no market prices"):
        fit_market_football(plain)
    with pytest.raises(ValueError, match="no matches"):
        fit_market_football([])
    # The named model falls back on the goals model for a history without prices.
    fallback = model_fitter("market")(plain, date(2022, 12, 1))
    assert isinstance(fallback, FittedFootball)
    assert fallback.kind == "dixon_coles"


def test_models_are_named_and_their_settings_checked() -> None:
    history = _market_results(date(2022, 8, 13), seed=3)
    day = date(2022, 12, 1)
    slow = model_fitter("market", {"xi": 0.005})(history, day)
    assert isinstance(slow, FittedFootball)
    assert slow.xi == 0.005
    assert model_fitter("dixon-coles-ml")(history, day).params("Man City", "Burnley").lam_home > 1
    with pytest.raises(ValueError, match="unknown model 'elo'"):
        model_fitter("elo")
    with pytest.raises(ValueError, match="has no setting results_weight"):
        model_fitter("dixon-coles", {"results_weight": 0.1})
