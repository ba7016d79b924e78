"""Ice hockey: Poisson goals over three periods, sudden-death overtime, shoot-out.

Model: expected regulation goals ``lambda = exp(log(BASE_GOALS) + attack - defence_opp
(+ HOME_ADVANTAGE at home))``; within each 20-minute period the intensity climbs from
0.9 to 1.1 of its mean, and the third period carries a little more than the first.
In the last two minutes of the third period a side trailing by one or two pulls its
goalie: its rate doubles and the leader's triples (empty-net goals); pricing leaves
that short window out. A game level after regulation plays a 5-minute 3-on-3
overtime (rate x 1.6, first goal wins), then a shoot-out of three rounds and sudden
death (conversion 0.32) whose winner gets one goal. Play-off games (``knockout``)
play 20-minute overtimes until someone scores.

Markets: 1x2 settles on regulation; moneyline, totals and the puck line on the final
score, where a game decided after regulation gets exactly one more goal. The goal
rate's profile, the shoot-out chain and the pricing are ``shared.pricing.ice_hockey``'s.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from feedgen.book import FinalResult, MarketLine, Outlook
from feedgen.sim.base import Moment, SportModel, live_body
from feedgen.sim.common import shootout
from shared.enums import EventStatus, Sport
from shared.model import Clock
from shared.pricing.ice_hockey import (
    OT_FACTOR,
    OT_LENGTH,
    PERIOD,
    PERIOD_FACTOR,
    SHOOTOUT_P,
    SHOOTOUT_ROUNDS,
    HockeyParams,
    HockeyState,
    hockey_lines,
    hockey_outlook,
    intensity,
)

BASE_GOALS = 2.95
HOME_ADVANTAGE = 0.08
INTERMISSION = 600
PLAYOFF_OT_FACTOR = 0.9
EMPTY_NET = 120  # seconds before the end of regulation when a trailing side pulls its goalie


class IceHockeyModel(SportModel):
    """Ice hockey with 1x2 (regulation), moneyline, totals and puck lines."""

    sport = Sport.ICE_HOCKEY
    tick_seconds = 60.0
    reopen_after = 40.0

    @property
    def rates(self) -> tuple[float, float]:
        """Expected regulation goals of home and away."""
        home, away = self.setup.home, self.setup.away
        base = math.log(BASE_GOALS)
        return (math.exp(base + home.attack - away.defence + HOME_ADVANTAGE),
                math.exp(base + away.attack - home.defence))

    def outlook(self, state: Any | None, *, jitter: float = 0.0) -> Outlook:
        """Regulation grid, then one decisive goal for a game tied after 60 minutes."""
        lam_home, lam_away = self.rates
        lam_home, lam_away = lam_home * math.exp(jitter), lam_away * math.exp(-jitter)
        return hockey_outlook(HockeyParams(lam_home, lam_away, knockout=self.setup.knockout),
                              state)

    def lines(self, outlook: Outlook) -> tuple[MarketLine, ...]:
        """Totals around the expected goals (one integer line) and three puck lines."""
        return hockey_lines(outlook)

    def result(self, state: Any) -> FinalResult:
        """Regulation for 1x2, final score (with the decisive goal) for the rest."""
        home, away = state.score
        regular = state.regular if state.regular is not None else (home, away)
        return FinalResult(winner="home" if home > away else "away", total=home + away,
                           margin=home - away, regular=regular)

    # -- the game ----------------------------------------------------------------------

    def moments(self) -> Iterator[Moment]:
        """Three periods with intermissions, then overtime and a shoot-out if level."""
        rng = self.rng
        lam_home, lam_away = self.rates
        periods: list[list[Any]] = []
        offset = 0.0
        for period in range(3):
            periods.append([f"p{period + 1}", 0, 0])
            yield from self._period(rng, periods, period, offset, lam_home, lam_away)
            offset += PERIOD
            if period < 2:
                yield self._moment(offset, periods, "break", HockeyState(period, PERIOD,
                                   _score(periods)), suspend="intermission", in_play=False,
                                   clock=Clock(seconds=(period + 1) * PERIOD, running=False))
                offset += INTERMISSION
        regular = _score(periods)
        overtime = 0
        while regular[0] == regular[1] and _score(periods) == regular:
            if (overtime and not self.setup.knockout) or overtime >= 9:
                break
            yield self._moment(offset, periods, "awaiting_ot", HockeyState(3 + overtime, 0.0,
                               regular), suspend="end_of_regulation" if not overtime else
                               "intermission", in_play=False)
            offset += INTERMISSION if self.setup.knockout else 120
            periods.append([f"ot{overtime + 1}", 0, 0])
            length = PERIOD if self.setup.knockout else OT_LENGTH
            yield from self._overtime(rng, periods, overtime, offset, length, lam_home, lam_away)
            offset += length
            overtime += 1
        score = _score(periods)
        if score[0] == score[1]:
            yield self._moment(offset, periods, "awaiting_so", HockeyState(-1, 0.0, score),
                               suspend="shootout", in_play=True)
            offset += 120
            periods.append(["so", 0, 0])
            kicks = shootout(rng, SHOOTOUT_P, SHOOTOUT_P, rounds=SHOOTOUT_ROUNDS)
            for n, (h, a) in enumerate(kicks):
                periods[-1][1:] = [h, a]
                yield self._moment(offset + 45 * n, periods, "so",
                                   HockeyState(-1, 0.0, score, (h, a, n + 1)), tick=True)
            offset += 45 * len(kicks)
            so_home, so_away = periods[-1][1], periods[-1][2]
            score = (score[0] + (so_home > so_away), score[1] + (so_away > so_home))
        final = HockeyState(len(periods), 0.0, score, regular=regular, ended=True)
        yield Moment(t=offset, state=final, in_play=False, suspend="end", final=True,
                     live=live_body(EventStatus.ENDED, None, _rows(periods), totals=score))

    def _moment(self, t: float, periods: list[list[Any]], name: str, state: HockeyState,
                *, clock: Clock | None = None, **flags: Any) -> Moment:
        totals = _score(periods)
        return Moment(t=t, state=state, live=live_body(EventStatus.LIVE, name, _rows(periods),
                                                       clock=clock, totals=totals), **flags)

    def _period(self, rng: random.Random, periods: list[list[Any]], period: int, offset: float,
                lam_home: float, lam_away: float) -> Iterator[Moment]:
        """One regulation period: ticks each minute and goals, with the empty net at the end."""
        per_second = 1 / (3 * PERIOD)
        bound = (lam_home + lam_away) * per_second * PERIOD_FACTOR[period] * 1.1 * 3
        name = f"p{period + 1}"
        events = [(float(s), "") for s in range(0, PERIOD, 60)]
        t = 0.0
        while True:
            t += rng.expovariate(bound)
            if t >= PERIOD:
                break
            home, away = _score(periods)
            rate = intensity(period, t) * per_second
            r_home, r_away = lam_home * rate, lam_away * rate
            if period == 2 and t >= PERIOD - EMPTY_NET and 0 < abs(home - away) <= 2:
                trailing_home = home < away
                r_home *= 2.0 if trailing_home else 3.0
                r_away *= 3.0 if trailing_home else 2.0
            u = rng.random() * bound
            if u < r_home + r_away:
                side = "home" if u < r_home else "away"
                periods[-1][1 if side == "home" else 2] += 1
                events.append((t, side))
            # Goals change the rates above, so ticks are merged only after the draw.
        score_at: list[tuple[float, str]] = sorted(events)
        running = [0, 0]
        for second, side in score_at:
            if side:
                running[0 if side == "home" else 1] += 1
            rows = [*_rows(periods[:-1]), (name, running[0], running[1])]
            totals = (sum(r[1] for r in rows), sum(r[2] for r in rows))
            yield Moment(t=offset + second, state=HockeyState(period, second, totals),
                         tick=not side, suspend="goal" if side else None,
                         live=live_body(EventStatus.LIVE, name, rows,
                                        clock=Clock(seconds=period * PERIOD + int(second))))

    def _overtime(self, rng: random.Random, periods: list[list[Any]], n: int, offset: float,
                  length: int, lam_home: float, lam_away: float) -> Iterator[Moment]:
        """Sudden death: ticks until the first goal or the end of the overtime."""
        factor = PLAYOFF_OT_FACTOR if self.setup.knockout else OT_FACTOR
        rate = (lam_home + lam_away) * factor / (3 * PERIOD)
        goal = rng.expovariate(rate)
        if n == 8 and goal >= length:
            goal = length - 1.0  # the rules know nine overtimes: the ninth must decide it
        name, start = f"ot{n + 1}", 3 * PERIOD + n * length
        score = _score(periods)
        for second in range(0, length, 60):
            if second > goal:
                break
            yield Moment(t=offset + second, state=HockeyState(3 + n, float(second), score),
                         tick=True, live=live_body(EventStatus.LIVE, name, _rows(periods),
                                                   clock=Clock(seconds=start + second)))
        if goal < length:
            periods[-1][1 if rng.random() < lam_home / (lam_home + lam_away) else 2] += 1
            yield Moment(t=offset + goal, state=HockeyState(3 + n, goal, _score(periods)),
                         suspend="goal", in_play=False,
                         live=live_body(EventStatus.LIVE, name, _rows(periods),
                                        clock=Clock(seconds=start + int(goal), running=False)))


def _rows(periods: list[list[Any]]) -> list[tuple[str, int, int]]:
    return [(str(p[0]), int(p[1]), int(p[2])) for p in periods]


def _score(periods: list[list[Any]]) -> tuple[int, int]:
    rows = [p for p in periods if p[0] != "so"]
    return sum(int(p[1]) for p in rows), sum(int(p[2]) for p in rows)
