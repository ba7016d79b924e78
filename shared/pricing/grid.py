"""The score grid of a goals sport: final score = current score + goals still to come.

Goals still to come are two Poisson counts (home, away) with the expected goals left;
Dixon and Coles' correction ``τ`` reweights the four low cells (0-0, 1-0, 0-1, 1-1) of
the goals to come by the dependence parameter ``rho`` (rho = 0: independent Poisson, the
feed generator's model). τ keeps the grid's total mass at one exactly, so every summary
below is the independent sum plus four small corrections: the joint grid is never
materialised, and a live update costs a few short loops.

In play, rho acts on the goals still to come: at kick-off that is the pre-match grid, and
as the clock runs the cells it touches shrink with the expected goals left, so the
correction fades out with them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.pricing.dist import Dist, poisson_pmf

Cell = tuple[int, int, float]  # goals to come (home, away) and the change of its mass


def dixon_coles_tau(lam_home: float, lam_away: float, rho: float) -> tuple[Cell, ...]:
    """Mass changes of the four low cells: ``p(i) q(j) (τ(i, j) - 1)``.

    rho is clamped to the range where every τ stays non-negative (Dixon and Coles' own
    condition), so a fitted rho applied to a lopsided pair never yields a negative cell.
    """
    if rho == 0.0:
        return ()
    lo = max(-1 / lam_home if lam_home > 0 else -1.0, -1 / lam_away if lam_away > 0 else -1.0)
    hi = min(1.0, 1 / (lam_home * lam_away) if lam_home * lam_away > 0 else 1.0)
    r = min(max(rho, lo), hi)
    p0, q0 = poisson_at(lam_home, 0), poisson_at(lam_away, 0)
    p1, q1 = poisson_at(lam_home, 1), poisson_at(lam_away, 1)
    return (
        (0, 0, p0 * q0 * -lam_home * lam_away * r),
        (0, 1, p0 * q1 * lam_home * r),
        (1, 0, p1 * q0 * lam_away * r),
        (1, 1, p1 * q1 * -r),
    )


def poisson_at(lam: float, k: int) -> float:
    """P(N = k) for k in (0, 1)."""
    return math.exp(-lam) * (lam if k == 1 else 1.0)


@dataclass(frozen=True)
class ScoreGrid:
    """Final score = (``home`` + X, ``away`` + Y), X ~ ``pmf_home``, Y ~ ``pmf_away``.

    ``adjust`` holds the Dixon-Coles corrections of the low cells of (X, Y) (empty:
    X and Y independent).
    """

    pmf_home: Sequence[float]
    pmf_away: Sequence[float]
    home: int = 0
    away: int = 0
    adjust: tuple[Cell, ...] = ()

    def cells(self) -> Iterable[tuple[int, int, float]]:
        """Every final score (home, away) with its probability."""
        fix = {(i, j): d for i, j, d in self.adjust}
        for i, pi in enumerate(self.pmf_home):
            for j, pj in enumerate(self.pmf_away):
                yield self.home + i, self.away + j, pi * pj + fix.get((i, j), 0.0)

    def _fixed(self, out: Dist, key: int, i: int, j: int, delta: float) -> None:
        if i < len(self.pmf_home) and j < len(self.pmf_away):
            out[key] = out.get(key, 0.0) + delta

    def margin(self) -> Dist:
        """Distribution of home - away."""
        out: Dist = {}
        base = self.home - self.away
        for i, pi in enumerate(self.pmf_home):
            for j, pj in enumerate(self.pmf_away):
                k = base + i - j
                out[k] = out.get(k, 0.0) + pi * pj
        for i, j, d in self.adjust:
            self._fixed(out, base + i - j, i, j, d)
        return out

    def total(self) -> Dist:
        """Distribution of home + away."""
        out: Dist = {}
        base = self.home + self.away
        for i, pi in enumerate(self.pmf_home):
            for j, pj in enumerate(self.pmf_away):
                k = base + i + j
                out[k] = out.get(k, 0.0) + pi * pj
        for i, j, d in self.adjust:
            self._fixed(out, base + i + j, i, j, d)
        return out

    def level(self) -> Dist:
        """P(the final score is k-k), by total goals 2k: the mass a draw puts on each total."""
        out: Dist = {}
        for i, pi in enumerate(self.pmf_home):
            j = self.home + i - self.away
            if 0 <= j < len(self.pmf_away):
                out[2 * (self.home + i)] = pi * self.pmf_away[j]
        for i, j, d in self.adjust:
            if self.home + i == self.away + j:
                self._fixed(out, 2 * (self.home + i), i, j, d)
        return out

    def three_way(self) -> tuple[float, float, float]:
        """P(home wins), P(draw), P(away wins)."""
        margin = self.margin()
        home = sum(p for k, p in margin.items() if k > 0)
        draw = margin.get(0, 0.0)
        return home, draw, max(0.0, 1.0 - home - draw)

    def both_score(self) -> float:
        """P(both sides end with at least one goal)."""
        home = 1.0 if self.home > 0 else 1.0 - self.pmf_home[0]
        away = 1.0 if self.away > 0 else 1.0 - self.pmf_away[0]
        both = home * away
        for i, j, d in self.adjust:
            if self.home + i > 0 and self.away + j > 0:
                both += d
        return both

    def correct_score(self, top: int = 6) -> dict[str, float]:
        """P(each final score ``"h-a"`` with both counts ≤ ``top``), and ``"other"`` for the rest."""
        out: dict[str, float] = {}
        rest = 0.0
        for h, a, p in self.cells():
            if h <= top and a <= top:
                out[f"{h}-{a}"] = p
            else:
                rest += p
        out["other"] = rest
        return out


def score_grid(
    lam_home: float, lam_away: float, home: int = 0, away: int = 0, rho: float = 0.0
) -> ScoreGrid:
    """Final score = current score + goals still to come (Poisson, Dixon-Coles with ``rho``)."""
    return ScoreGrid(poisson_pmf(lam_home), poisson_pmf(lam_away), home, away,
                     dixon_coles_tau(lam_home, lam_away, rho))
