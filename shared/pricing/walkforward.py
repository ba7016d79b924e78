"""Walk forward through a season: fit on everything before each match week, predict that week.

The contract the pricing service's ``evaluate`` and the trading backtest share::

    for p in walk_forward(train, test, model=model_fitter("market")):
        p.match                # the shared.footballdata Match predicted (all its odds, its result)
        p.home_draw_away       # the model's 1X2 probabilities (90 minutes)
        p.over_25              # P(more than 2.5 goals); p.under_25 = 1 - p.over_25
        p.expected_goals       # (λ_home, λ_away); p.params is the FootballParams priced from
        p.week, p.trained_on   # the week's first day, how many past matches the fit saw

``train`` and ``test`` are matches as :func:`shared.footballdata.read_file` returns them
(any files, any order; a match in both counts once). ``test`` is split into match
weeks, seven days from a ``first_weekday`` (Monday by default, the ISO week: a Friday
to Monday round is one week, a midweek round another). For each week, in date order,
the model is fitted on every train and test match played *before the week's first day*
(:func:`shared.pricing.football_books.market_result`: result and de-margined closing
prices), then predicts each match of the week. So nothing of a match (its result, its
closing or opening prices), nor of any later match, reaches its own prediction; a
Sunday match is predicted without Saturday's results, as a model refitted once a week
would price it. Predictions come out week by week, in the test's order within a week.

A model is a :data:`~shared.pricing.football_models.Fitter`: ``(history, day) ->`` a
fitted model with ``.params(home, away) -> FootballParams``, the history being
:class:`~shared.pricing.market_fit.MarketResult` in date order; teams are the reader's
stable ids (``match.home.id``). Probabilities come from
:func:`shared.pricing.football.football_outlook`, the grid every market is priced from.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from shared.footballdata.model import Match
from shared.pricing.dist import prob_above
from shared.pricing.football import FootballParams, football_outlook
from shared.pricing.football_books import market_result
from shared.pricing.football_models import DEFAULT_MODEL, Fitter, model_fitter
from shared.pricing.market_fit import MarketResult


@dataclass(frozen=True)
class Prediction:
    """A model's pre-match view of one test match, fitted only on what came before its week."""

    match: Match
    week: date
    trained_on: int
    params: FootballParams
    home_draw_away: tuple[float, float, float]
    over_25: float

    @property
    def expected_goals(self) -> tuple[float, float]:
        """``(λ_home, λ_away)``: the goals the model expects of each side."""
        return self.params.lam_home, self.params.lam_away

    @property
    def under_25(self) -> float:
        """P(2 goals or fewer)."""
        return 1.0 - self.over_25


def outcome(match: Match) -> int:
    """0 home win, 1 draw, 2 away win: the index into ``home_draw_away``."""
    return {"H": 0, "D": 1, "A": 2}[match.result]


def went_over(match: Match) -> bool:
    """More than 2.5 goals."""
    return match.home_goals + match.away_goals > 2


def week_start(day: date, first_weekday: int = 0) -> date:
    """The first day of ``day``'s match week (``first_weekday``: 0 Monday .. 6 Sunday)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def match_weeks(matches: Sequence[Match], first_weekday: int = 0) -> list[tuple[date, list[Match]]]:
    """The matches grouped by match week, weeks in date order (the input's order within one)."""
    weeks: dict[date, list[Match]] = {}
    for m in matches:
        weeks.setdefault(week_start(m.match_date, first_weekday), []).append(m)
    return sorted(weeks.items(), key=lambda item: item[0])


def predict(model_params: FootballParams) -> tuple[tuple[float, float, float], float]:
    """The 1X2 probabilities and P(over 2.5) of a match's parameters."""
    outlook = football_outlook(model_params)
    three = outlook.three_way
    assert three is not None  # football always has a three-way result
    return three, prob_above(outlook.total, 2.5)


def walk_forward(
    train: Sequence[Match], test: Sequence[Match], model: Fitter | None = None, *,
    first_weekday: int = 0,
) -> Iterator[Prediction]:
    """Predict every ``test`` match from a model fitted on all matches before its week."""
    fitter = model or model_fitter(DEFAULT_MODEL)
    unique = {m.event_id: m for m in (*train, *test)}
    history: list[MarketResult] = sorted((market_result(m) for m in unique.values()),
                                         key=lambda r: r.date)
    days = [r.date for r in history]
    for start, week in match_weeks(test, first_weekday):
        past = history[:bisect.bisect_left(days, start)]
        if not past:
            raise ValueError(f"nothing to fit on before the week of {start}: give training matches")
        fitted = fitter(past, start)
        for m in week:
            params = fitted.params(m.home.id, m.away.id)
            three, over = predict(params)
            yield Prediction(match=m, week=start, trained_on=len(past), params=params,
                             home_draw_away=three, over_25=over)
