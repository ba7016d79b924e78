"""Football: two halves, extra time, penalties; 1X2, totals, Asian handicap, BTTS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from shared.enums import EventStatus, Sport
from shared.model import LiveBody, PeriodScore
from shared.rules.base import ENDED, MarketSpec, SportRules

THREE_WAY = ("home", "draw", "away")
TWO_WAY = ("home", "away")
OVER_UNDER = ("over", "under")


class FootballRules(SportRules):
    """Goals by half and extra time; a shoot-out decides but does not add to the score."""

    sport: ClassVar[Sport] = Sport.FOOTBALL
    periods: ClassVar[tuple[str, ...]] = ("1h", "2h", "et1", "et2", "pen")
    breaks: ClassVar[frozenset[str]] = frozenset({"ht", "awaiting_et", "et_ht", "awaiting_pen"})
    markets: ClassVar[Mapping[str, MarketSpec]] = {
        "1x2": MarketSpec("1x2", THREE_WAY, description="match result, 90 minutes"),
        "double_chance": MarketSpec(
            "double_chance", ("home_or_draw", "home_or_away", "draw_or_away"), winners=2
        ),
        "draw_no_bet": MarketSpec("draw_no_bet", TWO_WAY),
        "totals": MarketSpec("totals", OVER_UNDER, ("total",), description="total goals"),
        "handicap": MarketSpec("handicap", TWO_WAY, ("hcp",), description="Asian handicap"),
        "btts": MarketSpec("btts", ("yes", "no"), description="both teams to score"),
    }

    def totals(self, periods: Sequence[PeriodScore], status: EventStatus) -> tuple[int, int]:
        """Penalty shoot-out goals are not match goals."""
        played = [p for p in periods if p.period != "pen"]
        return sum(p.home for p in played), sum(p.away for p in played)

    def check_score_shape(self, body: LiveBody) -> list[str]:
        """A finished shoot-out has a winner."""
        errors = super().check_score_shape(body)
        pen = [p for p in body.score.periods if p.period == "pen"]
        if pen and body.status in ENDED and pen[0].home == pen[0].away:
            errors.append(f"an ended penalty shoot-out cannot be level ({pen[0].home}-{pen[0].away})")
        return errors
