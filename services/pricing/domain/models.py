"""The model each sport prices with: fitted parameters, or the league's averages (the prior).

A :class:`PricingModel` wraps one sport's fitted parameters (``shared.pricing``'s
``Fitted*`` classes) with the version id every ModelPrices carries:
``<sport>:<kind>:<id>`` for a stored fit (``football:dixon_coles:12``), ``<sport>:prior``
before any. It turns an event's fixture into the sport's pricing parameters; a side the
model has no rating for is an average side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.enums import Sport
from shared.live import FixtureState
from shared.pricing.basketball_fit import FittedBasketball, basketball_prior
from shared.pricing.event import SportParams
from shared.pricing.football_fit import FittedFootball
from shared.pricing.hockey_fit import FittedHockey, hockey_prior
from shared.pricing.tennis_fit import FittedTennis, tennis_prior

FittedModel = FittedFootball | FittedHockey | FittedBasketball | FittedTennis

# Premier League goals a match (stoppage included) at home and away, 2019/20-2022/23 in
# the shared football-data files, and their Dixon-Coles rho (docs/pricing.md).
FOOTBALL_PRIOR = (1.50, 1.27, -0.02)
# Competition names that say a hockey game plays on until a goal (20-minute overtimes).
_KNOCKOUT_WORDS = ("play-off", "playoff", "play off", "knockout", "knock-out")


def football_prior() -> FittedFootball:
    """Every side an average Premier League side."""
    home, away, rho = FOOTBALL_PRIOR
    return FittedFootball(
        kind="dixon_coles", attack={}, defence={}, intercept=math.log(away),
        home_advantage=math.log(home / away), rho=rho, xi=0.0, prior_sd=None,
        as_of=date(2023, 5, 28), n_matches=0, log_likelihood=0.0,
    )


def decode_fitted(sport: Sport, kind: str, params: dict[str, Any]) -> FittedModel:
    """Stored parameters (``to_dict``) back into the sport's fitted model."""
    if sport is Sport.FOOTBALL and kind in ("dixon_coles", "poisson"):
        return FittedFootball.from_dict(params)
    if sport is Sport.ICE_HOCKEY and kind == FittedHockey.kind:
        return FittedHockey.from_dict(params)
    if sport is Sport.BASKETBALL and kind == FittedBasketball.kind:
        return FittedBasketball.from_dict(params)
    if sport is Sport.TENNIS and kind == FittedTennis.kind:
        return FittedTennis.from_dict(params)
    raise ValueError(f"no {sport.value} model of kind {kind!r}")


def kind_of(fitted: FittedModel) -> str:
    """The kind a fitted model is stored under."""
    return fitted.kind


def plays_to_a_finish(fixture: FixtureState) -> bool:
    """Whether an ice hockey game plays 20-minute overtimes until a goal (play-offs).

    The feed does not say it; the competition's name does (the generator's "Simulated
    Hockey Play-offs", a real feed's "... Play-off ...").
    """
    name = (fixture.competition.name if fixture.competition else "").lower()
    return any(word in name for word in _KNOCKOUT_WORDS)


@dataclass(frozen=True)
class PricingModel:
    """One sport's model in use and the version id that names it."""

    sport: Sport
    fitted: FittedModel
    model_id: int | None = None  # the stored row; None for the prior
    training_size: int = 0

    @property
    def kind(self) -> str:
        """The fitted model's kind (``dixon_coles``, ``poisson_ratings``...)."""
        return kind_of(self.fitted)

    @property
    def version(self) -> str:
        """``<sport>:<kind>:<id>``, or ``<sport>:prior`` for the league's averages."""
        if self.model_id is None:
            return f"{self.sport.value}:prior"
        return f"{self.sport.value}:{self.kind}:{self.model_id}"

    def sides_rated(self, fixture: FixtureState) -> int:
        """How many of the fixture's sides the model has a rating for (0 to 2)."""
        fitted = self.fitted
        rated = fitted.rating if isinstance(fitted, FittedTennis) else fitted.attack
        return sum(1 for side in (fixture.home, fixture.away) if side is not None and side.id in rated)

    def params(self, fixture: FixtureState) -> SportParams | None:
        """The event's pricing parameters; None while the fixture lacks a side."""
        if fixture.home is None or fixture.away is None:
            return None
        return self.params_of(fixture.home.id, fixture.away.id, best_of=fixture.best_of,
                              knockout=plays_to_a_finish(fixture))

    def params_of(self, home: str, away: str, *, best_of: int | None = None,
                  knockout: bool = False) -> SportParams:
        """The pricing parameters of ``home`` against ``away`` (competitor ids)."""
        fitted = self.fitted
        if isinstance(fitted, FittedFootball):
            return fitted.params(home, away)
        if isinstance(fitted, FittedHockey):
            return fitted.params(home, away, knockout=knockout)
        if isinstance(fitted, FittedBasketball):
            return fitted.params(home, away)
        return fitted.params(home, away, best_of=best_of or 3)


def prior(sport: Sport) -> PricingModel:
    """The league's averages of ``sport``: every side average."""
    fitted: FittedModel
    if sport is Sport.FOOTBALL:
        fitted = football_prior()
    elif sport is Sport.ICE_HOCKEY:
        fitted = hockey_prior()
    elif sport is Sport.BASKETBALL:
        fitted = basketball_prior()
    else:
        fitted = tennis_prior()
    return PricingModel(sport, fitted)
