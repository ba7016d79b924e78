"""Football goal models fitted on real Premier League results (football-data.co.uk files)."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest

from shared.pricing.football import football_outlook
from shared.pricing.football_fit import FittedFootball, MatchResult, fit_football
from tests.support.football_results import read_results

pytestmark = pytest.mark.integration  # real files of ../shared/data: missing ones fail, never skip


@pytest.fixture(scope="module")
def season() -> list[MatchResult]:
    return read_results("E0_2122.csv")


@pytest.fixture(scope="module")
def fitted(season: list[MatchResult]) -> FittedFootball:
    return fit_football(season)


def _result(r: MatchResult) -> int:
    return 0 if r.home_goals > r.away_goals else 1 if r.home_goals == r.away_goals else 2


def test_the_fit_beats_the_base_rates_on_the_next_season(
    season: list[MatchResult], fitted: FittedFootball
) -> None:
    test = read_results("E0_2223.csv")[:100]  # the first ten weeks of 2022/23
    rates = [sum(_result(r) == k for r in season) / len(season) for k in range(3)]
    base = -sum(math.log(rates[_result(r)]) for r in test) / len(test)
    model = 0.0
    for r in test:
        three = football_outlook(fitted.params(r.home, r.away)).three_way
        assert three is not None
        model -= math.log(three[_result(r)])
    model /= len(test)
    assert model < base - 0.02, (model, base)


def test_a_side_with_three_matches_is_not_given_extreme_odds(season: list[MatchResult]) -> None:
    last = season[-1].date
    newcomers = [MatchResult(last - timedelta(days=d), h, a, hg, ag) for d, h, a, hg, ag in (
        (14, "Newcomers", "Norwich", 0, 3), (7, "Brighton", "Newcomers", 4, 0),
        (1, "Newcomers", "Burnley", 0, 2))]
    data = season + newcomers
    plain = fit_football(data, prior_sd=None)  # maximum likelihood alone, as penaltyblog fits
    shrunk = fit_football(data)
    away_win = {name: football_outlook(m.params("Newcomers", "Man City")).three_way
                for name, m in (("plain", plain), ("shrunk", shrunk))}
    plain_home = away_win["plain"]
    shrunk_home = away_win["shrunk"]
    assert plain_home is not None
    assert shrunk_home is not None
    assert plain_home[0] < 0.001  # ML: 0.1 % or less at home against the champions
    assert shrunk_home[0] > 0.03  # the prior: a weak side's chances, not an impossible one
    # Established sides barely move.
    city = football_outlook(shrunk.params("Man City", "Liverpool")).three_way
    city_plain = football_outlook(plain.params("Man City", "Liverpool")).three_way
    assert city is not None
    assert city_plain is not None
    assert abs(city[0] - city_plain[0]) < 0.03


def test_without_a_prior_it_is_penaltyblogs_dixon_coles(season: list[MatchResult]) -> None:
    import penaltyblog as pb

    ours = fit_football(season, prior_sd=None)
    weights = pb.models.dixon_coles_weights([r.date for r in season], 0.0018)
    theirs = pb.models.DixonColesGoalModel(
        [r.home_goals for r in season], [r.away_goals for r in season],
        [r.home for r in season], [r.away for r in season], weights=weights)
    theirs.fit()
    for home, away in (("Arsenal", "Chelsea"), ("Norwich", "Man City"), ("Leeds", "Everton")):
        grid = theirs.predict(home, away)
        params = ours.params(home, away)
        assert params.lam_home == pytest.approx(grid.home_goal_expectation, rel=1e-4)
        assert params.lam_away == pytest.approx(grid.away_goal_expectation, rel=1e-4)
        three = football_outlook(params).three_way
        assert three == pytest.approx(grid.home_draw_away, abs=1e-4)


def test_the_fitted_model_is_plain_numbers(fitted: FittedFootball) -> None:
    copy = FittedFootball.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert copy == fitted
    assert len(fitted.teams) == 20
    assert abs(sum(fitted.attack.values())) < 1e-9
    assert 0.05 < fitted.home_advantage < 0.4
    assert -0.3 < fitted.rho < 0.1
    average = fitted.params("Never Seen FC", "Nobody United")
    assert average.lam_home == pytest.approx(math.exp(fitted.intercept + fitted.home_advantage))
    neutral = fitted.params("Arsenal", "Chelsea", neutral=True)
    assert neutral.lam_home < fitted.params("Arsenal", "Chelsea").lam_home
    assert fitted.attack["Man City"] > 0 < fitted.defence["Man City"]


def test_plain_poisson_has_no_rho(season: list[MatchResult]) -> None:
    poisson = fit_football(season, kind="poisson", xi=0.0)
    assert poisson.rho == 0.0
    assert poisson.kind == "poisson"
    with pytest.raises(ValueError, match="no results"):
        fit_football([])
