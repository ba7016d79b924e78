"""Ice hockey team ratings fitted on regulation results: Poisson goals, shrunk to the mean.

``λ_home = exp(intercept + home_advantage + attack_home - defence_away)`` regulation
goals and ``λ_away = exp(intercept + attack_away - defence_home)``, fitted by penalised
maximum likelihood (:func:`shared.pricing.ratings.fit_poisson_ratings`) on the goals of
the three periods: overtime and the shoot-out are the model's own business
(:mod:`shared.pricing.ice_hockey`), so a game decided after regulation counts as the
tie it was at 60 minutes.

The prior is a league of NHL-like scoring (3.10 and 2.85 regulation goals a game at
home and away; ratings spread 0.15 on the log scale): the fit starts there and a side
with few games stays near it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from shared.pricing.ice_hockey import HockeyParams
from shared.pricing.ratings import ScoredMatch, TeamRatings, fit_poisson_ratings

PRIOR_GOALS = (3.10, 2.85)
PRIOR_SD = 0.15


@dataclass(frozen=True)
class FittedHockey(TeamRatings):
    """Regulation goal ratings on a log scale, 0 = an average side."""

    kind: ClassVar[str] = "poisson_ratings"

    prior_sd: float
    n_matches: int
    log_likelihood: float

    def params(self, home: str, away: str, *, knockout: bool = False) -> HockeyParams:
        """Expected regulation goals of ``home`` against ``away`` (an unknown side is average)."""
        lam_home = math.exp(self.intercept + self.home_advantage + self.attack.get(home, 0.0)
                            - self.defence.get(away, 0.0))
        lam_away = math.exp(self.intercept + self.attack.get(away, 0.0)
                            - self.defence.get(home, 0.0))
        return HockeyParams(lam_home, lam_away, knockout=knockout)


def hockey_prior() -> FittedHockey:
    """The league's averages, every side average: what prices before any fit."""
    home, away = PRIOR_GOALS
    return FittedHockey(math.log(away), math.log(home / away), {}, {}, PRIOR_SD, 0, 0.0)


def fit_hockey(
    results: Sequence[ScoredMatch], *, prior_sd: float = PRIOR_SD,
    weights: Sequence[float] | None = None,
) -> FittedHockey:
    """Fit on regulation scores (``home_score``/``away_score`` = goals of the three periods)."""
    prior = hockey_prior()
    ratings = fit_poisson_ratings(
        results, intercept=prior.intercept, home_advantage=prior.home_advantage,
        prior_sd=prior_sd, weights=weights,
    )
    return FittedHockey(ratings.intercept, ratings.home_advantage, ratings.attack,
                        ratings.defence, prior_sd, len(results), ratings.log_likelihood)
