"""Named football models, each a fitter: past matches and a day in, a fitted model out.

The names the evaluation's ``--model`` takes and the walk-forward runs
(:mod:`shared.pricing.walkforward`); every fitter returns a
:class:`~shared.pricing.football_fit.FittedFootball` whose ``.params(home, away)`` the
pricing library prices from. What each scores is in ``docs/pricing.md`` ("Evaluation").

- ``market`` (the default, the winning model): ratings learned from past matches'
  de-margined closing prices, :func:`~shared.pricing.market_fit.fit_market_football`
  (a history without any prices falls back on ``dixon-coles``).
- ``dixon-coles``: the library's goal model on results, with its ratings' prior
  (:func:`~shared.pricing.football_fit.fit_football`), on the three years before the day.
- ``dixon-coles-ml``: the same by maximum likelihood alone: penaltyblog's Dixon-Coles
  out of the box, the issue's baseline.
- ``poisson``: independent Poisson goals with the prior.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Protocol

from shared.pricing.football import FootballParams
from shared.pricing.football_fit import (
    DEFAULT_PRIOR_SD,
    DEFAULT_XI,
    FittedFootball,
    GoalModelKind,
    MatchResult,
    fit_football,
)
from shared.pricing.market_fit import MarketResult, fit_market_football


class FootballModel(Protocol):
    """A fitted model: the football parameters of any pairing (an unknown side is average)."""

    def params(self, home: str, away: str) -> FootballParams:
        """Expected goals and ``rho`` of ``home`` against ``away``."""
        ...


Fitter = Callable[[Sequence[MatchResult], date], FootballModel]
"""Fit a model for ``day`` on matches all played before it (a walk-forward step)."""

GOALS_WINDOW = timedelta(days=3 * 365 + 30)  # three seasons, as the baseline fitted
Setting = float | bool | None


def _goals(history: Sequence[MatchResult], day: date, *, kind: GoalModelKind = "dixon_coles",
           xi: float = DEFAULT_XI, prior_sd: float | None = DEFAULT_PRIOR_SD) -> FittedFootball:
    recent = [m for m in history if m.date >= day - GOALS_WINDOW]
    return fit_football(recent, kind=kind, as_of=day, xi=xi, prior_sd=prior_sd)


def _market(history: Sequence[MatchResult], day: date, **settings: Setting) -> FittedFootball:
    if not any(isinstance(m, MarketResult) and m.home_draw_away for m in history):
        return _goals(history, day)
    return fit_market_football(history, as_of=day, **settings)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Model:
    fit: Callable[..., FittedFootball]
    fixed: dict[str, Setting | str]
    settings: tuple[str, ...]  # what --param may change


_GOAL_SETTINGS = ("xi", "prior_sd")
MODELS: dict[str, _Model] = {
    "market": _Model(_market, {}, ("xi", "results_weight", "prior_sd", "rho", "use_over_under")),
    "dixon-coles": _Model(_goals, {"kind": "dixon_coles"}, _GOAL_SETTINGS),
    "dixon-coles-ml": _Model(_goals, {"kind": "dixon_coles", "prior_sd": None}, ("xi",)),
    "poisson": _Model(_goals, {"kind": "poisson"}, _GOAL_SETTINGS),
}
DEFAULT_MODEL = "market"


def model_fitter(name: str, settings: Mapping[str, Setting] | None = None) -> Fitter:
    """The fitter of a model's name, with some of its settings changed (ValueErrors list the names).

    ``settings`` are keyword arguments of the model's fit function
    (:func:`~shared.pricing.market_fit.fit_market_football`, or
    :func:`~shared.pricing.football_fit.fit_football` for the goal models): the variants
    of ``docs/pricing.md`` are ``model_fitter("market", {"xi": 0.005})`` and the like.
    """
    model = MODELS.get(name)
    if model is None:
        raise ValueError(f"unknown model {name!r}: one of {', '.join(MODELS)}")
    unknown = sorted(set(settings or {}) - set(model.settings))
    if unknown:
        raise ValueError(f"model {name!r} has no setting {', '.join(unknown)}: it has "
                         f"{', '.join(model.settings)}")
    return partial(model.fit, **model.fixed, **(settings or {}))
