"""Performance maths: P/L, ROI, yield, hit rate, drawdown, closing line value, the equity curve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.trading.model import BetStatus, LedgerKind
from shared.trading.performance import (
    BetFigures,
    LedgerMove,
    SeriesPoint,
    closing_line_value,
    downsample,
    equity_series,
    max_drawdown,
    summarise,
)

D = Decimal
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def test_clv_is_price_taken_over_closing_price_minus_one() -> None:
    assert closing_line_value(D("2.10"), D("2.00")) == pytest.approx(0.05)
    assert closing_line_value(D("1.90"), D("2.00")) == pytest.approx(-0.05)
    assert closing_line_value(D("2"), D("2")) == 0.0


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    assert max_drawdown([D(100), D(120), D(90), D(130), D(110), D(125)]) == (D(30), 0.25)
    assert max_drawdown([D(100), D(101), D(102)]) == (D(0), None)
    assert max_drawdown([]) == (D(0), None)


@given(st.lists(st.decimals("0", "10000", places=2), min_size=1, max_size=40))
def test_max_drawdown_bounds(values: list[Decimal]) -> None:
    fall, share = max_drawdown(values)
    assert 0 <= fall <= max(values) - min(values)
    if share is not None:
        assert 0 < share <= 1


def test_summary_figures_follow_their_definitions() -> None:
    bets = [
        BetFigures(D("10"), D("2.0"), BetStatus.WON, D("20"), D("1.8")),  # +10, clv +0.111
        BetFigures(D("10"), D("3.0"), BetStatus.LOST, D("0"), D("3.3")),  # -10, clv -0.0909
        BetFigures(D("10"), D("1.9"), BetStatus.HALF_WON, D("14.5"), None),  # +4.5
        BetFigures(D("10"), D("1.9"), BetStatus.HALF_LOST, D("5"), D("1.9")),  # -5, clv 0
        BetFigures(D("10"), D("2.0"), BetStatus.PUSH, D("10"), D("2.1")),  # 0, no turnover
        BetFigures(D("10"), D("2.0"), BetStatus.VOID, D("10"), D("1.5")),  # 0, no turnover, no CLV
        BetFigures(D("5"), D("4.0"), BetStatus.OPEN, None, D("4.4")),  # open, clv -0.0909
    ]
    perf = summarise(bets, D("1000"), equity=[D(1000), D(1010), D(1000), D(1004.5), D(999.5)])
    assert (perf.bets, perf.open_bets, perf.open_stake, perf.settled, perf.stake_back) == (
        7, 1, D("5"), 6, 2)
    assert perf.turnover == D("40")
    assert perf.returned == D("59.5")
    assert perf.profit == D("-0.5")
    assert perf.roi == pytest.approx(-0.0005)
    assert perf.yield_ == pytest.approx(-0.5 / 40)
    assert perf.wins == 2
    assert perf.hit_rate == pytest.approx(0.5)
    assert perf.max_drawdown == D("10.5")
    assert perf.max_drawdown_share == pytest.approx(10.5 / 1010)
    assert perf.clv_bets == 5
    expected = [2 / 1.8 - 1, 3 / 3.3 - 1, 0.0, 2 / 2.1 - 1, 4 / 4.4 - 1]
    assert perf.clv_mean == pytest.approx(sum(expected) / 5)
    assert perf.clv_beat_share == pytest.approx(1 / 5)


def test_no_bets_no_ratios() -> None:
    perf = summarise([], D("100"))
    assert (perf.roi, perf.yield_, perf.hit_rate, perf.clv_mean) == (0.0, None, None, None)


def _at(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def test_the_equity_curve_moves_on_settlements_and_a_reversal_takes_one_back() -> None:
    moves = [
        LedgerMove(_at(0), LedgerKind.DEPOSIT, D("100")),
        LedgerMove(_at(1), LedgerKind.STAKE, D("-10"), D("10")),
        LedgerMove(_at(2), LedgerKind.STAKE, D("-5"), D("5")),
        LedgerMove(_at(3), LedgerKind.RETURN, D("25"), D("10")),  # won at 2.5: +15
        LedgerMove(_at(4), LedgerKind.RETURN, D("0"), D("5")),  # lost: -5
        LedgerMove(_at(5), LedgerKind.REVERSAL, D("-25"), D("10")),  # rollback of the win
        LedgerMove(_at(6), LedgerKind.RETURN, D("0"), D("10")),  # settled again, lost
    ]
    points = equity_series(moves, D("100"))
    assert [(p.equity, p.profit, p.drawdown) for p in points] == [
        (D("100"), D("0"), D("0")), (D("115"), D("15"), D("0")), (D("110"), D("10"), D("5")),
        (D("95"), D("-5"), D("20")), (D("85"), D("-15"), D("30")),
    ]
    assert [p.at for p in points] == [_at(0), _at(3), _at(4), _at(5), _at(6)]


@given(n=st.integers(1, 400), limit=st.integers(1, 60))
def test_downsampling_keeps_first_last_and_lowest_within_the_limit(n: int, limit: int) -> None:
    points = [SeriesPoint(_at(i), D((i * 37) % 101), D(0), D(0)) for i in range(n)]
    kept = downsample(points, limit)
    assert len(kept) <= max(limit, 1)
    assert kept[-1] == points[-1]
    assert kept == sorted(kept, key=lambda p: p.at)
    if limit >= 3 or n <= limit:
        assert kept[0] == points[0]
        assert min(p.equity for p in kept) == min(p.equity for p in points)
