"""Tennis players' point-win probabilities fitted on set scores, shrunk to the tour's mean.

A player's chance of winning a point on serve is ``serve[best_of] + (rating_self -
rating_opponent) / 2`` (and the opponent's the mirror): ``serve`` is the tour's average
serve-point probability (best-of-five matches, the men's slams, are a little more
serve-dominated), ``rating`` one number per player, 0 = average. Serve and return skill
cannot be told apart from games alone (a side that holds more and breaks more both
show as games won), so one rating carries both.

What the scores say:

- **the ratings**: in a set, each player serves about half the games, so the share of
  games home wins is ``q = (hold(p_home) + 1 - hold(p_away)) / 2``, ``hold`` being the
  exact chance of holding serve from the point-win probability (deuce included). The
  ratings maximise ``Σ games_home·log q + games_away·log(1 - q)`` over the matches,
  with a Gaussian prior on each rating (``prior_sd``): a player with few matches stays
  near 0 — the tour's average — and one never seen is average;
- **the serve level**: the more serve dominates, the longer sets run (9.7 games a set
  at 0.5, 10.1 at 0.62, 12.3 at 0.8: the exact set chain of
  :mod:`shared.pricing.tennis_chain`); the level whose expected set length is the
  observed mean is pooled with ``prior_sets`` sets of the prior's level.

The prior is the tour's: 0.62 on serve in best-of-three, 0.645 in best-of-five, ratings
spread 0.04.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from shared.pricing.tennis import TennisParams
from shared.pricing.tennis_chain import set_dist

PRIOR_SERVE = {3: 0.62, 5: 0.645}
PRIOR_SD = 0.04
PRIOR_SETS = 20.0
P_MIN, P_MAX = 0.30, 0.95
Vector = NDArray[np.float64]


@dataclass(frozen=True)
class TennisMatch:
    """One played match: date, players, the games of each set, and its format."""

    date: date
    home: str
    away: str
    sets: tuple[tuple[int, int], ...]
    best_of: int = 3


@dataclass(frozen=True)
class FittedTennis:
    """The tour's serve-point probability per format and each player's rating."""

    kind: ClassVar[str] = "serve_ratings"

    serve: dict[int, float]
    rating: dict[str, float]
    prior_sd: float
    n_matches: int
    log_likelihood: float

    @property
    def teams(self) -> int:
        """How many players have a rating."""
        return len(self.rating)

    def params(self, home: str, away: str, *, best_of: int = 3) -> TennisParams:
        """Serve-point probabilities of ``home`` and ``away`` (an unknown player is average)."""
        base = self.serve.get(best_of, PRIOR_SERVE.get(best_of, PRIOR_SERVE[3]))
        edge = (self.rating.get(home, 0.0) - self.rating.get(away, 0.0)) / 2
        return TennisParams(_clamp(base + edge), _clamp(base - edge), best_of)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (the formats as string keys)."""
        return {"serve": {str(k): v for k, v in self.serve.items()}, "rating": self.rating,
                "prior_sd": self.prior_sd, "n_matches": self.n_matches,
                "log_likelihood": self.log_likelihood}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedTennis:
        """The inverse of :meth:`to_dict`."""
        return cls(serve={int(k): float(v) for k, v in data["serve"].items()},
                   rating=dict(data["rating"]), prior_sd=data["prior_sd"],
                   n_matches=data["n_matches"], log_likelihood=data["log_likelihood"])


def tennis_prior() -> FittedTennis:
    """The tour's averages, every player average: what prices before any fit."""
    return FittedTennis(dict(PRIOR_SERVE), {}, PRIOR_SD, 0, 0.0)


def _clamp(p: float) -> float:
    return min(max(p, P_MIN), P_MAX)


def hold(p: Vector) -> Vector:
    """P(the server holds) for serve-point probabilities ``p`` (deuce included), vectorised."""
    q = 1 - p
    return p**4 * (1 + 4 * q + 10 * q * q) + 20 * p**3 * q**3 * p * p / (p * p + q * q)


def _hold_slope(p: Vector) -> Vector:
    step = 1e-6
    return (hold(p + step) - hold(p - step)) / (2 * step)


@lru_cache(maxsize=256)
def expected_set_games(p: float) -> float:
    """Mean games of a set between two players who both win ``p`` of their serve points."""
    return sum((home + away) * w for (home, away), w in set_dist(p, p).items())


def finished(games: tuple[int, int]) -> bool:
    """Whether a set score is a finished set (6-4, 7-5, 7-6...)."""
    high, low = max(games), min(games)
    return (high == 6 and high - low >= 2) or (high == 7 and low in (5, 6))


def serve_level(mean_games: float) -> float:
    """The symmetric serve-point probability whose sets last ``mean_games`` on average."""
    from scipy.optimize import brentq

    lo, hi = 0.5, 0.85
    if mean_games <= expected_set_games(lo):
        return lo
    if mean_games >= expected_set_games(hi):
        return hi
    return float(brentq(lambda p: expected_set_games(p) - mean_games, lo, hi, xtol=1e-6))


def _serve_levels(matches: Sequence[TennisMatch], w: Vector, prior_sets: float) -> dict[int, float]:
    levels = dict(PRIOR_SERVE)
    for best_of in sorted({m.best_of for m in matches} | set(PRIOR_SERVE)):
        games = weight = 0.0
        for m, mw in zip(matches, w, strict=True):
            if m.best_of == best_of:
                done = [s for s in m.sets if finished(s)]
                games += mw * sum(a + b for a, b in done)
                weight += mw * len(done)
        prior = PRIOR_SERVE.get(best_of, PRIOR_SERVE[3])
        if weight > 0:
            observed = serve_level(games / weight)
            levels[best_of] = float((weight * observed + prior_sets * prior) / (weight + prior_sets))
    return levels


def fit_tennis(
    matches: Sequence[TennisMatch], *, prior_sd: float = PRIOR_SD, prior_sets: float = PRIOR_SETS,
    weights: Sequence[float] | None = None,
) -> FittedTennis:
    """Fit the serve levels and the players' ratings on set scores (see the module's text)."""
    from scipy.optimize import minimize

    if not matches:
        return tennis_prior()
    w = np.ones(len(matches)) if weights is None else np.asarray(weights, dtype=np.float64)
    serve = _serve_levels(matches, w, prior_sets)
    players = sorted({m.home for m in matches} | {m.away for m in matches})
    index = {p: i for i, p in enumerate(players)}
    home = np.array([index[m.home] for m in matches], dtype=np.int64)
    away = np.array([index[m.away] for m in matches], dtype=np.int64)
    won = np.array([sum(s[0] for s in m.sets) for m in matches], dtype=np.float64) * w
    lost = np.array([sum(s[1] for s in m.sets) for m in matches], dtype=np.float64) * w
    base = np.array([serve.get(m.best_of, PRIOR_SERVE[3]) for m in matches])
    n, ridge = len(players), 1 / prior_sd**2

    def loss(theta: Vector) -> tuple[float, Vector]:
        edge = (theta[home] - theta[away]) / 2
        p_home = np.clip(base + edge, P_MIN, P_MAX)
        p_away = np.clip(base - edge, P_MIN, P_MAX)
        q = np.clip((hold(p_home) + 1 - hold(p_away)) / 2, 1e-9, 1 - 1e-9)
        nll = -float(won @ np.log(q) + lost @ np.log(1 - q)) + 0.5 * ridge * float(theta @ theta)
        slope = (won / q - lost / (1 - q)) * (_hold_slope(p_home) + _hold_slope(p_away)) / 4
        grad = -np.bincount(home, slope, n) + np.bincount(away, slope, n) + ridge * theta
        return nll, grad

    result = minimize(loss, np.zeros(n), jac=True, method="L-BFGS-B")
    theta = np.asarray(result.x, dtype=np.float64)
    return FittedTennis(serve, {p: float(t) for p, t in zip(players, theta, strict=True)},
                        prior_sd, len(matches), -float(loss(theta)[0]))
