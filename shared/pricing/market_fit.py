"""Football ratings learned from the market: past matches' closing prices, and their results.

The evaluation's winning model (``docs/pricing.md``, "Evaluation"). A bookmaker's
closing prices of a past match, margin removed, are the market's expected goals for it
(:func:`~shared.pricing.implied_goals.implied_goals`: 1X2 and over/under 2.5 through
the Dixon-Coles grid). Team ratings are fitted so that the model reproduces those
expected goals, as a Poisson likelihood with the market's expected goals as soft
counts::

    λ_home = exp(intercept + home_advantage + attack[home] - defence[away])
    λ_away = exp(intercept + attack[away] - defence[home])

    loss = Σ w · (λ - λ̂_market · log λ)                  every priced match, both sides
         + Σ w · results_weight · (λ - goals · log λ)    every result
         + Σ (attack² + defence²) / (2 prior_sd²)        the ratings' prior

with ``w = exp(-ξ · days before the latest match)``. The market digests news within days, so its
prices decay fast (ξ = 0.02: half-life 35 days); a result counts for 1 % of a priced
match (results add nothing measurable once prices are there, but they carry a match
without prices). ``rho`` is fixed at -0.1: the markets' 1X2 and over/under prices are
most consistent with each other at -0.05 to -0.1 in every season of both leagues in the
shared files, at -0.1 in most. The
result is a :class:`~shared.pricing.football_fit.FittedFootball` (``kind="market"``):
the same plain numbers and ``.params(home, away)`` as the goals models, so whatever
prices from one prices from the other.

Tuned on 2021/22 (trained on the seasons before), reported on 2022/23 once: see the
evaluation section of ``docs/pricing.md`` for what each choice bought.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.special import gammaln

from shared.pricing.football_fit import DEFAULT_PRIOR_SD, FittedFootball, MatchResult
from shared.pricing.implied_goals import Array, implied_goals

MARKET_XI = 0.02
MARKET_RHO = -0.1
RESULTS_WEIGHT = 0.01
# The goals model's prior (sd 0.2 against results of weight 1), against results that
# weigh RESULTS_WEIGHT each here: a side known from results alone is shrunk as much as in
# fit_football (no 0.1 % against a top club), a side with prices barely at all.
MARKET_PRIOR_SD = DEFAULT_PRIOR_SD / math.sqrt(RESULTS_WEIGHT)
MIN_WEIGHT = 1e-3  # matches weighing less than this share of a fresh one are left out


@dataclass(frozen=True)
class MarketResult(MatchResult):
    """A played match with the market's view of it before kick-off, where known.

    ``home_draw_away`` and ``over_25`` are *fair* probabilities (margin removed, see
    :func:`shared.pricing.margins.remove_margin`) of a bookmaker's closing prices: 1X2,
    and more than 2.5 goals. None where the match had no such prices.
    """

    home_draw_away: tuple[float, float, float] | None = None
    over_25: float | None = None


def fit_market_football(
    matches: Sequence[MatchResult], *, as_of: date | None = None, xi: float = MARKET_XI,
    results_weight: float = RESULTS_WEIGHT, prior_sd: float = MARKET_PRIOR_SD,
    rho: float = MARKET_RHO, use_over_under: bool = True,
) -> FittedFootball:
    """Fit team ratings on past matches' market prices (and, lightly, their results).

    ``matches`` are :class:`MarketResult` (plain :class:`MatchResult` count as matches
    without prices), all played before ``as_of`` (default: the last one's date).
    At least one needs prices: for results alone use
    :func:`shared.pricing.football_fit.fit_football`. ``prior_sd`` is in log expected
    goals; its weight compares with one fresh priced match. ``use_over_under=False``
    reads the 1X2 prices alone (the total then rests on the draw's price).
    """
    if not matches:
        raise ValueError("no matches to fit on")
    as_of = as_of or max(m.date for m in matches)
    # Ages count from the latest match, not from as_of: the prior's weight is then the
    # same after a summer break as mid-season (from as_of, a new season's first fit
    # would shrink every rating by the weight the break took off the data).
    played = [m for m in matches if m.date <= as_of]
    if not played:
        raise ValueError(f"no matches played by {as_of}")
    latest = max(m.date for m in played)
    kept = [m for m in played if math.exp(-xi * (latest - m.date).days) >= MIN_WEIGHT]
    priced = [i for i, m in enumerate(kept) if isinstance(m, MarketResult) and m.home_draw_away]
    if not priced:
        raise ValueError("no market prices in the matches: fit_football fits on results alone")
    teams = sorted({m.home for m in kept} | {m.away for m in kept})
    index = {t: i for i, t in enumerate(teams)}
    home = np.array([index[m.home] for m in kept])
    away = np.array([index[m.away] for m in kept])
    weight = np.exp(-xi * np.array([(latest - m.date).days for m in kept], dtype=np.float64))
    goals = np.array([(m.home_goals, m.away_goals) for m in kept], dtype=np.float64)
    market = _market_goals(kept, priced, rho, use_over_under)
    has = ~np.isnan(market[:, 0])
    w_market = np.where(has, weight, 0.0)
    w_results = weight * results_weight
    counts = w_results[:, None] * goals + w_market[:, None] * np.nan_to_num(market)
    exposure = w_results + w_market
    theta = _fit_ratings(home, away, counts, exposure, len(teams), 1 / (prior_sd * prior_sd))
    n = len(teams)
    attack, defence = theta[:n], theta[n:2 * n]
    intercept = float(theta[2 * n] + attack.mean() - defence.mean())
    attack, defence = attack - attack.mean(), defence - defence.mean()
    log_lam_home = intercept + theta[2 * n + 1] + attack[home] - defence[away]
    log_lam_away = intercept + attack[away] - defence[home]
    return FittedFootball(
        kind="market",
        attack={t: float(a) for t, a in zip(teams, attack, strict=True)},
        defence={t: float(d) for t, d in zip(teams, defence, strict=True)},
        intercept=intercept, home_advantage=float(theta[2 * n + 1]), rho=rho, xi=xi,
        prior_sd=prior_sd, as_of=as_of, n_matches=len(kept),
        log_likelihood=_log_likelihood(np.exp(log_lam_home), np.exp(log_lam_away), goals, rho),
    )


def _market_goals(matches: Sequence[MatchResult], priced: list[int], rho: float,
                  use_over_under: bool) -> Array:
    """``(n, 2)`` expected goals the prices imply; NaN rows for matches without prices."""
    out = np.full((len(matches), 2), np.nan)
    probs = np.array([_priced(matches[i]).home_draw_away for i in priced], dtype=np.float64)
    over = np.array([_over(matches[i]) for i in priced], dtype=np.float64)
    lam_home, lam_away = implied_goals(probs, over if use_over_under else None, rho)
    out[priced, 0], out[priced, 1] = lam_home, lam_away
    return out


def _priced(match: MatchResult) -> MarketResult:
    assert isinstance(match, MarketResult)
    return match


def _over(match: MatchResult) -> float:
    over = _priced(match).over_25
    return math.nan if over is None else over


def _design(home: Array, away: Array, n: int) -> Array:
    """Rows: each match's home side's log goal rate, then its away side's; columns: θ."""
    m = len(home)
    rows = np.arange(m)
    x = np.zeros((2 * m, 2 * n + 2))
    x[rows, home] = 1.0
    x[rows, n + away] = -1.0
    x[rows, 2 * n] = 1.0
    x[rows, 2 * n + 1] = 1.0
    x[m + rows, away] = 1.0
    x[m + rows, n + home] = -1.0
    x[m + rows, 2 * n] = 1.0
    return x


def _fit_ratings(home: Array, away: Array, counts: Array, exposure: Array, n: int,
                 ridge: float) -> Array:
    """Minimise the soft-count Poisson loss; θ = attack[n], defence[n], intercept, home advantage.

    A Poisson regression of a few dozen parameters: Newton's method with step halving
    converges in a handful of steps (a quasi-Newton search took ten times as long).
    """
    x = _design(home, away, n)
    y = np.concatenate([counts[:, 0], counts[:, 1]])
    e = np.concatenate([exposure, exposure])
    penalty = np.zeros(2 * n + 2)
    penalty[:2 * n] = ridge

    def loss(theta: Array) -> float:
        eta = x @ theta
        return float(np.sum(e * np.exp(eta) - y * eta) + 0.5 * np.sum(penalty * theta * theta))

    theta = np.zeros(2 * n + 2)
    theta[2 * n], theta[2 * n + 1] = math.log(max(y.sum() / max(e.sum(), 1e-12), 0.1)), 0.0
    current = loss(theta)
    for _ in range(50):
        rate = e * np.exp(x @ theta)
        grad = x.T @ (rate - y) + penalty * theta
        hessian = (x.T * rate) @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, grad)
        size = 1.0
        while size > 1e-4 and (trial := loss(theta - size * step)) > current:
            size /= 2
        if size <= 1e-4:
            break
        theta = theta - size * step
        done = current - trial < 1e-10 * (1 + abs(current))
        current = trial
        if done:
            break
    out: Array = theta
    return out


def _log_likelihood(lam_home: Array, lam_away: Array, goals: Array, rho: float) -> float:
    """Dixon-Coles log-likelihood of the results (unweighted): a fit metric to store."""
    h, a = goals[:, 0], goals[:, 1]
    value = (h * np.log(lam_home) - lam_home - gammaln(h + 1)
             + a * np.log(lam_away) - lam_away - gammaln(a + 1))
    tau = np.ones_like(h)
    tau = np.where((h == 0) & (a == 0), 1 - lam_home * lam_away * rho, tau)
    tau = np.where((h == 0) & (a == 1), 1 + lam_home * rho, tau)
    tau = np.where((h == 1) & (a == 0), 1 + lam_away * rho, tau)
    tau = np.where((h == 1) & (a == 1), 1 - rho, tau)
    return float(np.sum(value + np.log(np.clip(tau, 1e-12, None))))
