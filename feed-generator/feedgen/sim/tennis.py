"""Tennis: point by point from two serve-win probabilities; games, tie-breaks, sets.

Model: ``p_home`` (home wins a point on its serve) is ``BASE_SERVE + serve_home -
return_away`` and ``p_away`` the mirror (``Side.attack`` is serve skill, ``defence``
return skill); best of five plays a little more serve-dominated. Sets have a
7-point tie-break at 6-6, the final set too. Points take 20-45 s, a game change 30 s,
a changeover 90 s, a set break two minutes.

Pricing is the exact Markov chain of :mod:`shared.pricing.tennis_chain` from the
current point, game and set. Markets stop at a break of serve and between sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from feedgen.book import FinalResult, MarketLine, Outlook
from feedgen.sim.base import Moment, SportModel
from shared.enums import EventStatus, Sport
from shared.model import GamePoints, LiveBody, PeriodScore, Score
from shared.pricing.tennis import TennisParams, tennis_lines, tennis_outlook
from shared.pricing.tennis import TennisState as ChainState
from shared.pricing.tennis_chain import HOME, next_set_server, other, tiebreak_server

BASE_SERVE = {3: 0.62, 5: 0.645}
CALLS = ("0", "15", "30", "40")


@dataclass(frozen=True)
class TennisState(ChainState):
    """The chain's state (sets, games, points, who opened the set, games in finished
    sets) plus the finished sets' scores the live bodies show."""

    finished: tuple[PeriodScore, ...] = field(default=(), compare=False)


def call(points: tuple[int, int], tiebreak: bool) -> GamePoints:
    """Points as the umpire calls them: 0/15/30/40/A, or tie-break counts."""
    home, away = points
    if tiebreak:
        return GamePoints(home=str(home), away=str(away))
    if home >= 3 and away >= 3:
        if home == away:
            return GamePoints(home="40", away="40")
        return GamePoints(home="A", away="40") if home > away else GamePoints(home="40", away="A")
    return GamePoints(home=CALLS[home], away=CALLS[away])


class TennisModel(SportModel):
    """Tennis with moneyline, total games, game handicap and set handicap."""

    sport = Sport.TENNIS
    tick_seconds = 0.0  # every point is a tick
    reopen_after = 60.0

    @property
    def best_of(self) -> int:
        """Sets in the match (3 or 5)."""
        return self.setup.best_of or 3

    def serve_probabilities(self, jitter: float = 0.0) -> tuple[float, float]:
        """P(home wins a point on home serve), P(away wins a point on away serve)."""
        base = BASE_SERVE[self.best_of]
        home, away = self.setup.home, self.setup.away
        p_home = base + home.attack - away.defence + jitter / 50
        p_away = base + away.attack - home.defence - jitter / 50
        return round(min(max(p_home, 0.45), 0.85), 4), round(min(max(p_away, 0.45), 0.85), 4)

    def outlook(self, state: Any | None, *, jitter: float = 0.0) -> Outlook:
        """The Markov chain from the current point."""
        p_home, p_away = self.serve_probabilities(jitter)
        return tennis_outlook(TennisParams(p_home, p_away, self.best_of), state)

    def lines(self, outlook: Outlook) -> tuple[MarketLine, ...]:
        """Total games and game handicaps two games apart; set handicaps of 1.5 (and 2.5)."""
        return tennis_lines(outlook, self.best_of)

    def result(self, state: Any) -> FinalResult:
        """Winner on sets; totals and handicaps on games; set handicap on sets."""
        st: TennisState = state
        home, away = st.games_played
        return FinalResult(winner="home" if st.sets[0] > st.sets[1] else "away",
                           total=home + away, margin=home - away,
                           set_margin=st.sets[0] - st.sets[1])

    # -- the match ---------------------------------------------------------------------

    def moments(self) -> Iterator[Moment]:
        """Every point, with breaks of serve and set ends suspending the markets."""
        rng = self.rng
        p_home, p_away = self.serve_probabilities()
        need = self.best_of // 2 + 1
        st = TennisState(set_first_server=rng.choice((HOME, "away")))
        t = 0.0
        yield self._moment(t, st, tick=True)
        while max(st.sets) < need:
            games, points = st.games, st.points
            tiebreak = games == (6, 6)
            if tiebreak:
                server = tiebreak_server(st.set_first_server, sum(points))
            else:
                server = st.set_first_server if sum(games) % 2 == 0 else other(st.set_first_server)
            p_point = p_home if server == HOME else 1 - p_away
            won = rng.random() < p_point
            points = (points[0] + won, points[1] + (not won))
            t += rng.uniform(20, 45)
            target = 7 if tiebreak else 4
            if max(points) < target or abs(points[0] - points[1]) < 2:
                st = TennisState(st.sets, games, points, st.set_first_server, st.games_played,
                                 st.finished)
                yield self._moment(t, st, tick=True)
                continue
            home_game = points[0] > points[1]
            games = (games[0] + home_game, games[1] + (not home_game))
            broken = not tiebreak and (server == HOME) != home_game
            if not _set_over(games):
                st = TennisState(st.sets, games, (0, 0), st.set_first_server, st.games_played,
                                 st.finished)
                yield self._moment(t, st, tick=True, suspend="break_of_serve" if broken else None)
                t += 90 if sum(games) % 2 == 1 else 30
                continue
            row = PeriodScore(period=f"set{len(st.finished) + 1}", home=games[0], away=games[1],
                              tiebreak_home=points[0] if tiebreak else None,
                              tiebreak_away=points[1] if tiebreak else None)
            sets = (st.sets[0] + home_game, st.sets[1] + (not home_game))
            played = (st.games_played[0] + games[0], st.games_played[1] + games[1])
            st = TennisState(sets, (0, 0), (0, 0), next_set_server(st.set_first_server,
                             sum(games)), played, (*st.finished, row))
            if max(sets) < need:
                yield self._moment(t, st, in_play=False, suspend="set_end", between_sets=True)
                t += 120
        yield Moment(t=t, state=st, in_play=False, suspend="end", final=True,
                     live=LiveBody(status=EventStatus.ENDED, score=Score(
                         home=st.sets[0], away=st.sets[1], periods=st.finished)))

    def _moment(self, t: float, st: TennisState, *, between_sets: bool = False,
                **flags: Any) -> Moment:
        if between_sets:
            live = LiveBody(status=EventStatus.LIVE, period="break",
                            score=Score(home=st.sets[0], away=st.sets[1], periods=st.finished))
            return Moment(t=t, state=st, live=live, **flags)
        tiebreak = st.games == (6, 6)
        current = PeriodScore(period=f"set{len(st.finished) + 1}", home=st.games[0],
                              away=st.games[1])
        if tiebreak:
            server = tiebreak_server(st.set_first_server, sum(st.points))
        else:
            server = st.set_first_server if sum(st.games) % 2 == 0 else other(
                st.set_first_server)
        live = LiveBody(
            status=EventStatus.LIVE, period=current.period, game=call(st.points, tiebreak),
            server="home" if server == HOME else "away",
            score=Score(home=st.sets[0], away=st.sets[1], periods=(*st.finished, current)),
        )
        return Moment(t=t, state=st, live=live, **flags)


def _set_over(games: tuple[int, int]) -> bool:
    high, low = max(games), min(games)
    return (high >= 6 and high - low >= 2) or high == 7
