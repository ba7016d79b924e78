"""Scoring probabilistic forecasts: log-loss, Brier score, calibration.

Pure functions of predicted probabilities and what happened. A forecast is a sequence
of probabilities over a market's outcomes (home, draw, away; over, under) and the
outcome is the index of the one that happened.

- Log-loss: the mean of ``-ln p(outcome)`` (natural log; a probability of 0 counts as
  1e-15, so one impossible outcome costs 34.5 instead of infinity).
- Brier: the mean over forecasts of ``Σ_k (p_k - [k happened])²`` over every outcome
  (the multi-class form: 0 is perfect, 2 the worst; for two outcomes it is twice the
  binary ``(p - y)²``).
- Calibration: forecasts of one outcome binned by probability; in each bin the mean
  forecast against the observed frequency, with the binomial standard error at the mean
  forecast, ``√(p̄ (1 - p̄) / n)``. Calibrated: in every bin with at least ``min_count``
  forecasts the observed frequency is within ``tolerance`` standard errors (2: the
  issue's bar).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

FLOOR = 1e-15
EDGES = tuple(i / 10 for i in range(11))
"""Default calibration bins: tenths of probability."""


@dataclass(frozen=True)
class Score:
    """Log-loss and Brier score of ``n`` forecasts."""

    n: int
    log_loss: float
    brier: float


def _check(forecasts: Sequence[Sequence[float]], outcomes: Sequence[int]) -> None:
    if len(forecasts) != len(outcomes):
        raise ValueError(f"{len(forecasts)} forecasts but {len(outcomes)} outcomes")
    if not forecasts:
        raise ValueError("nothing to score")


def log_loss(forecasts: Sequence[Sequence[float]], outcomes: Sequence[int]) -> float:
    """Mean ``-ln p(outcome)``."""
    _check(forecasts, outcomes)
    return -sum(math.log(max(p[k], FLOOR)) for p, k in zip(forecasts, outcomes, strict=True)) / len(outcomes)


def brier(forecasts: Sequence[Sequence[float]], outcomes: Sequence[int]) -> float:
    """Mean ``Σ_k (p_k - [k happened])²``."""
    _check(forecasts, outcomes)
    total = sum(sum((q - (j == k)) ** 2 for j, q in enumerate(p))
                for p, k in zip(forecasts, outcomes, strict=True))
    return total / len(outcomes)


def score(forecasts: Sequence[Sequence[float]], outcomes: Sequence[int]) -> Score:
    """Both scores at once."""
    return Score(len(outcomes), log_loss(forecasts, outcomes), brier(forecasts, outcomes))


@dataclass(frozen=True)
class CalibrationBin:
    """Forecasts with a probability in ``[lo, hi)`` (the last bin includes 1)."""

    lo: float
    hi: float
    n: int
    predicted: float  # mean forecast probability
    observed: float  # share that happened
    standard_error: float  # binomial, at the mean forecast

    @property
    def z(self) -> float:
        """(observed - predicted) in standard errors (0 for an empty or certain bin)."""
        if self.n == 0 or self.standard_error == 0:
            return 0.0
        return (self.observed - self.predicted) / self.standard_error

    def within(self, tolerance: float = 2.0) -> bool:
        """Observed within ``tolerance`` standard errors of the forecast."""
        return abs(self.z) <= tolerance


def calibration(probabilities: Sequence[float], happened: Sequence[bool],
                edges: Sequence[float] = EDGES) -> list[CalibrationBin]:
    """Forecasts of one event binned by probability (every bin, empty ones with n = 0)."""
    if len(probabilities) != len(happened):
        raise ValueError(f"{len(probabilities)} probabilities but {len(happened)} outcomes")
    bins = []
    last = len(edges) - 2
    for i, (lo, hi) in enumerate(pairwise(edges)):
        members = [(p, h) for p, h in zip(probabilities, happened, strict=True)
                   if lo <= p < hi or (i == last and p == hi)]
        n = len(members)
        predicted = sum(p for p, _ in members) / n if n else (lo + hi) / 2
        observed = sum(1 for _, h in members if h) / n if n else 0.0
        se = math.sqrt(predicted * (1 - predicted) / n) if n else 0.0
        bins.append(CalibrationBin(lo, hi, n, predicted, observed, se))
    return bins


def one_vs_rest(forecasts: Sequence[Sequence[float]], outcomes: Sequence[int],
                which: Sequence[int] | None = None) -> tuple[list[float], list[bool]]:
    """Every outcome's probability as a forecast of its own event, pooled (``which``: some outcomes only)."""
    _check(forecasts, outcomes)
    probabilities: list[float] = []
    happened: list[bool] = []
    for p, k in zip(forecasts, outcomes, strict=True):
        for j in which if which is not None else range(len(p)):
            probabilities.append(p[j])
            happened.append(j == k)
    return probabilities, happened


def is_calibrated(bins: Sequence[CalibrationBin], min_count: int = 50, tolerance: float = 2.0) -> bool:
    """Every bin with at least ``min_count`` forecasts within ``tolerance`` standard errors."""
    return all(b.within(tolerance) for b in bins if b.n >= min_count)
