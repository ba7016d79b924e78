"""Football: goals as two Poisson processes whose rate rises through each half.

Model (per match): expected goals over 90 minutes
``lambda_home = exp(log(BASE_GOALS) + attack_home - defence_away + HOME_ADVANTAGE)``
and ``lambda_away = exp(log(BASE_GOALS) + attack_away - defence_home)``. The intensity
at a moment of regular time is ``lambda / 5400 * intensity(s)``, where ``intensity``
averages one over 90 minutes: second halves carry 12 % more than first halves and
within a half the rate climbs linearly from 0.8 to 1.2 of its mean (tired legs, teams
chasing). Stoppage time plays at the end-of-half rate. Knock-out ties that are level
after 90 minutes go to extra time (flat rate) and a penalty shoot-out.

The goal rate's time profile and the pricing are ``shared.pricing.football``'s: every
market settles on the 90-minute score, so in-play prices come from the score grid of the
goals still expected in regular time (:func:`shared.pricing.grid.score_grid`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from feedgen.book import FinalResult, MarketLine, Outlook
from feedgen.sim.base import Moment, SportModel, live_body, thinned_times
from feedgen.sim.common import poisson_sample, shootout
from shared.enums import EventStatus, Sport
from shared.model import Clock
from shared.pricing.football import (
    HALF,
    HALF_FACTOR,
    FootballState,
    football_lines,
    intensity,
    outlook_from_grid,
    remaining_share,
)
from shared.pricing.grid import score_grid

BASE_GOALS = 1.35
HOME_ADVANTAGE = 0.22
HT_BREAK = 15 * 60


class FootballModel(SportModel):
    """Football with 1x2, double chance, draw no bet, BTTS, totals and Asian handicaps."""

    sport = Sport.FOOTBALL
    tick_seconds = 60.0
    reopen_after = 45.0

    @property
    def rates(self) -> tuple[float, float]:
        """Expected goals of home and away over 90 minutes."""
        home, away = self.setup.home, self.setup.away
        base = math.log(BASE_GOALS)
        return (
            math.exp(base + home.attack - away.defence + HOME_ADVANTAGE),
            math.exp(base + away.attack - home.defence),
        )

    def outlook(self, state: Any | None, *, jitter: float = 0.0) -> Outlook:
        """Poisson grid of the 90-minute score from the goals still expected."""
        st: FootballState = state if state is not None else FootballState(0, 0.0, (0, 0))
        lam_home, lam_away = self.rates
        lam_home, lam_away = lam_home * math.exp(jitter), lam_away * math.exp(-jitter)
        share = remaining_share(st.half, st.second, st.stoppage) if st.half < 2 else 0.0
        return outlook_from_grid(score_grid(lam_home * share, lam_away * share, *st.regular))

    def lines(self, outlook: Outlook) -> tuple[MarketLine, ...]:
        """Three half-goal totals, an integer total, three Asian handicaps."""
        return football_lines(outlook)

    def result(self, state: Any) -> FinalResult:
        """All markets settle on the 90-minute score."""
        home, away = state.regular
        return FinalResult(winner=None, total=home + away, margin=home - away,
                           regular=(home, away))

    # -- the match ---------------------------------------------------------------------

    def moments(self) -> Iterator[Moment]:
        """Kick-off, ticks, goals, half-time, full time (and extra time, penalties)."""
        rng = self.rng
        lam_home, lam_away = self.rates
        stoppage = (60.0 * (1 + poisson_sample(rng, 1.5)), 60.0 * (3 + poisson_sample(rng, 2.0)))
        periods: list[list[Any]] = []
        offset = 0.0
        state = FootballState(0, 0.0, (0, 0))
        for half in (0, 1):
            name = ("1h", "2h")[half]
            periods.append([name, 0, 0])
            length = HALF + stoppage[half]
            top = HALF_FACTOR[half] * 1.2
            goals = thinned_times(
                rng, (lam_home + lam_away) / (2 * HALF) * top, 0.0, length,
                lambda s, h=half, m=top: intensity(h, s) / m,
            )
            scorers = ["home" if rng.random() < lam_home / (lam_home + lam_away) else "away"
                       for _ in goals]
            events = sorted([(g, side) for g, side in zip(goals, scorers, strict=True)]
                            + [(float(s), "") for s in range(0, int(length), 60)])
            for second, side in events:
                known = (stoppage[0] if half or second >= HALF else None,
                         stoppage[1] if half and second >= HALF else None)
                if side:
                    periods[-1][1 if side == "home" else 2] += 1
                state = FootballState(half, second, _regular(periods), known)
                yield Moment(
                    t=offset + second, state=state, tick=not side,
                    suspend="goal" if side else None,
                    live=live_body(EventStatus.LIVE, name, _rows(periods),
                                   clock=_clock(half, second)),
                )
            offset += length
            if half == 0:
                yield Moment(t=offset, state=replace(state, second=length), in_play=False,
                             suspend="half_time",
                             live=live_body(EventStatus.LIVE, "ht", _rows(periods),
                                            clock=Clock(seconds=HALF, running=False)))
                offset += HT_BREAK
        state = FootballState(2, 0.0, _regular(periods), stoppage)
        if self.setup.knockout and state.regular[0] == state.regular[1]:
            yield from self._extra_time(periods, offset, state)
            return
        yield Moment(t=offset, state=state, in_play=False, suspend="full_time", final=True,
                     live=live_body(EventStatus.ENDED, None, _rows(periods),
                                    clock=Clock(seconds=2 * HALF, running=False)))

    def _extra_time(
        self, periods: list[list[Any]], offset: float, state: FootballState
    ) -> Iterator[Moment]:
        """Two 15-minute halves at the flat 90-minute rate, then penalties if still level."""
        rng = self.rng
        lam_home, lam_away = self.rates
        yield Moment(t=offset, state=state, in_play=False,
                     live=live_body(EventStatus.LIVE, "awaiting_et", _rows(periods),
                                    clock=Clock(seconds=2 * HALF, running=False)))
        offset += 300
        for n, name in enumerate(("et1", "et2")):
            periods.append([name, 0, 0])
            goals = thinned_times(rng, (lam_home + lam_away) / (2 * HALF), 0.0, 900.0,
                                  lambda _s: 1.0)
            events = sorted([(g, "goal") for g in goals] + [(0.0, ""), (450.0, "")])
            for second, what in events:
                if what:
                    periods[-1][1 if rng.random() < lam_home / (lam_home + lam_away) else 2] += 1
                yield Moment(t=offset + second, state=state, in_play=False,
                             live=live_body(EventStatus.LIVE, name, _rows(periods),
                                            clock=_clock(2 + n, second)))
            offset += 900
            if n == 0:
                yield Moment(t=offset, state=state, in_play=False,
                             live=live_body(EventStatus.LIVE, "et_ht", _rows(periods),
                                            clock=Clock(seconds=105 * 60, running=False)))
                offset += 60
        home, away = _goals(periods)
        if home == away:
            yield Moment(t=offset, state=state, in_play=False,
                         live=live_body(EventStatus.LIVE, "awaiting_pen", _rows(periods),
                                        clock=Clock(seconds=120 * 60, running=False)))
            offset += 180
            periods.append(["pen", 0, 0])
            kicks = shootout(rng, 0.75, 0.75, rounds=5)
            for n, (h, a) in enumerate(kicks):
                periods[-1][1:] = [h, a]
                yield Moment(t=offset + 60 * n, state=state, in_play=False,
                             live=live_body(EventStatus.LIVE, "pen", _rows(periods),
                                            totals=(home, away)))
            offset += 60 * len(kicks)
        yield Moment(t=offset, state=state, in_play=False, suspend="full_time", final=True,
                     live=live_body(EventStatus.ENDED, None, _rows(periods),
                                    totals=(home, away),
                                    clock=Clock(seconds=120 * 60, running=False)))


def _rows(periods: list[list[Any]]) -> list[tuple[str, int, int]]:
    return [(str(p[0]), int(p[1]), int(p[2])) for p in periods]


def _regular(periods: list[list[Any]]) -> tuple[int, int]:
    rows = [p for p in periods if p[0] in ("1h", "2h")]
    return sum(int(p[1]) for p in rows), sum(int(p[2]) for p in rows)


def _goals(periods: list[list[Any]]) -> tuple[int, int]:
    rows = [p for p in periods if p[0] != "pen"]
    return sum(int(p[1]) for p in rows), sum(int(p[2]) for p in rows)


def _clock(period: int, second: float) -> Clock:
    """The football clock: 45/90/105/120-minute convention, stoppage counted apart."""
    starts, lengths = (0, HALF, 2 * HALF, 2 * HALF + 900), (HALF, HALF, 900, 900)
    played = int(second)
    over = max(0, played - lengths[period])
    return Clock(seconds=starts[period] + min(played, lengths[period]),
                 stoppage_seconds=over or None)
