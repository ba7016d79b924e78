"""Team ratings fitted on results, shrunk to the league's mean: Poisson (goals) and normal (points).

Both fits rate each side twice, on a log scale for goals and in points for points:
``attack`` (scores more than average when above 0) and ``defence`` (concedes less when
above 0). For one match::

    poisson:  λ_home = exp(intercept + home_advantage + attack_home - defence_away)
              λ_away = exp(intercept + attack_away - defence_home)
    normal:   points_home = intercept + home_advantage + attack_home - defence_away + ε
              points_away = intercept + attack_away - defence_home + ε

The ratings have a Gaussian prior centred on 0 (``prior_sd``): a side with few matches
keeps a rating near 0, i.e. the league's average, and one never seen is exactly
average, so no side gets an extreme price from a handful of results. The league's
own level (``intercept``, ``home_advantage``) has a prior too, centred on given
averages (``league_sd``): with a few dozen matches the data outweighs it, with none
the fit is the prior. Each match may carry a weight (time decay).

Pure numpy/scipy, no I/O; the fits of :mod:`shared.pricing.hockey_fit` and
:mod:`shared.pricing.basketball_fit` are built on these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class ScoredMatch:
    """One played match: its date, sides and score (goals, or points in basketball)."""

    date: date
    home: str
    away: str
    home_score: int
    away_score: int


@dataclass(frozen=True)
class TeamRatings:
    """What a fitted rating model of a sport stores: the league's level and each side's
    ratings (0 = an average side; a side without a rating is average)."""

    intercept: float
    home_advantage: float
    attack: dict[str, float]
    defence: dict[str, float]

    @property
    def teams(self) -> int:
        """How many sides have a rating."""
        return len(self.attack)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class Ratings:
    """A fitted rating model as plain numbers (0 = an average side)."""

    intercept: float
    home_advantage: float
    attack: dict[str, float]
    defence: dict[str, float]
    log_likelihood: float
    residual_sd: float  # normal fits: the spread of a side's points about its mean (0 for Poisson)
    margin_sd: float  # normal fits: the spread of the margin about its mean (0 for Poisson)


@dataclass(frozen=True)
class _Design:
    """The matches as index arrays: home and away side numbers, scores and weights."""

    teams: list[str]
    home: NDArray[np.int64]
    away: NDArray[np.int64]
    y_home: Vector
    y_away: Vector
    weight: Vector


def _design(matches: Sequence[ScoredMatch], weights: Sequence[float] | None) -> _Design:
    teams = sorted({m.home for m in matches} | {m.away for m in matches})
    index = {t: i for i, t in enumerate(teams)}
    w = np.ones(len(matches)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != len(matches):
        raise ValueError("one weight per match")
    return _Design(
        teams=teams,
        home=np.array([index[m.home] for m in matches], dtype=np.int64),
        away=np.array([index[m.away] for m in matches], dtype=np.int64),
        y_home=np.array([m.home_score for m in matches], dtype=np.float64),
        y_away=np.array([m.away_score for m in matches], dtype=np.float64),
        weight=w,
    )


def _ratings(d: _Design, theta: Vector, loglik: float, residual_sd: float = 0.0,
             margin_sd: float = 0.0) -> Ratings:
    n = len(d.teams)
    attack, defence = theta[2:2 + n], theta[2 + n:]
    return Ratings(
        intercept=float(theta[0]), home_advantage=float(theta[1]),
        attack={t: float(a) for t, a in zip(d.teams, attack, strict=True)},
        defence={t: float(x) for t, x in zip(d.teams, defence, strict=True)},
        log_likelihood=loglik, residual_sd=residual_sd, margin_sd=margin_sd,
    )


def fit_poisson_ratings(
    matches: Sequence[ScoredMatch], *, intercept: float, home_advantage: float,
    prior_sd: float, league_sd: float = 0.1, weights: Sequence[float] | None = None,
) -> Ratings:
    """Poisson goals with attack and defence ratings, by penalised maximum likelihood.

    ``intercept`` and ``home_advantage`` (log scale) are the league prior's, held with
    spread ``league_sd``; the ratings' prior has spread ``prior_sd``. With no matches
    the answer is the prior itself.
    """
    from scipy.optimize import minimize

    if not matches:
        return Ratings(intercept, home_advantage, {}, {}, 0.0, 0.0, 0.0)
    d = _design(matches, weights)
    n = len(d.teams)
    ridge, league = 1 / prior_sd**2, 1 / league_sd**2
    mean = np.array([intercept, home_advantage])

    def loss(theta: Vector) -> tuple[float, Vector]:
        mu, hfa = theta[0], theta[1]
        attack, defence = theta[2:2 + n], theta[2 + n:]
        eta_h = mu + hfa + attack[d.home] - defence[d.away]
        eta_a = mu + attack[d.away] - defence[d.home]
        lam_h, lam_a = np.exp(eta_h), np.exp(eta_a)
        nll = float(d.weight @ (lam_h - d.y_home * eta_h + lam_a - d.y_away * eta_a))
        r_h, r_a = d.weight * (lam_h - d.y_home), d.weight * (lam_a - d.y_away)
        grad = np.empty_like(theta)
        grad[0] = r_h.sum() + r_a.sum()
        grad[1] = r_h.sum()
        grad[2:2 + n] = np.bincount(d.home, r_h, n) + np.bincount(d.away, r_a, n)
        grad[2 + n:] = -np.bincount(d.away, r_h, n) - np.bincount(d.home, r_a, n)
        off = theta[:2] - mean
        nll += 0.5 * (ridge * float(theta[2:] @ theta[2:]) + league * float(off @ off))
        grad[2:] += ridge * theta[2:]
        grad[:2] += league * off
        return nll, grad

    start = np.concatenate([mean, np.zeros(2 * n)])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    theta = np.asarray(result.x, dtype=np.float64)
    return _ratings(d, theta, -float(loss(theta)[0]))


def fit_normal_ratings(
    matches: Sequence[ScoredMatch], *, intercept: float, home_advantage: float,
    prior_sd: float, league_sd: float, score_sd: float, margin_sd: float,
    prior_matches: float = 20.0, weights: Sequence[float] | None = None,
) -> Ratings:
    """Points with attack and defence ratings in points: weighted ridge least squares.

    ``intercept`` and ``home_advantage`` are the league prior's points (spread
    ``league_sd``), ``prior_sd`` the ratings' spread, ``score_sd`` and ``margin_sd`` the
    prior's spread of one side's points and of the margin about their means; the
    fitted spreads are the residuals' pooled with ``prior_matches`` matches of the
    prior's. With no matches the answer is the prior itself.
    """
    if not matches:
        return Ratings(intercept, home_advantage, {}, {}, 0.0, score_sd, margin_sd)
    d = _design(matches, weights)
    n, m = len(d.teams), len(matches)
    rows = np.arange(m)
    # One row per side's score: [intercept, home, attack (n), defence (n)].
    x = np.zeros((2 * m, 2 + 2 * n))
    x[:, 0] = 1.0
    x[:m, 1] = 1.0
    x[rows, 2 + d.home] = 1.0
    x[rows, 2 + n + d.away] = -1.0
    x[m + rows, 2 + d.away] = 1.0
    x[m + rows, 2 + n + d.home] = -1.0
    y = np.concatenate([d.y_home, d.y_away])
    w = np.concatenate([d.weight, d.weight])
    prior_mean = np.zeros(2 + 2 * n)
    prior_mean[:2] = intercept, home_advantage
    precision = np.full(2 + 2 * n, 1 / prior_sd**2)
    precision[:2] = 1 / league_sd**2
    sd = score_sd
    for _ in range(2):  # the noise's spread, estimated once from the first fit's residuals
        a = (x.T * (w / sd**2)) @ x + np.diag(precision)
        b = (x.T * (w / sd**2)) @ y + precision * prior_mean
        theta = np.linalg.solve(a, b)
        resid = y - x @ theta
        sd = _pooled(float(w @ resid**2), float(w.sum()), score_sd, 2 * prior_matches)
    margin_resid = resid[:m] - resid[m:]
    margin = _pooled(float(d.weight @ margin_resid**2), float(d.weight.sum()), margin_sd,
                     prior_matches)
    loglik = -0.5 * float(w @ (resid / sd) ** 2) - float(w.sum()) * np.log(sd * np.sqrt(2 * np.pi))
    return _ratings(d, theta, float(loglik), residual_sd=sd, margin_sd=margin)


def _pooled(sum_squares: float, weight: float, prior: float, prior_weight: float) -> float:
    """A spread from weighted squared residuals, pooled with ``prior_weight`` of the prior's."""
    return float(np.sqrt((sum_squares + prior_weight * prior**2) / (weight + prior_weight)))
