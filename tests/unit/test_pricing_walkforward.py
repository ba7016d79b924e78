"""The walk-forward: match weeks, and no look-ahead (a match's own result and prices never
reach its prediction, nor anything later)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from shared.footballdata import Match
from shared.pricing.football_fit import FittedFootball, MatchResult
from shared.pricing.football_models import model_fitter
from shared.pricing.market_fit import MarketResult
from shared.pricing.walkforward import Prediction, match_weeks, walk_forward, week_start
from tests.support.football_season import Row, altered, matches_of, season_file, season_rows

TRAIN_START, TEST_START = date(2021, 8, 14), date(2022, 8, 13)  # Saturdays


@pytest.fixture(scope="module")
def train() -> list[Match]:
    return matches_of(season_file("E0_2122.csv", season_rows(TRAIN_START, seed=1)))


def _predict(train: list[Match], rows: Sequence[Row], model: str = "market") -> list[Prediction]:
    return list(walk_forward(train, matches_of(season_file("E0_2223.csv", rows)), model_fitter(model)))


def test_weeks_run_monday_to_sunday_in_date_order() -> None:
    assert week_start(date(2022, 8, 5)) == date(2022, 8, 1)  # a Friday
    assert week_start(date(2022, 8, 7)) == date(2022, 8, 1)  # the Sunday
    assert week_start(date(2022, 8, 8)) == date(2022, 8, 8)  # Monday starts the next
    assert week_start(date(2022, 8, 5), first_weekday=4) == date(2022, 8, 5)
    rows = season_rows(TEST_START, seed=2)
    weeks = match_weeks(list(reversed(matches_of(season_file("E0_2223.csv", rows)))))
    assert [w for w, _ in weeks] == sorted({week_start(r.day) for r in rows})
    assert all(len(ms) == 3 for _, ms in weeks)


@pytest.mark.parametrize("model", ["market", "dixon-coles"])
def test_a_matchs_own_result_and_prices_never_reach_its_prediction(train: list[Match], model: str) -> None:
    rows = season_rows(TEST_START, seed=2)
    k = sorted({r.day for r in rows})[4]  # the fifth round
    honest = _predict(train, rows, model)
    # Every match from the fifth round on becomes a 9-0 home win priced at 1.05 at the close.
    # (Both models: the market fit also drops matches after its day, a second guard that
    # would hide a leak of the walk-forward's own from the market model alone.)
    leaked = _predict(train, altered(rows, since=k), model)
    assert len(honest) == len(leaked) == len(rows)
    for a, b in zip(honest, leaked, strict=True):
        assert a.match.event_id == b.match.event_id
        if a.match.match_date <= k:  # up to and including the altered round itself
            assert a.home_draw_away == b.home_draw_away
            assert a.over_25 == b.over_25
            assert a.params == b.params
    # ... while the rounds after it do learn from what was played before them.
    later = [(a, b) for a, b in zip(honest, leaked, strict=True) if a.match.match_date > k]
    assert later
    assert all(a.params != b.params for a, b in later)


def test_each_fit_sees_only_matches_played_before_its_week(train: list[Match]) -> None:
    test = matches_of(season_file("E0_2223.csv", season_rows(TEST_START, seed=2)))
    seen: list[tuple[date, Sequence[MatchResult]]] = []
    fit = model_fitter("market")

    def spy(history: Sequence[MatchResult], day: date) -> FittedFootball:
        seen.append((day, list(history)))
        fitted = fit(history, day)
        assert isinstance(fitted, FittedFootball)
        return fitted

    predictions = list(walk_forward([*train, *test[:6]], test, spy))  # test rows in train count once
    assert len(predictions) == len(test)
    assert [day for day, _ in seen] == [w for w, _ in match_weeks(test)]
    for day, history in seen:
        assert history
        assert all(isinstance(m, MarketResult) for m in history)
        assert max(m.date for m in history) < day
        assert len(history) == len({(m.date, m.home, m.away) for m in history})
        assert len(history) == len(train) + sum(1 for m in test if m.match_date < day)
    for p in predictions:
        assert p.week == week_start(p.match.match_date)
        assert p.trained_on == len(train) + sum(1 for m in test if m.match_date < p.week)


def test_predictions_carry_probabilities_and_expected_goals(train: list[Match]) -> None:
    predictions = _predict(train, season_rows(TEST_START, seed=2))
    for p in predictions:
        assert sum(p.home_draw_away) == pytest.approx(1.0)
        assert 0 < p.over_25 < 1
        assert p.under_25 == pytest.approx(1 - p.over_25)
        assert p.expected_goals == (p.params.lam_home, p.params.lam_away)
        assert p.match.home.id.startswith("fd:team:")
    city_home = next(p for p in predictions
                     if p.match.home.name == "Man City" and p.match.away.name == "Burnley")
    assert city_home.home_draw_away[0] > 0.7


def test_without_anything_before_the_first_week_there_is_nothing_to_fit() -> None:
    test = matches_of(season_file("E0_2223.csv", season_rows(TEST_START, seed=2)))
    with pytest.raises(ValueError, match="nothing to fit on"):
        list(walk_forward([], test))
