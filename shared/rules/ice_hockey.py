"""Ice hockey: three periods, overtime, shoot-out; the shoot-out winner gets one goal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from shared.enums import EventStatus, Sport
from shared.model import LiveBody, PeriodScore
from shared.rules.base import ENDED, MarketSpec, SportRules, extra_periods_need_tie

TWO_WAY = ("home", "away")


class IceHockeyRules(SportRules):
    """p1-p3, ot1.. (regular season one, play-offs more), then ``so``."""

    sport: ClassVar[Sport] = Sport.ICE_HOCKEY
    periods: ClassVar[tuple[str, ...]] = ("p1", "p2", "p3", *(f"ot{n}" for n in range(1, 10)), "so")
    breaks: ClassVar[frozenset[str]] = frozenset({"break", "awaiting_ot", "awaiting_so"})
    markets: ClassVar[Mapping[str, MarketSpec]] = {
        "1x2": MarketSpec("1x2", ("home", "draw", "away"), description="regular time result"),
        "moneyline": MarketSpec("moneyline", TWO_WAY, description="winner incl. OT and shoot-out"),
        "totals": MarketSpec("totals", ("over", "under"), ("total",), description="total goals"),
        "handicap": MarketSpec("handicap", TWO_WAY, ("hcp",), description="puck line"),
    }

    def check_live(self, body: LiveBody) -> list[str]:
        """The shoot-out may follow regulation directly (no OT) in some leagues."""
        names = [p.period for p in body.score.periods]
        if "so" in names:
            # Allow p1,p2,p3,[ot1..],so: check order on the part before the shoot-out.
            before = body.score.periods[: names.index("so")]
            inner = body.model_copy(update={"score": body.score.model_copy(update={"periods": before})})
            errors = [e for e in super().check_live(inner) if "does not match" not in e]
            if names[-1] != "so" or len(before) < 3:
                errors.append("the shoot-out comes last, after at least three periods")
            return errors or self._check_totals(body)
        return super().check_live(body)

    def _check_totals(self, body: LiveBody) -> list[str]:
        home, away = self.totals(body.score.periods, body.status)
        if (home, away) != (body.score.home, body.score.away):
            return [f"score {body.score.home}-{body.score.away} does not match its periods ({home}-{away})"]
        return self.check_score_shape(body)

    def totals(self, periods: Sequence[PeriodScore], status: EventStatus) -> tuple[int, int]:
        """Goals of play; a decided shoot-out adds one goal to its winner at the end."""
        home = sum(p.home for p in periods if p.period != "so")
        away = sum(p.away for p in periods if p.period != "so")
        shootout = [p for p in periods if p.period == "so"]
        if shootout and status in ENDED:
            so = shootout[0]
            home, away = home + (so.home > so.away), away + (so.away > so.home)
        return home, away

    def check_score_shape(self, body: LiveBody) -> list[str]:
        """Overtime and shoot-out only from a tie; an ended game has a winner."""
        errors = super().check_score_shape(body)
        played = [p for p in body.score.periods if p.period != "so"]
        errors += extra_periods_need_tie(played, 3, "game")
        if any(p.period == "so" for p in body.score.periods):
            home, away = sum(p.home for p in played), sum(p.away for p in played)
            if home != away:
                errors.append(f"shoot-out played although the game was not tied ({home}-{away})")
        if body.status in ENDED and body.score.home == body.score.away:
            errors.append(f"an ended ice hockey game cannot be tied ({body.score.home}-{body.score.away})")
        return errors
