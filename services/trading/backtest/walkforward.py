"""The backtest's model: the shared walk-forward (the pricing evaluation's own path).

The backtest engine (:mod:`.engine`) takes any iterable of :class:`Prediction` (a match
and the model's 1X2 and over/under 2.5 probabilities, computed without knowing its
result). They come from :func:`shared.pricing.walkforward.walk_forward`, the path
``python -m services.pricing evaluate`` scores against Pinnacle's closing odds: fitted on
everything before each match week, never on the week's own results or prices, with the
named model of :mod:`shared.pricing.football_models` (``market`` by default).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from shared.footballdata.model import Match
from shared.pricing.football_models import DEFAULT_MODEL, model_fitter
from shared.pricing.walkforward import walk_forward as shared_walk_forward

TOTAL = "totals|total=2.5"


@dataclass(frozen=True, slots=True)
class Prediction:
    """A match and the model's probabilities of its markets, made before it was played."""

    match: Match
    probabilities: dict[str, dict[str, float]]  # market key -> outcome id -> probability
    model: str  # what made them (for the report)


def walk_forward(train: Sequence[Match], test: Sequence[Match], *,
                 model: str = DEFAULT_MODEL) -> Iterator[Prediction]:
    """Predictions of every ``test`` match, each from a fit on the matches before its week."""
    for p in shared_walk_forward(train, test, model_fitter(model)):
        home, draw, away = p.home_draw_away
        yield Prediction(
            p.match,
            {"1x2": {"home": home, "draw": draw, "away": away},
             TOTAL: {"over": p.over_25, "under": p.under_25}},
            f"{model} walk-forward (weekly refit, {p.trained_on} past matches)",
        )
