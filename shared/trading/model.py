"""The paper-trading vocabulary: bet statuses, ledger entry kinds, strategy kinds, phases.

The values are what MySQL stores (``infra/mysql/migrations/0008_trading.sql`` mirrors
them, in this order; ``tests/unit/test_migrations_unit.py`` checks it).
"""

from __future__ import annotations

from enum import StrEnum


class BetStatus(StrEnum):
    """Where a bet stands. Every status but ``open`` is a settlement the feed can undo."""

    OPEN = "open"
    WON = "won"
    HALF_WON = "half_won"  # a share of the stake won, the rest returned (quarter line, half push)
    DEAD_HEAT = "dead_heat"  # won, paid on the dead-heat share of the stake
    PUSH = "push"  # the whole stake returned by the result (a whole line landed)
    HALF_LOST = "half_lost"  # a share of the stake lost, the rest returned
    LOST = "lost"
    VOID = "void"  # cancelled by the feed (placed within the cancellation's window)


class LedgerKind(StrEnum):
    """A bankroll ledger entry: money in, reserved for a bet, returned, or taken back."""

    DEPOSIT = "deposit"  # the strategy's starting bankroll
    STAKE = "stake"  # reserved when a bet is placed (negative)
    RETURN = "return"  # paid back when a bet settles or is voided (the payout, >= 0)
    REVERSAL = "reversal"  # a return taken back by a rollback or a corrected result (<= 0)


class StrategyKind(StrEnum):
    """How a strategy decides and stakes."""

    EXPECTED_VALUE = "expected_value"  # p x price - 1 >= threshold; a flat share of the bankroll
    KELLY = "kelly"  # fractional Kelly, capped


class BetPhase(StrEnum):
    """Whether a bet was placed before the start or in play."""

    PRE_MATCH = "pre_match"
    IN_PLAY = "in_play"


HITS = frozenset({BetStatus.WON, BetStatus.HALF_WON, BetStatus.DEAD_HEAT})
"""Settled with a gain on at least part of the stake."""

STAKE_BACK = frozenset({BetStatus.PUSH, BetStatus.VOID})
"""Settled with the whole stake returned: no risk was run, so no turnover."""
