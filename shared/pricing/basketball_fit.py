"""Basketball offence and defence ratings fitted on regulation points, shrunk to the mean.

``points_home = intercept + home_advantage + attack_home - defence_away`` and
``points_away = intercept + attack_away - defence_home`` over four quarters, plus noise,
by weighted ridge least squares (:func:`shared.pricing.ratings.fit_normal_ratings`);
the spread of the margin comes from the residuals. Overtime is the model's own business
(:mod:`shared.pricing.basketball`): a game that went to overtime counts as the tie it
was after 48 minutes. The expected points become points per possession at the league's
pace (:meth:`~shared.pricing.basketball.BasketballParams.from_points`).

The prior is an NBA-like league (115.5 and 113.0 points at home and away, a margin
spread of 13 points, ratings spread 3 points): the fit starts there and a side with
few games stays near it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from shared.pricing.basketball import BasketballParams
from shared.pricing.ratings import ScoredMatch, TeamRatings, fit_normal_ratings

PRIOR_POINTS = (115.5, 113.0)
PRIOR_SCORE_SD = 11.0
PRIOR_MARGIN_SD = 13.0
PRIOR_SD = 3.0
LEAGUE_SD = 6.0


@dataclass(frozen=True)
class FittedBasketball(TeamRatings):
    """Ratings in points over 48 minutes, 0 = an average side; the margin's spread."""

    kind: ClassVar[str] = "normal_ratings"

    margin_sd: float
    prior_sd: float
    n_matches: int
    log_likelihood: float

    def points(self, home: str, away: str) -> tuple[float, float]:
        """Expected regulation points of ``home`` and ``away`` (an unknown side is average)."""
        return (
            self.intercept + self.home_advantage + self.attack.get(home, 0.0)
            - self.defence.get(away, 0.0),
            self.intercept + self.attack.get(away, 0.0) - self.defence.get(home, 0.0),
        )

    def params(self, home: str, away: str) -> BasketballParams:
        """Points per possession of both offences at the league's pace."""
        points_home, points_away = self.points(home, away)
        return BasketballParams.from_points(points_home, points_away, sd_margin=self.margin_sd)


def basketball_prior() -> FittedBasketball:
    """The league's averages, every side average: what prices before any fit."""
    home, away = PRIOR_POINTS
    return FittedBasketball(away, home - away, {}, {}, PRIOR_MARGIN_SD, PRIOR_SD, 0, 0.0)


def fit_basketball(
    results: Sequence[ScoredMatch], *, prior_sd: float = PRIOR_SD,
    weights: Sequence[float] | None = None,
) -> FittedBasketball:
    """Fit on regulation points (``home_score``/``away_score`` = points of the four quarters)."""
    prior = basketball_prior()
    ratings = fit_normal_ratings(
        results, intercept=prior.intercept, home_advantage=prior.home_advantage,
        prior_sd=prior_sd, league_sd=LEAGUE_SD, score_sd=PRIOR_SCORE_SD,
        margin_sd=PRIOR_MARGIN_SD, weights=weights,
    )
    return FittedBasketball(ratings.intercept, ratings.home_advantage, ratings.attack,
                            ratings.defence, ratings.margin_sd, prior_sd, len(results),
                            ratings.log_likelihood)
