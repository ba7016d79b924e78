"""THE model of the backtest: walk-forward Dixon-Coles probabilities, in this one place.

The backtest engine (:mod:`.engine`) takes any iterable of :class:`Prediction` (a match
and the model's 1X2 and over/under 2.5 probabilities, computed without knowing its
result). This module makes them with a small walk-forward of its own over
``shared.pricing.football_fit.fit_football``: before each block of ``refit_days`` days of
the test season the model is refitted on every result known by then (the training
files, then the test matches already played), time-decayed; each match of the block is
priced by that fit. The pricing service's walk-forward evaluation (``shared/pricing``)
can replace :func:`walk_forward` one for one: same arguments in, the same
:class:`Prediction` objects out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.footballdata.model import Match
from shared.pricing.event import event_outlook
from shared.pricing.football_fit import (
    DEFAULT_PRIOR_SD,
    DEFAULT_XI,
    FittedFootball,
    MatchResult,
    fit_football,
)
from shared.pricing.markets import MarketLine

LINES = (MarketLine("1x2"), MarketLine("totals", Decimal("2.5")))


@dataclass(frozen=True, slots=True)
class Prediction:
    """A match and the model's probabilities of its markets, made before it was played."""

    match: Match
    probabilities: dict[str, dict[str, float]]  # market key -> outcome id -> probability
    model: str  # what made them (for the report)


def result_of(match: Match) -> MatchResult:
    """A played match as the fit reads it (sides by their stable club ids)."""
    return MatchResult(match.match_date, match.home.id, match.away.id, match.home_goals,
                       match.away_goals)


def predict(model: FittedFootball, match: Match) -> dict[str, dict[str, float]]:
    """The fitted model's 1X2 and over/under 2.5 probabilities of ``match``."""
    outlook = event_outlook(model.params(match.home.id, match.away.id))
    return {line.key: dict(zip(("home", "draw", "away") if line.kind == "1x2" else ("over", "under"),
                               line.probabilities(outlook), strict=True)) for line in LINES}


def walk_forward(train: Sequence[Match], test: Sequence[Match], *, refit_days: int = 7,
                 xi: float = DEFAULT_XI, prior_sd: float | None = DEFAULT_PRIOR_SD) -> Iterator[Prediction]:
    """Predictions of every ``test`` match, each from a fit on results before its day."""
    if refit_days < 1:
        raise ValueError("refit_days must be at least 1")
    known = sorted((result_of(m) for m in train), key=lambda r: r.date)
    played = sorted(test, key=lambda m: (m.start_time, m.event_id))
    model: FittedFootball | None = None
    fitted_on: date | None = None
    for match in played:
        day = match.match_date
        if model is None or fitted_on is None or day >= fitted_on + timedelta(days=refit_days):
            # Results of the test season count once their day is over: never the same day's.
            history = known + [result_of(m) for m in played if m.match_date < day]
            if not history:
                raise ValueError("nothing to fit on: give training files or a later test match")
            model = fit_football(history, as_of=day, xi=xi, prior_sd=prior_sd)
            fitted_on = day
        yield Prediction(match, predict(model, match),
                         f"dixon-coles walk-forward (refit every {refit_days} d, xi {xi},"
                         f" prior sd {prior_sd}, {model.n_matches} results)")
