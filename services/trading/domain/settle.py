"""Settlement maths of one bet (pure): what comes back, and what to call it.

The feed's settlement vocabulary is UOF's (``shared.markets.OutcomeSettlement``):
``result`` won or lost, ``void_factor`` the share of the stake returned whatever the
result, and ``dead_heat_factor`` the share of the rest that is paid at the price when
the win is shared. So a stake ``S`` at price ``P`` returns

- won: ``S*v + S*(1-v)*d*P`` (``d`` = 1 without a dead heat);
- lost: ``S*v``.

That covers every case: a whole line that landed (``v = 1``: a push, the stake back), a
quarter line's half win (won, ``v = 0.5``: half the stake at the price, half returned)
and half loss (lost, ``v = 0.5``: half returned), a dead heat (won, ``d`` < 1). A
cancellation voids the bets placed within its window (``start_time`` inclusive,
``end_time`` exclusive, an open end unbounded): their stake comes back.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from shared.enums import SettlementResult
from shared.markets import OutcomeSettlement
from shared.trading.model import BetStatus

MONEY = Decimal("0.0001")  # ledger amounts: DECIMAL(18,4)
ONE = Decimal(1)
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """An amount as the ledger keeps it (4 places, half-even)."""
    return value.quantize(MONEY, rounding=ROUND_HALF_EVEN)


def settle_bet(stake: Decimal, price: Decimal, outcome: OutcomeSettlement) -> tuple[BetStatus, Decimal]:
    """The bet's status and payout under ``outcome``'s result."""
    void = outcome.void_factor
    if void >= ONE:
        return BetStatus.PUSH, money(stake)
    if outcome.result is SettlementResult.WON:
        share = outcome.dead_heat_factor if outcome.dead_heat_factor is not None else ONE
        payout = money(stake * void + stake * (ONE - void) * share * price)
        if void > 0:
            return BetStatus.HALF_WON, payout
        return (BetStatus.WON if share == ONE else BetStatus.DEAD_HEAT), payout
    payout = money(stake * void)
    return (BetStatus.HALF_LOST if void > 0 else BetStatus.LOST), payout


def within_window(placed_at: datetime, start: datetime | None, end: datetime | None) -> bool:
    """Whether a bet placed at ``placed_at`` falls in a cancellation's betting window."""
    return (start is None or placed_at >= start) and (end is None or placed_at < end)
