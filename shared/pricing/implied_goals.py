"""Expected goals implied by a market's prices: the Dixon-Coles grid run backwards.

A de-margined 1X2 book, and an over/under 2.5 book where there is one, say what the
market expects of a match. :func:`implied_goals` finds the expected goals
``(λ_home, λ_away)`` whose Dixon-Coles grid (``rho`` fixed) gives those probabilities:
exactly from a 1X2 book alone (two free probabilities, two unknowns), in the
least-squares sense when the over/under adds a third. Gauss-Newton on ``log λ``, every
match at once with numpy: a fit inverts a thousand past matches in a few tens of ms.

:func:`grid_summaries` is the forward direction, vectorised: the same grid as
:func:`shared.pricing.grid.score_grid` (same τ, same clamp of ``rho`` that keeps every
cell non-negative, the Poisson tail in the last cell); the scalar grid stays the one the
prices come from, and the tests pin the two together.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

GOALS = 16
"""Cells per side; the last one takes the Poisson tail (negligible below 6 expected goals)."""

_K = np.arange(GOALS)
_HOME = _K[:, None] > _K[None, :]
_AWAY = _K[:, None] < _K[None, :]
_UNDER_25 = (_K[:, None] + _K[None, :]) <= 2
_START = (np.log(1.45), np.log(1.15))  # a typical league match: where the search starts
_STEP = 1e-6


def _poisson(lam: Array) -> Array:
    """P(N = k), k < GOALS, one row per λ; the last column takes the tail."""
    ratios = lam[:, None] / np.arange(1, GOALS)[None, :]
    pmf: Array = np.exp(-lam)[:, None] * np.concatenate(
        [np.ones((len(lam), 1)), np.cumprod(ratios, axis=1)], axis=1)
    pmf[:, -1] += np.clip(1.0 - pmf.sum(axis=1), 0.0, None)
    return pmf


def grid_summaries(lam_home: Array, lam_away: Array, rho: float) -> tuple[Array, Array, Array]:
    """P(home wins), P(away wins), P(over 2.5 goals) of each match's Dixon-Coles grid."""
    grid = _poisson(lam_home)[:, :, None] * _poisson(lam_away)[:, None, :]
    if rho != 0.0:
        # The clamp of shared.pricing.grid.dixon_coles_tau: every τ stays >= 0.
        lo = np.maximum(-1 / lam_home, -1 / lam_away)
        r = np.clip(rho, lo, np.minimum(1.0, 1 / (lam_home * lam_away)))
        grid[:, 0, 0] *= 1 - lam_home * lam_away * r
        grid[:, 0, 1] *= 1 + lam_home * r
        grid[:, 1, 0] *= 1 + lam_away * r
        grid[:, 1, 1] *= 1 - r
    return (grid[:, _HOME].sum(axis=1), grid[:, _AWAY].sum(axis=1),
            1.0 - grid[:, _UNDER_25].sum(axis=1))


def implied_goals(
    home_draw_away: Array, over_25: Array | None = None, rho: float = 0.0, iterations: int = 14,
) -> tuple[Array, Array]:
    """The expected goals ``(λ_home, λ_away)`` of each match that its prices imply.

    ``home_draw_away`` is an ``(n, 3)`` array of fair 1X2 probabilities; ``over_25`` the
    fair probability of more than 2.5 goals, NaN (or None for all) where the match has no
    such book. Each of the three probabilities fitted counts alike.
    """
    p = np.asarray(home_draw_away, dtype=np.float64).reshape(-1, 3)
    n = len(p)
    over = np.full(n, np.nan) if over_25 is None else np.asarray(over_25, dtype=np.float64)
    has_over = ~np.isnan(over)
    target = np.stack([p[:, 0], p[:, 2], np.where(has_over, over, 0.0)], axis=1)
    use = np.stack([np.ones(n), np.ones(n), has_over.astype(np.float64)], axis=1)

    def residuals(x: Array) -> Array:
        home, away, above = grid_summaries(np.exp(x[:, 0]), np.exp(x[:, 1]), rho)
        out: Array = (np.stack([home, away, above], axis=1) - target) * use
        return out

    x = np.tile(np.array(_START), (n, 1))
    for _ in range(iterations):
        r = residuals(x)
        jac = np.empty((n, 3, 2))
        for k in range(2):
            moved = x.copy()
            moved[:, k] += _STEP
            jac[:, :, k] = (residuals(moved) - r) / _STEP
        jt = jac.transpose(0, 2, 1)
        step = np.linalg.solve(jt @ jac + 1e-12 * np.eye(2), (jt @ r[:, :, None]))[:, :, 0]
        x = np.clip(x - np.clip(step, -1.0, 1.0), np.log(0.05), np.log(8.0))
    return np.exp(x[:, 0]), np.exp(x[:, 1])
