"""Basketball: possession by possession, four 12-minute quarters, overtime when tied.

Model: each possession ends in a turnover (13 %), a shooting foul (7 %: two free
throws) or a shot: a three (39 % of shots) or a two, made with probability
``P3``/``P2`` plus the offence's edge ``q = offence - defence_opp (+ HOME_EDGE at
home)``; made twos are and-ones 2.5 % of the time; a miss is rebounded by the offence
26 % of the time and the possession goes on. Possessions last 6-22 s (a rebound adds
3-10 s), about 100 per team in 48 minutes. Overtimes of five minutes follow a tie.

Pricing uses the same possession model: :func:`possession_points` gives the exact
distribution of points per possession, hence its mean and variance, and the final
margin and total are normal over the possessions left (``shared.pricing.basketball``).
A run of 8 unanswered points suspends the markets (the other bench calls a time-out).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from feedgen.book import FinalResult, MarketLine, Outlook
from feedgen.sim.base import Moment, SportModel, live_body
from shared.enums import EventStatus, Sport
from shared.model import Clock
from shared.pricing.basketball import (
    OVERTIME,
    QUARTER,
    BasketballParams,
    BasketballState,
    basketball_lines,
    basketball_outlook,
)

TURNOVER, FOUL, THREE_SHARE = 0.13, 0.07, 0.39
P2, P3, FT, AND_ONE, OREB = 0.515, 0.36, 0.77, 0.025, 0.26
HOME_EDGE = 0.012
_REBOUND = (1 - TURNOVER - FOUL) * (THREE_SHARE * (1 - P3) + (1 - THREE_SHARE) * (1 - P2)) * OREB
# Seconds per possession: 6-22 s, plus 3-10 s for each offensive rebound (geometric).
MEAN_POSSESSION = 14.0 + _REBOUND / (1 - _REBOUND) * 6.5
BREAKS = {1: ("break", 120), 2: ("ht", 600), 3: ("break", 120)}
RUN = 8  # unanswered points that suspend the markets


@lru_cache(maxsize=4096)
def possession_points(edge: float) -> tuple[float, ...]:
    """P(0..4 points) of one possession for an offence with shooting ``edge``."""
    p2, p3 = P2 + edge, P3 + edge
    shot = 1 - TURNOVER - FOUL
    ft2 = [(1 - FT) ** 2, 2 * FT * (1 - FT), FT * FT]
    # One attempt: points scored, or a rebound that starts the possession again.
    attempt = [0.0] * 5
    attempt[0] += TURNOVER
    for k, p in enumerate(ft2):
        attempt[k] += FOUL * p
    attempt[3] += shot * THREE_SHARE * p3
    attempt[2] += shot * (1 - THREE_SHARE) * p2 * (1 - AND_ONE + AND_ONE * (1 - FT))
    attempt[3] += shot * (1 - THREE_SHARE) * p2 * AND_ONE * FT
    miss = shot * (THREE_SHARE * (1 - p3) + (1 - THREE_SHARE) * (1 - p2))
    attempt[0] += miss * (1 - OREB)
    again = miss * OREB
    return tuple(p / (1 - again) for p in attempt)


def moments_of(dist: tuple[float, ...]) -> tuple[float, float]:
    """Mean and variance of points per possession."""
    mean = sum(k * p for k, p in enumerate(dist))
    return mean, sum((k - mean) ** 2 * p for k, p in enumerate(dist))


class BasketballModel(SportModel):
    """Basketball with moneyline (incl. overtime), totals and point spreads."""

    sport = Sport.BASKETBALL
    tick_seconds = 60.0
    reopen_after = 30.0

    def edges(self, jitter: float = 0.0) -> tuple[float, float]:
        """Shooting edge of the home and the away offence."""
        home, away = self.setup.home, self.setup.away
        return (home.attack - away.defence + HOME_EDGE + jitter / 20,
                away.attack - home.defence - jitter / 20)

    def outlook(self, state: Any | None, *, jitter: float = 0.0) -> Outlook:
        """Normal margin and total over the possessions left; overtime on a tie."""
        mean_h, var_h = moments_of(possession_points(self.edges(jitter)[0]))
        mean_a, var_a = moments_of(possession_points(self.edges(jitter)[1]))
        params = BasketballParams(mean_h, var_h, mean_a, var_a, MEAN_POSSESSION)
        return basketball_outlook(params, state)

    def lines(self, outlook: Outlook) -> tuple[MarketLine, ...]:
        """Three totals 4 points apart, three spreads 3 points apart plus a whole-point one."""
        return basketball_lines(outlook)

    def result(self, state: Any) -> FinalResult:
        """Everything includes overtime."""
        home, away = state.score
        return FinalResult(winner="home" if home > away else "away", total=home + away,
                           margin=home - away)

    # -- the game ----------------------------------------------------------------------

    def moments(self) -> Iterator[Moment]:
        """Quarters of possessions, breaks, overtimes until someone leads."""
        rng = self.rng
        edges = self.edges()
        periods: list[list[Any]] = []
        offset, offence = 0.0, rng.choice((0, 1))
        run: list[int] = [0, -1]  # points in the current run, and who is on it
        n = 0
        while n < 4 or _score(periods)[0] == _score(periods)[1]:
            if n >= 13:
                break
            name = f"q{n + 1}" if n < 4 else f"ot{n - 3}"
            length = QUARTER if n < 4 else OVERTIME
            periods.append([name, 0, 0])
            yield from self._period(rng, periods, n, offset, length, edges, offence, run)
            offset += length
            offence = 1 - offence
            n += 1
            level = _score(periods)[0] == _score(periods)[1]
            if n < 4 or level:
                label, pause = BREAKS.get(n, ("awaiting_ot", 120))
                state = BasketballState(n - 1, float(length), _score(periods))
                yield Moment(t=offset, state=state, in_play=False, suspend=label,
                             live=live_body(EventStatus.LIVE, label, _rows(periods),
                                            clock=Clock(seconds=_elapsed(n - 1, length),
                                                        running=False)))
                offset += pause
        if _score(periods)[0] == _score(periods)[1]:
            periods[-1][1] += 1  # the last allowed overtime cannot end level: a late free throw
        state = BasketballState(n - 1, float(OVERTIME if n > 4 else QUARTER), _score(periods))
        yield Moment(t=offset, state=state, in_play=False, suspend="end", final=True,
                     live=live_body(EventStatus.ENDED, None, _rows(periods),
                                    clock=Clock(seconds=_elapsed(n - 1, QUARTER if n <= 4
                                                                 else OVERTIME),
                                                running=False)))

    def _period(self, rng: random.Random, periods: list[list[Any]], n: int, offset: float,
                length: int, edges: tuple[float, float], offence: int, run: list[int]) -> Iterator[
                    Moment]:
        """Possessions until the buzzer; a tick every minute, a moment per basket."""
        second, next_tick = 0.0, 0.0
        while True:
            duration = rng.uniform(6, 22)
            points = 0
            while True:
                points, rebound = _attempt(rng, edges[offence])
                if not rebound:
                    break
                duration += rng.uniform(3, 10)
            end = min(second + duration, float(length))
            while next_tick < end:  # clock ticks that fall before this possession ends
                yield self._moment(offset + next_tick, periods, n, next_tick, tick=True)
                next_tick += self.tick_seconds
            if end >= length:
                return  # the buzzer beats the shot
            second = end
            if points:
                periods[-1][1 + offence] += points
                if run[1] == offence:
                    run[0] += points
                else:
                    run[0], run[1] = points, offence
                burst = run[0] >= RUN
                if burst:
                    run[0] = 0
                yield self._moment(offset + second, periods, n, second,
                                   suspend="scoring_run" if burst else None)
            offence = 1 - offence

    def _moment(self, t: float, periods: list[list[Any]], n: int, second: float,
                **flags: Any) -> Moment:
        state = BasketballState(n, second, _score(periods))
        return Moment(t=t, state=state, live=live_body(
            EventStatus.LIVE, periods[-1][0], _rows(periods),
            clock=Clock(seconds=_elapsed(n, second))), **flags)


def _attempt(rng: random.Random, edge: float) -> tuple[int, bool]:
    """One try of a possession: (points, offensive rebound?)."""
    r = rng.random()
    if r < TURNOVER:
        return 0, False
    if r < TURNOVER + FOUL:
        return (rng.random() < FT) + (rng.random() < FT), False
    if rng.random() < THREE_SHARE:
        if rng.random() < P3 + edge:
            return 3, False
    elif rng.random() < P2 + edge:
        and_one = rng.random() < AND_ONE and rng.random() < FT
        return 2 + and_one, False
    return 0, rng.random() < OREB


def _elapsed(n: int, second: float) -> int:
    return int(min(n, 4) * QUARTER + max(0, n - 4) * OVERTIME + second)


def _rows(periods: list[list[Any]]) -> list[tuple[str, int, int]]:
    return [(str(p[0]), int(p[1]), int(p[2])) for p in periods]


def _score(periods: list[list[Any]]) -> tuple[int, int]:
    return sum(int(p[1]) for p in periods), sum(int(p[2]) for p in periods)
