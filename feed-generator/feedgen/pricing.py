"""Pricing maths: pure functions from a score model's probabilities to decimal prices.

Nothing here knows about messages, clocks or randomness: every function maps numbers
to numbers, so the platform's future pricing layer can import them as they are.

- Goals sports (football, ice hockey): the final score is the current score plus two
  independent Poisson counts of the goals still to come (:func:`score_grid`).
- Basketball: the final margin and total are approximately normal
  (:func:`normal_dist` discretises them so integer lines get their push mass).
- Tennis: a Markov chain over points, games and sets (``feedgen.tennis_markov``).

A distribution (:data:`Dist`) maps an integer value (a total, a margin) to its
probability. Two-way lines follow the Asian convention: an integer line pushes on
equality and a quarter line splits the stake over its two neighbouring lines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from pydantic import TypeAdapter

from shared.enums import SettlementResult
from shared.markets import Price

Dist = dict[int, float]

MIN_PRICE = Decimal("1.01")
MAX_PRICE = Decimal("1000")
CENT = Decimal("0.01")
QUARTER = Decimal("0.25")
HALF = Decimal("0.5")
_PRICE: TypeAdapter[Decimal] = TypeAdapter(Price)


# --- prices ----------------------------------------------------------------------------


def price_of(probability: float, margin: float) -> Decimal:
    """The decimal price of one outcome: ``1 / (p * (1 + margin))``, 2 places, clamped.

    The proportional method: every outcome's implied probability is inflated by the
    same factor, so the book's overround is ``margin`` whatever the favourite.
    """
    if probability <= 0:
        return MAX_PRICE
    raw = Decimal(1 / (probability * (1 + margin))).quantize(CENT, rounding=ROUND_HALF_EVEN)
    # In the canonical model's own spelling (2.70 -> 2.7), so a price reads back identical.
    return _PRICE.validate_python(min(MAX_PRICE, max(MIN_PRICE, raw)))


def prices_with_margin(probabilities: Sequence[float], margin: float) -> tuple[Decimal, ...]:
    """Prices of a market's outcomes; their ``sum(1/price)`` is ``winners * (1 + margin)``.

    ``probabilities`` add up to the number of outcomes that win together (1 for a
    winner market, 2 for double chance); they are not renormalised here.
    """
    return tuple(price_of(p, margin) for p in probabilities)


def overround(prices: Iterable[Decimal]) -> Decimal:
    """``sum(1/price)``: 1 for a fair book, ``1 + margin`` for a priced one."""
    return sum((1 / p for p in prices), Decimal(0))


def normalise(probabilities: Sequence[float]) -> list[float]:
    """Scale probabilities to add up to one."""
    total = sum(probabilities)
    return [p / total for p in probabilities] if total > 0 else [1 / len(probabilities)] * len(
        probabilities
    )


# --- distributions ---------------------------------------------------------------------


def poisson_pmf(lam: float) -> list[float]:
    """P(N = k) for k = 0.. until the tail is negligible; the last entry takes the tail."""
    lam = max(lam, 0.0)
    top = int(lam + 8 * math.sqrt(lam) + 6)
    pmf = [math.exp(-lam)]
    for k in range(1, top + 1):
        pmf.append(pmf[-1] * lam / k)
        if pmf[-1] < 1e-12 and k > lam:
            break
    pmf[-1] += max(0.0, 1.0 - sum(pmf))
    return pmf


@dataclass(frozen=True)
class ScoreGrid:
    """Final score = (``home`` + X, ``away`` + Y) with X, Y independent (``pmf_home``, ``pmf_away``).

    The joint grid is never materialised: each summary is a short double loop.
    """

    pmf_home: Sequence[float]
    pmf_away: Sequence[float]
    home: int = 0
    away: int = 0

    def cells(self) -> Iterable[tuple[int, int, float]]:
        """Every final score (home, away) with its probability."""
        for i, pi in enumerate(self.pmf_home):
            for j, pj in enumerate(self.pmf_away):
                yield self.home + i, self.away + j, pi * pj

    def margin(self) -> Dist:
        """Distribution of home - away."""
        out: Dist = {}
        base = self.home - self.away
        for i, pi in enumerate(self.pmf_home):
            for j, pj in enumerate(self.pmf_away):
                k = base + i - j
                out[k] = out.get(k, 0.0) + pi * pj
        return out

    def total(self) -> Dist:
        """Distribution of home + away."""
        out: Dist = {}
        base = self.home + self.away
        for i, pi in enumerate(self.pmf_home):
            for j, pj in enumerate(self.pmf_away):
                k = base + i + j
                out[k] = out.get(k, 0.0) + pi * pj
        return out

    def level(self) -> Dist:
        """P(the final score is k-k), by total goals 2k: the mass a draw puts on each total."""
        out: Dist = {}
        for i, pi in enumerate(self.pmf_home):
            j = self.home + i - self.away
            if 0 <= j < len(self.pmf_away):
                out[2 * (self.home + i)] = pi * self.pmf_away[j]
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
        return home * away


def score_grid(lam_home: float, lam_away: float, home: int = 0, away: int = 0) -> ScoreGrid:
    """Final score = current score + independent Poisson goals still to come."""
    return ScoreGrid(poisson_pmf(lam_home), poisson_pmf(lam_away), home, away)


def normal_cdf(x: float, mean: float = 0.0, sd: float = 1.0) -> float:
    """Φ((x - mean) / sd)."""
    return 0.5 * (1 + math.erf((x - mean) / (sd * math.sqrt(2))))


def normal_dist(mean: float, sd: float, width: float = 6.0) -> Dist:
    """A normal law discretised on the integers (continuity correction), ±``width`` sd."""
    sd = max(sd, 0.3)
    lo, hi = math.floor(mean - width * sd), math.ceil(mean + width * sd)
    dist = {
        k: normal_cdf(k + 0.5, mean, sd) - normal_cdf(k - 0.5, mean, sd) for k in range(lo, hi + 1)
    }
    return dict(zip(dist, normalise(list(dist.values())), strict=True))


def shift(dist: Dist, by: int) -> Dist:
    """The distribution of X + ``by``."""
    return {k + by: p for k, p in dist.items()}


def prob_above(dist: Dist, line: float) -> float:
    """P(X > line)."""
    return sum(p for k, p in dist.items() if k > line)


def mean_of(dist: Dist) -> float:
    """E[X]."""
    return sum(k * p for k, p in dist.items())


# --- two-way lines (totals, handicaps) -------------------------------------------------


def _components(line: Decimal) -> tuple[Decimal, ...]:
    """A quarter line is half a stake on each neighbour: 2.25 -> (2, 2.5)."""
    if line % HALF == 0:
        return (line,)
    return (line - QUARTER, line + QUARTER)


def line_probabilities(dist: Dist, line: Decimal) -> tuple[float, float]:
    """Effective (over, under) probabilities of a two-way line; they add up to one.

    They are the inverses of the fair prices, so pushes (integer lines) and half
    pushes (quarter lines) are priced in: fair over = (1 - E[refund]) / E[win share].
    """
    parts = _components(line)
    share = 1 / len(parts)
    win_over = win_under = refund = 0.0
    for part in parts:
        for k, p in dist.items():
            if k > part:
                win_over += share * p
            elif k < part:
                win_under += share * p
            else:
                refund += share * p
    stake = 1 - refund
    if stake <= 1e-12:
        return 0.5, 0.5
    return win_over / stake, win_under / stake


@dataclass(frozen=True)
class LineResult:
    """How one side of a two-way line settles: won or lost, with the void share."""

    result: SettlementResult
    void_factor: Decimal


def settle_line(value: int, line: Decimal) -> tuple[LineResult, LineResult]:
    """Settle (over, under) of ``line`` for the final ``value`` (Asian rules).

    Integer line on the value: both void. Quarter line next to the value: the side
    that would win the other half is won with void 0.5, the other lost with void 0.5.
    """
    won, lost = SettlementResult.WON, SettlementResult.LOST
    zero, half, one = Decimal(0), Decimal("0.5"), Decimal(1)
    parts = _components(line)
    over = sum((1 if value > part else -1 if value < part else 0) for part in parts)
    pushes = sum(1 for part in parts if value == part)
    if len(parts) == 1:
        if pushes:
            return LineResult(lost, one), LineResult(lost, one)
        return (LineResult(won, zero), LineResult(lost, zero)) if over > 0 else (
            LineResult(lost, zero), LineResult(won, zero))
    if pushes:  # a quarter line: one half pushed, the other half decided
        if over > 0:
            return LineResult(won, half), LineResult(lost, half)
        return LineResult(lost, half), LineResult(won, half)
    return (LineResult(won, zero), LineResult(lost, zero)) if over > 0 else (
        LineResult(lost, zero), LineResult(won, zero))


def balanced_line(
    dist: Dist, step: Decimal = Decimal(1), offset: Decimal = HALF, *, positive: bool = False
) -> Decimal:
    """The line ``offset + k * step`` whose over/under are closest to even money.

    ``step=1, offset=0.5`` gives half lines (2.5, 3.5...); ``step=0.25, offset=0``
    the Asian grid with integer and quarter lines.
    """
    centre = Decimal(math.floor((mean_of(dist) - float(offset)) / float(step)))
    best, best_gap = offset + centre * step, 2.0
    for n in range(-12, 13):
        line = offset + (centre + n) * step
        if positive and line <= 0:
            continue
        over, _ = line_probabilities(dist, line)
        if abs(over - 0.5) < best_gap:
            best, best_gap = line, abs(over - 0.5)
    return best


def handicap_probabilities(margin: Dist, hcp: Decimal) -> tuple[float, float]:
    """Effective (home, away) probabilities of ``handicap|hcp=h``: home wins if margin + h > 0."""
    return line_probabilities(margin, -hcp)


def settle_handicap(margin: int, hcp: Decimal) -> tuple[LineResult, LineResult]:
    """Settle (home, away) of a handicap line for the final home-minus-away ``margin``."""
    return settle_line(margin, -hcp)
