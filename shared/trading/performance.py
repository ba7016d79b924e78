"""What a trader reads about a strategy: P/L, ROI, yield, hit rate, drawdown, closing line value.

Pure functions over plain values, used by the REST routes (``/v1/trading/performance``)
and the backtest report alike. The definitions:

- **turnover**: the stakes of settled bets that ran a risk (pushes and voids returned
  the whole stake and are left out);
- **profit** (P/L): the sum over settled bets of what came back minus the stake;
- **ROI**: profit over the starting bankroll (the return on the capital);
- **yield**: profit over turnover (the return on what was risked);
- **hit rate**: bets won in whole or in part (won, half won, dead heat) over the
  settled bets that ran a risk;
- **maximum drawdown**: the largest fall of the realised bankroll (starting bankroll plus
  settled P/L, in settlement order) from a previous peak, in money and as a share of
  that peak;
- **closing line value** (CLV) of a bet: ``price taken / closing price - 1``, where the
  closing price is the last price of the outcome before its market stopped (was
  suspended, settled or cancelled, or the outcome went inactive) after the bet. Above 0:
  the bet beat the closing line. Reported as the mean over the bets whose line has
  closed, and the share of those that beat it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared.trading.model import HITS, STAKE_BACK, BetStatus, LedgerKind

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BetFigures:
    """What the figures need of one bet."""

    stake: Decimal
    price: Decimal
    status: BetStatus
    payout: Decimal | None = None  # what came back, once settled
    closing_price: Decimal | None = None  # None while the line has not closed


@dataclass(frozen=True, slots=True)
class Performance:
    """A strategy's figures (ratios are None when their denominator is zero)."""

    bets: int
    open_bets: int
    open_stake: Decimal
    settled: int
    stake_back: int  # pushes and voids
    wins: int
    turnover: Decimal
    returned: Decimal
    profit: Decimal
    roi: float | None
    yield_: float | None
    hit_rate: float | None
    max_drawdown: Decimal
    max_drawdown_share: float | None
    clv_bets: int
    clv_mean: float | None
    clv_beat_share: float | None


def closing_line_value(price: Decimal, closing: Decimal) -> float:
    """``price / closing - 1``: above 0 when the price taken beat the closing price."""
    return float(price / closing) - 1.0


def max_drawdown(values: Iterable[Decimal]) -> tuple[Decimal, float | None]:
    """The largest fall from a running peak, and that fall as a share of the peak."""
    peak: Decimal | None = None
    worst, share = ZERO, None
    for value in values:
        if peak is None or value > peak:
            peak = value
            continue
        fall = peak - value
        if fall > worst:
            worst = fall
            share = float(fall / peak) if peak > 0 else None
    return worst, share


def _ratio(a: Decimal, b: Decimal) -> float | None:
    return float(a / b) if b else None


def summarise(bets: Iterable[BetFigures], bankroll: Decimal,
              equity: Sequence[Decimal] = ()) -> Performance:
    """The figures of ``bets``; drawdown over ``equity`` (the realised bankroll series)."""
    count = open_bets = settled = stake_back = wins = 0
    open_stake = turnover = returned = profit = ZERO
    clvs: list[float] = []
    for bet in bets:
        count += 1
        if bet.closing_price is not None and bet.status is not BetStatus.VOID:
            clvs.append(closing_line_value(bet.price, bet.closing_price))
        if bet.status is BetStatus.OPEN:
            open_bets += 1
            open_stake += bet.stake
            continue
        settled += 1
        payout = bet.payout if bet.payout is not None else ZERO
        returned += payout
        profit += payout - bet.stake
        if bet.status in STAKE_BACK:
            stake_back += 1
            continue
        turnover += bet.stake
        wins += bet.status in HITS
    drawdown, drawdown_share = max_drawdown(equity)
    risked = settled - stake_back
    return Performance(
        bets=count, open_bets=open_bets, open_stake=open_stake, settled=settled,
        stake_back=stake_back, wins=wins, turnover=turnover, returned=returned, profit=profit,
        roi=_ratio(profit, bankroll), yield_=_ratio(profit, turnover),
        hit_rate=wins / risked if risked else None,
        max_drawdown=drawdown, max_drawdown_share=drawdown_share,
        clv_bets=len(clvs), clv_mean=sum(clvs) / len(clvs) if clvs else None,
        clv_beat_share=sum(1 for v in clvs if v > 0) / len(clvs) if clvs else None,
    )


@dataclass(frozen=True, slots=True)
class LedgerMove:
    """A ledger entry as the equity series reads it: its kind, amount and its bet's stake."""

    at: datetime
    kind: LedgerKind
    amount: Decimal
    stake: Decimal | None = None  # of the bet a return or reversal belongs to


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """The realised bankroll after a settlement (or its reversal)."""

    at: datetime
    equity: Decimal  # starting bankroll + settled P/L
    profit: Decimal  # settled P/L so far
    drawdown: Decimal  # below the running peak


def equity_series(moves: Iterable[LedgerMove], bankroll: Decimal) -> list[SeriesPoint]:
    """The realised bankroll over time, from the ledger in order.

    Stakes reserved for open bets do not move it: a return moves it by ``payout -
    stake``, a reversal (its amount is ``-payout``) by ``amount + stake``, so a rolled
    back settlement disappears from the curve exactly. Deposits start it.
    """
    points: list[SeriesPoint] = []
    profit = ZERO
    peak = bankroll
    for move in moves:
        if move.kind is LedgerKind.DEPOSIT:
            if not points:
                points.append(SeriesPoint(move.at, bankroll, ZERO, ZERO))
            continue
        if move.kind is LedgerKind.STAKE or move.stake is None:
            continue
        profit += move.amount - move.stake if move.kind is LedgerKind.RETURN else move.amount + move.stake
        equity = bankroll + profit
        peak = max(peak, equity)
        points.append(SeriesPoint(move.at, equity, profit, peak - equity))
    return points


def downsample(points: Sequence[SeriesPoint], limit: int) -> list[SeriesPoint]:
    """At most ``limit`` points, evenly spread, keeping the first, the last and the lowest."""
    if len(points) <= limit:
        return list(points)
    if limit < 3:
        return [points[-1]] if limit == 1 else [points[0], points[-1]]
    last = len(points) - 1
    step = last / (limit - 2)
    lowest = min(range(len(points)), key=lambda i: points[i].equity)
    chosen = sorted({round(i * step) for i in range(limit - 1)} | {last, lowest})
    while len(chosen) > limit:  # the lowest fell between two kept points: drop its neighbour
        chosen.remove(min((i for i in chosen if i not in (0, last, lowest)),
                          key=lambda i: abs(i - lowest)))
    return [points[i] for i in chosen]
