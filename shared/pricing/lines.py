"""Two-way lines (totals, handicaps): Asian pushes, fair probabilities, settlement.

An integer line pushes on equality (both stakes back); a half line never pushes; a
quarter line (2.25, -0.75) is half the stake on each neighbouring line (2 and 2.5), so
it can win or lose half and push the other half. A handicap ``h`` on home wins when
``margin + h > 0``: it is the line ``-h`` on the home-minus-away margin.

Prices need one number per outcome, so a line's outcomes get an *effective*
probability: the inverse of the fair price, the price at which a bet's expected return
is nil once pushes and half pushes are counted: ``1/price = (win + half_win/2) /
(1 - push - half_win/2 - half_lose/2)``. The two effective probabilities of a line add
up to one, so a line is priced like any two-way market. :class:`LineOdds` keeps the
whole settlement law (win, half win, push, half lose, lose) for callers that need it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from shared.enums import SettlementResult
from shared.pricing.dist import Dist, mean_of

QUARTER = Decimal("0.25")
HALF = Decimal("0.5")


def components(line: Decimal) -> tuple[Decimal, ...]:
    """A quarter line is half a stake on each neighbour: 2.25 -> (2, 2.5)."""
    if line % HALF == 0:
        return (line,)
    return (line - QUARTER, line + QUARTER)


def line_probabilities(dist: Dist, line: Decimal) -> tuple[float, float]:
    """Effective (over, under) probabilities of a two-way line; they add up to one.

    They are the inverses of the fair prices, so pushes (integer lines) and half
    pushes (quarter lines) are priced in: fair over = (1 - E[refund]) / E[win share].
    """
    parts = [float(part) for part in components(line)]  # exact: comparisons are unchanged
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
class LineOdds:
    """How one side of a two-way line settles, as probabilities adding up to one."""

    win: float
    half_win: float
    push: float
    half_lose: float
    lose: float

    @property
    def effective(self) -> float:
        """The inverse of the fair price (NaN when the stake is always returned)."""
        stake = self.win + 0.5 * self.half_win + 0.5 * self.half_lose + self.lose
        return (self.win + 0.5 * self.half_win) / stake if stake > 1e-12 else math.nan

    @property
    def fair_price(self) -> float:
        """The decimal price with an expected return of nil (inf if it never wins)."""
        effective = self.effective
        return 1 / effective if effective > 0 else math.inf

    def mirrored(self) -> LineOdds:
        """The other side of the line: its wins are this side's losses."""
        return LineOdds(self.lose, self.half_lose, self.push, self.half_win, self.win)


def line_odds(dist: Dist, line: Decimal) -> tuple[LineOdds, LineOdds]:
    """The settlement law of (over, under) of ``line`` on ``dist``."""
    parts = [float(part) for part in components(line)]  # quarters are exact in binary
    low, high = parts[0], parts[-1]
    win = half_win = push = half_lose = lose = 0.0
    for k, p in dist.items():
        if k > high:
            win += p
        elif k < low:
            lose += p
        elif low == high:  # on a whole line
            push += p
        elif k == high:  # a quarter line's upper half pushes, the lower one wins
            half_win += p
        else:  # k == low: the lower half pushes, the upper one loses
            half_lose += p
    over = LineOdds(win, half_win, push, half_lose, lose)
    return over, over.mirrored()


def handicap_probabilities(margin: Dist, hcp: Decimal) -> tuple[float, float]:
    """Effective (home, away) probabilities of ``handicap|hcp=h``: home wins if margin + h > 0."""
    return line_probabilities(margin, -hcp)


def handicap_odds(margin: Dist, hcp: Decimal) -> tuple[LineOdds, LineOdds]:
    """The settlement law of (home, away) of ``handicap|hcp=h``."""
    return line_odds(margin, -hcp)


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
    parts = components(line)
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


def settle_handicap(margin: int, hcp: Decimal) -> tuple[LineResult, LineResult]:
    """Settle (home, away) of a handicap line for the final home-minus-away ``margin``."""
    return settle_line(margin, -hcp)


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
