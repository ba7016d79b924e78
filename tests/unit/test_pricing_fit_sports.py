"""Ice hockey, basketball and tennis fits on simulated matches: the truth recovered, newcomers shrunk."""

from __future__ import annotations

import json
import math
import statistics
from datetime import date

import numpy as np
import pytest

from feedgen.sim.basketball import MEAN_POSSESSION, moments_of, possession_points
from feedgen.sim.ice_hockey import BASE_GOALS, HOME_ADVANTAGE
from shared.enums import Sport
from shared.pricing.basketball import basketball_outlook
from shared.pricing.basketball_fit import FittedBasketball, basketball_prior, fit_basketball
from shared.pricing.hockey_fit import FittedHockey, fit_hockey, hockey_prior
from shared.pricing.ice_hockey import hockey_outlook
from shared.pricing.ratings import ScoredMatch
from shared.pricing.tennis import tennis_outlook
from shared.pricing.tennis_chain import game_win
from shared.pricing.tennis_fit import (
    PRIOR_SERVE,
    FittedTennis,
    TennisMatch,
    expected_set_games,
    fit_tennis,
    hold,
    serve_level,
    tennis_prior,
)
from tests.support.sim_results import Played, play, scored, tennis

HOCKEY = ("p1", "p2", "p3")
QUARTERS = ("q1", "q2", "q3", "q4")
DAY = date(2026, 5, 1)


@pytest.fixture(scope="module")
def hockey_games() -> list[Played]:
    return play(Sport.ICE_HOCKEY, 400)


@pytest.fixture(scope="module")
def basketball_games() -> list[Played]:
    return play(Sport.BASKETBALL, 300)


@pytest.fixture(scope="module")
def tennis_matches() -> list[Played]:
    return play(Sport.TENNIS, 300)


def correlation(xs: list[float], ys: list[float]) -> float:
    return statistics.correlation(xs, ys)


def truth(played: list[Played], skill: str) -> dict[str, float]:
    """Each side's true rating (``attack``, ``defence`` or their sum for tennis)."""
    sides = {p.setup.home.id: p.setup.home for p in played} | {
        p.setup.away.id: p.setup.away for p in played}
    if skill == "both":
        return {i: s.attack + s.defence for i, s in sides.items()}
    return {i: getattr(s, skill) for i, s in sides.items()}


def test_hockey_fit_recovers_the_league_and_the_sides(hockey_games: list[Played]) -> None:
    fitted = fit_hockey(scored(hockey_games, HOCKEY))
    assert fitted.n_matches == 400
    assert fitted.teams == 40
    base = BASE_GOALS  # the generator's regulation goals of an average away side
    assert abs(fitted.intercept - math.log(base)) < 0.06
    assert abs(fitted.home_advantage - HOME_ADVANTAGE) < 0.06
    for skill in ("attack", "defence"):
        true = truth(hockey_games, skill)
        ids = sorted(true)
        got = getattr(fitted, skill)
        assert correlation([true[i] for i in ids], [got[i] for i in ids]) > 0.6, skill


def test_basketball_fit_recovers_points_and_the_margin_spread(basketball_games: list[Played]) -> None:
    fitted = fit_basketball(scored(basketball_games, QUARTERS))
    home, away = (moments_of(possession_points(e))[0] * 4 * 720 / (2 * MEAN_POSSESSION)
                  for e in (0.012, 0.0))
    assert abs(fitted.intercept - away) < 2.0
    assert abs(fitted.home_advantage - (home - away)) < 2.0
    assert 13 < fitted.margin_sd < 19  # the simulator's regulation margin spread is 16.3
    true = truth(basketball_games, "attack")
    ids = sorted(true)
    assert correlation([true[i] for i in ids], [fitted.attack[i] for i in ids]) > 0.7


def test_tennis_fit_recovers_the_serve_level_and_the_players(tennis_matches: list[Played]) -> None:
    fitted = fit_tennis(tennis(tennis_matches))
    assert abs(fitted.serve[3] - 0.62) < 0.01
    true = truth(tennis_matches, "both")
    ids = sorted(true)
    assert correlation([true[i] for i in ids], [fitted.rating[i] for i in ids]) > 0.7


def test_hold_is_the_chains_game_win_and_set_length_inverts() -> None:


    ps = [0.45, 0.55, 0.62, 0.7, 0.8]
    for p, h in zip(ps, hold(np.array(ps)), strict=True):
        assert h == pytest.approx(game_win(p), abs=1e-12)
    for p in (0.55, 0.62, 0.7):
        assert serve_level(expected_set_games(p)) == pytest.approx(p, abs=1e-4)
    assert serve_level(5.0) == 0.5  # shorter than any symmetric set: the floor


def newcomer_hockey(games: list[ScoredMatch]) -> list[ScoredMatch]:
    """Two routs by a side never seen before."""
    return [*games, ScoredMatch(DAY, "new", games[0].away, 7, 0),
            ScoredMatch(DAY, games[1].home, "new", 0, 8)]


def test_a_hockey_side_with_two_routs_is_not_priced_as_a_sure_thing(
    hockey_games: list[Played],
) -> None:
    games = newcomer_hockey(scored(hockey_games, HOCKEY))
    shrunk = fit_hockey(games)
    loose = fit_hockey(games, prior_sd=10.0)  # next to no prior: maximum likelihood
    opponent = games[5].home
    win = {name: hockey_outlook(m.params("new", opponent)).winner[0]
           for name, m in (("shrunk", shrunk), ("loose", loose))}
    assert win["loose"] > 0.9
    assert win["shrunk"] < 0.75
    assert abs(shrunk.attack["new"]) < abs(loose.attack["new"]) / 3


def test_a_tennis_player_with_two_bagels_is_not_priced_as_a_sure_thing(
    tennis_matches: list[Played],
) -> None:
    matches = tennis(tennis_matches)
    other = matches[0].home
    matches += [TennisMatch(DAY, "new", other, ((6, 0), (6, 0))),
                TennisMatch(DAY, matches[3].away, "new", ((0, 6), (0, 6)))]
    fitted = fit_tennis(matches)
    loose = fit_tennis(matches, prior_sd=1.0)
    shrunk_p = tennis_outlook(fitted.params("new", other)).winner[0]
    loose_p = tennis_outlook(loose.params("new", other)).winner[0]
    assert loose_p > 0.97
    assert shrunk_p < 0.85


def test_unknown_sides_are_average_and_no_results_is_the_prior() -> None:
    for fitted in (fit_hockey([]), fit_basketball([]), fit_tennis([])):
        assert fitted.teams == 0
    assert fit_hockey([]) == hockey_prior()
    assert fit_tennis([]) == tennis_prior()
    prior = basketball_prior()
    assert prior.points("a", "b") == (115.5, 113.0)
    even = basketball_outlook(prior.params("a", "b")).winner[0]
    assert 0.5 < even < 0.65  # home advantage only
    hockey = hockey_prior().params("a", "b")
    assert hockey.lam_home == pytest.approx(3.10)
    assert hockey.lam_away == pytest.approx(2.85)
    assert tennis_prior().params("a", "b", best_of=5).p_home == PRIOR_SERVE[5]


def test_fitted_models_survive_json(hockey_games: list[Played], tennis_matches: list[Played]) -> None:
    hockey = fit_hockey(scored(hockey_games[:50], HOCKEY))
    basketball = fit_basketball([ScoredMatch(DAY, "a", "b", 110, 100)] * 3)
    players = fit_tennis(tennis(tennis_matches[:40]))
    assert FittedHockey.from_dict(json.loads(json.dumps(hockey.to_dict()))) == hockey
    assert FittedBasketball.from_dict(json.loads(json.dumps(basketball.to_dict()))) == basketball
    assert FittedTennis.from_dict(json.loads(json.dumps(players.to_dict()))) == players


def test_match_weights_count_like_repeated_matches() -> None:
    one = [ScoredMatch(DAY, "a", "b", 5, 1), ScoredMatch(DAY, "b", "a", 2, 2)]
    twice = fit_hockey([one[0], one[0], one[1]])
    weighted = fit_hockey(one, weights=[2.0, 1.0])
    assert weighted.attack["a"] == pytest.approx(twice.attack["a"], abs=1e-4)
    assert weighted.intercept == pytest.approx(twice.intercept, abs=1e-4)
