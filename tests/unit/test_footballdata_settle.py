"""Settling 1X2, totals and Asian handicap lines from a final score."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.enums import Sport
from shared.footballdata.settle import settle_1x2, settle_handicap, settle_totals
from shared.markets import MarketSettlement
from shared.rules import rules_for

Expected = dict[str, tuple[str, str]]


def outcomes(settlement: MarketSettlement) -> Expected:
    return {o.outcome_id: (o.result.value, str(o.void_factor)) for o in settlement.outcomes}


@pytest.mark.parametrize(("home", "away", "hcp", "expected"), [
    # quarter lines: half the stake on each neighbouring line
    (2, 1, "-0.75", {"home": ("won", "0.5"), "away": ("lost", "0.5")}),  # -0.5 won, -1 push
    (3, 1, "-0.75", {"home": ("won", "0"), "away": ("lost", "0")}),  # both halves won
    (1, 1, "-0.25", {"home": ("lost", "0.5"), "away": ("won", "0.5")}),  # 0 push, -0.5 lost
    (1, 1, "0.25", {"home": ("won", "0.5"), "away": ("lost", "0.5")}),  # 0 push, +0.5 won
    (1, 2, "0.75", {"home": ("lost", "0.5"), "away": ("won", "0.5")}),  # +0.5 lost, +1 push
    (0, 1, "1.25", {"home": ("won", "0.5"), "away": ("lost", "0.5")}),  # +1 push, +1.5 won
    (0, 2, "1.25", {"home": ("lost", "0"), "away": ("won", "0")}),  # both halves lost
    (4, 1, "-2.25", {"home": ("won", "0"), "away": ("lost", "0")}),
    # whole lines landing exactly: every stake back
    (2, 1, "-1", {"home": ("lost", "1"), "away": ("lost", "1")}),
    (1, 1, "0", {"home": ("lost", "1"), "away": ("lost", "1")}),
    (1, 3, "2", {"home": ("lost", "1"), "away": ("lost", "1")}),
    (3, 1, "-1", {"home": ("won", "0"), "away": ("lost", "0")}),
    # half lines: all or nothing
    (1, 0, "-0.5", {"home": ("won", "0"), "away": ("lost", "0")}),
    (1, 1, "-0.5", {"home": ("lost", "0"), "away": ("won", "0")}),
])
def test_asian_handicap_settles_whole_half_and_quarter_lines(
    home: int, away: int, hcp: str, expected: Expected
) -> None:
    settled = settle_handicap(home, away, Decimal(hcp), f"handicap|hcp={hcp}")
    assert outcomes(settled) == expected
    assert not rules_for(Sport.FOOTBALL).check_settlement(settled)


@pytest.mark.parametrize(("goals", "total", "expected"), [
    ((1, 1), "2.5", {"over": ("lost", "0"), "under": ("won", "0")}),
    ((2, 1), "2.5", {"over": ("won", "0"), "under": ("lost", "0")}),
    ((1, 1), "2", {"over": ("lost", "1"), "under": ("lost", "1")}),  # push
    ((1, 1), "2.25", {"over": ("lost", "0.5"), "under": ("won", "0.5")}),  # 2 push, 2.5 under
    ((2, 1), "2.75", {"over": ("won", "0.5"), "under": ("lost", "0.5")}),  # 2.5 over, 3 push
])
def test_totals_settle_with_asian_rules_on_whole_and_quarter_lines(
    goals: tuple[int, int], total: str, expected: Expected
) -> None:
    settled = settle_totals(*goals, Decimal(total), f"totals|total={total}")
    assert outcomes(settled) == expected
    if Decimal(total) % Decimal("0.5") == 0:  # the platform's football totals are half goals
        assert not rules_for(Sport.FOOTBALL).check_settlement(settled)


def test_1x2_has_one_winner() -> None:
    assert outcomes(settle_1x2(0, 0)) == {"home": ("lost", "0"), "draw": ("won", "0"), "away": ("lost", "0")}
    assert outcomes(settle_1x2(1, 3))["away"] == ("won", "0")
