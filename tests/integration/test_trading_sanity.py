"""The honest sanity check: on the generator's feed, the true probabilities find next to no
value (each bet explained) and backing everything loses the margin; a "profitable"
simulator fails here. The harness is ``tests/support/trading_sanity.py``."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest

from services.trading.domain import engine as engine_module
from services.trading.domain.settle import settle_bet
from shared.enums import Sport
from shared.markets import OutcomeSettlement
from shared.trading.model import BetStatus
from tests.support.trading_sanity import MARGIN, SanityRun, figures, simulate

MARGIN_LOSS = MARGIN / (1 + MARGIN)  # what backing at prices 1 / (p (1 + m)) loses


@pytest.fixture(scope="module")
def run() -> SanityRun:
    """A dozen matches of every sport through the engine (about 3,000 deltas)."""
    return simulate(list(Sport), 12)


def test_the_true_probabilities_find_next_to_no_value_and_each_bet_is_explained(run: SanityRun) -> None:
    truth = figures(run, "truth")
    assert truth.offered > 10_000
    assert 0 < truth.bets <= 0.01 * truth.offered
    assert set(truth.explanations) == {"pre-match drift"}, truth.explanations
    # Those bets have a real edge (the drift is noise the truth does not share), and the
    # results agree with it: the profit is what the truth expects, within its luck.
    assert truth.expected_profit > 0
    assert abs(truth.z) < 4, truth


def test_backing_every_outcome_loses_about_the_margin(run: SanityRun) -> None:
    back = figures(run, "back-all")
    assert back.bets == back.offered > 10_000
    assert -MARGIN_LOSS - 0.01 < back.expected_return < -MARGIN_LOSS + 0.01, back
    assert abs(back.z) < 4, back
    assert back.return_on_stakes < back.expected_return + 4 * back.standard_error / float(back.staked)


def test_the_check_catches_value_found_on_true_prices() -> None:
    # Without a margin, cent rounding alone makes half the true prices "value": bets the
    # drift does not explain, which is what a simulator finding edges in fair prices shows.
    fair = figures(simulate([Sport.FOOTBALL, Sport.TENNIS], 2, margin=0.0), "truth")
    assert fair.explanations.get("unexplained", 0) > 0


def test_the_check_catches_a_settlement_that_pays_too_much() -> None:
    real = settle_bet  # the function the engine calls, by the name patched below

    def generous(stake: Decimal, price: Decimal, outcome: OutcomeSettlement) -> tuple[BetStatus, Decimal]:
        status, payout = real(stake, price, outcome)
        return (status, stake) if status is BetStatus.LOST else (status, payout)  # losers refunded

    with mock.patch.object(engine_module, "settle_bet", generous):
        broken = simulate([Sport.FOOTBALL], 16)
    back = figures(broken, "back-all")
    assert back.return_on_stakes > 0  # backing everything "made money"
    assert back.z > 4  # ... far beyond the luck the true probabilities allow
