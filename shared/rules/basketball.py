"""Basketball: four quarters, overtime until someone leads; no draws anywhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from shared.enums import Sport
from shared.model import LiveBody
from shared.rules.base import ENDED, MarketSpec, SportRules, extra_periods_need_tie

TWO_WAY = ("home", "away")


class BasketballRules(SportRules):
    """Quarters q1-q4 then ot1, ot2...; the moneyline includes overtime so has no draw."""

    sport: ClassVar[Sport] = Sport.BASKETBALL
    periods: ClassVar[tuple[str, ...]] = ("q1", "q2", "q3", "q4", *(f"ot{n}" for n in range(1, 10)))
    breaks: ClassVar[frozenset[str]] = frozenset({"break", "ht", "awaiting_ot"})
    markets: ClassVar[Mapping[str, MarketSpec]] = {
        "moneyline": MarketSpec("moneyline", TWO_WAY, description="winner incl. overtime"),
        "totals": MarketSpec("totals", ("over", "under"), ("total",), description="total points"),
        "handicap": MarketSpec("handicap", TWO_WAY, ("hcp",), description="point spread"),
    }

    def check_score_shape(self, body: LiveBody) -> list[str]:
        """Overtime only from a tie; an ended game has a winner."""
        errors = super().check_score_shape(body)
        errors += extra_periods_need_tie(body.score.periods, 4, "game")
        if body.status in ENDED and body.score.home == body.score.away:
            errors.append(f"an ended basketball game cannot be tied ({body.score.home}-{body.score.away})")
        return errors
