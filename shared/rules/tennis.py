"""Tennis: sets of games with tie-breaks at 6-6, points 0/15/30/40/A, best of 3 or 5."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from shared.enums import EventStatus, Sport
from shared.model import LiveBody, PeriodScore
from shared.rules.base import ENDED, MarketSpec, SportRules

TWO_WAY = ("home", "away")
GAME_POINTS = ("0", "15", "30", "40", "A")


def set_winner(s: PeriodScore) -> str | None:
    """'home' or 'away' when the set is complete, None while it is in progress."""
    high, low = max(s.home, s.away), min(s.home, s.away)
    complete = (high == 6 and high - low >= 2) or (high == 7 and low in (5, 6))
    if not complete:
        return None
    return "home" if s.home > s.away else "away"


def set_error(s: PeriodScore, last: bool) -> str | None:
    """Why a set's games (and tie-break points) are impossible, or None."""
    high, low = max(s.home, s.away), min(s.home, s.away)
    if high > 7 or (high == 7 and low < 5):
        return f"{s.period} {s.home}-{s.away} is not a possible set score"
    winner = set_winner(s)
    if winner is None and not last:
        return f"{s.period} {s.home}-{s.away} is unfinished but a later set exists"
    if s.tiebreak_home is None or s.tiebreak_away is None:
        return None
    if (high, low) not in ((6, 6), (7, 6)):
        return f"{s.period} has tie-break points but is {s.home}-{s.away}, not 6-6 or 7-6"
    tb_high, tb_low = max(s.tiebreak_home, s.tiebreak_away), min(s.tiebreak_home, s.tiebreak_away)
    tb_done = tb_high >= 7 and tb_high - tb_low >= 2
    if tb_done and tb_high - tb_low > 2 and tb_high > 7:
        return f"{s.period} tie-break {s.tiebreak_home}-{s.tiebreak_away} went on past its end"
    tb_home_won = s.tiebreak_home > s.tiebreak_away
    if winner is not None and (not tb_done or (winner == "home") != tb_home_won):
        return f"{s.period} {s.home}-{s.away} disagrees with its tie-break"
    if winner is None and tb_done:
        return f"{s.period} tie-break is won but the set is still 6-6"
    return None


class TennisRules(SportRules):
    """Score = sets won; periods set1..set5 carry games and tie-break points."""

    sport: ClassVar[Sport] = Sport.TENNIS
    periods: ClassVar[tuple[str, ...]] = ("set1", "set2", "set3", "set4", "set5")
    breaks: ClassVar[frozenset[str]] = frozenset({"break"})
    markets: ClassVar[Mapping[str, MarketSpec]] = {
        "moneyline": MarketSpec("moneyline", TWO_WAY, description="match winner"),
        "totals": MarketSpec("totals", ("over", "under"), ("total",), description="total games"),
        "handicap": MarketSpec("handicap", TWO_WAY, ("hcp",), description="game handicap"),
        "set_handicap": MarketSpec("set_handicap", TWO_WAY, ("hcp",)),
    }

    def totals(self, periods: Sequence[PeriodScore], status: EventStatus) -> tuple[int, int]:
        """Sets won by each side."""
        winners = [set_winner(s) for s in periods]
        return winners.count("home"), winners.count("away")

    def check_score_shape(self, body: LiveBody) -> list[str]:
        """Sets, the match end (first to 3 sets at most) and the current game's points."""
        sets = body.score.periods
        for index, s in enumerate(sets):
            error = set_error(s, last=index == len(sets) - 1)
            if error:
                return [error]
        home = away = 0
        for s in sets:
            if max(home, away) == 3:
                return [f"{s.period} played after the match was won"]
            winner = set_winner(s)
            home, away = home + (winner == "home"), away + (winner == "away")
        if body.status in ENDED and (max(home, away) < 2 or home == away):
            return [f"an ended tennis match needs a winner of 2 or 3 sets, not {home}-{away}"]
        return self._check_game(body)

    def _check_game(self, body: LiveBody) -> list[str]:
        game = body.game
        if game is None:
            return []
        current = body.score.periods[-1] if body.score.periods else None
        in_tiebreak = current is not None and (current.home, current.away) == (6, 6)
        if in_tiebreak:
            if not (game.home.isdigit() and game.away.isdigit()):
                return [f"tie-break points must be counts, not {game.home}-{game.away}"]
            return []
        if game.home not in GAME_POINTS or game.away not in GAME_POINTS:
            return [f"game points {game.home}-{game.away} are not 0/15/30/40/A"]
        if "A" in (game.home, game.away) and {game.home, game.away} != {"A", "40"}:
            return [f"advantage needs the other side on 40, not {game.home}-{game.away}"]
        return []
