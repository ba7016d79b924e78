"""Settling the markets a final score decides: 1X2, totals and Asian handicap.

The settlement vocabulary is the platform's (``shared.markets.OutcomeSettlement``):
``result`` won or lost, and ``void_factor``, the share of the stake returned.

Asian lines (``handicap|hcp=h`` is the home team's handicap; totals likewise):

* a half line (``-0.5``, ``2.5``) wins or loses whole;
* a whole line (``-1``, ``2``) landing exactly is a push: both sides lost with
  ``void_factor`` 1 (every stake returned);
* a quarter line (``-0.75``) is half the stake on each neighbouring line (``-0.5`` and
  ``-1``). When one half wins and the other pushes, the side is won with
  ``void_factor`` 0.5 (half won, half returned) and the other side lost with 0.5 (half
  lost, half returned); when both halves go the same way it settles whole.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from shared.enums import SettlementResult
from shared.markets import MarketSettlement, OutcomeSettlement

WON, LOST = SettlementResult.WON, SettlementResult.LOST
ZERO, HALF, ONE, QUARTER = Decimal(0), Decimal("0.5"), Decimal(1), Decimal("0.25")


def _parts(line: Decimal) -> tuple[Decimal, ...]:
    """The lines a stake is split over: one, or the two neighbours of a quarter line."""
    if (abs(line) * 4) % 2 == 1:  # .25 or .75 (abs: Decimal's % keeps the sign)
        return (line - QUARTER, line + QUARTER)
    return (line,)


def _line(margin: int, line: Decimal) -> tuple[OutcomeSettlement, OutcomeSettlement]:
    """Settle (for, against) a line: ``for`` wins when ``margin + part > 0`` on each part."""
    parts = _parts(line)
    score = [1 if margin + p > 0 else -1 if margin + p < 0 else 0 for p in parts]
    pushes = score.count(0)
    if pushes == len(parts):  # a whole line landed: every stake back
        return (OutcomeSettlement(outcome_id="for", result=LOST, void_factor=ONE),
                OutcomeSettlement(outcome_id="against", result=LOST, void_factor=ONE))
    wins = sum(score) > 0
    void = HALF if pushes else ZERO
    return (OutcomeSettlement(outcome_id="for", result=WON if wins else LOST, void_factor=void),
            OutcomeSettlement(outcome_id="against", result=LOST if wins else WON, void_factor=void))


def _named(key: str, pair: tuple[OutcomeSettlement, OutcomeSettlement],
           names: tuple[str, str]) -> MarketSettlement:
    return MarketSettlement(market_key=key, outcomes=tuple(
        o.model_copy(update={"outcome_id": name}) for o, name in zip(pair, names, strict=True)
    ))


# A season has a few dozen distinct scores and lines: every settlement is cached.
@lru_cache(maxsize=8192)
def settle_1x2(home: int, away: int) -> MarketSettlement:
    """Home, draw or away won; the others lost."""
    winner = "draw" if home == away else "home" if home > away else "away"
    return MarketSettlement(market_key="1x2", outcomes=tuple(
        OutcomeSettlement(outcome_id=o, result=WON if o == winner else LOST)
        for o in ("home", "draw", "away")
    ))


@lru_cache(maxsize=8192)
def settle_totals(home: int, away: int, total: Decimal, key: str) -> MarketSettlement:
    """Over/under ``total`` goals (Asian rules on whole and quarter lines)."""
    return _named(key, _line(home + away, -total), ("over", "under"))


@lru_cache(maxsize=8192)
def settle_handicap(home: int, away: int, hcp: Decimal, key: str) -> MarketSettlement:
    """Home/away with the home team's handicap ``hcp`` added to its goals."""
    return _named(key, _line(home - away, hcp), ("home", "away"))
