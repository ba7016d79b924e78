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
score, where a game decided after regulation gets exactly one more goal.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from feedgen.book import FinalResult, MarketLine, Outlook
from feedgen.pricing import balanced_line, score_grid
from feedgen.sim.base import Moment, SportModel, live_body
from feedgen.sim.common import shootout
from shared.enums import EventStatus, Sport
from shared.model import Clock

BASE_GOALS = 2.95
HOME_ADVANTAGE = 0.08
PERIOD = 1200
INTERMISSION = 600
PERIOD_FACTOR = (0.94, 1.03, 1.03)
OT_LENGTH, OT_FACTOR = 300, 1.6
PLAYOFF_OT_FACTOR = 0.9
SHOOTOUT_P, SHOOTOUT_ROUNDS = 0.32, 3
EMPTY_NET = 120  # seconds before the end of regulation when a trailing side pulls its goalie


def intensity(period: int, second: float) -> float:
    """Relative regulation goal rate (mean one over 60 minutes)."""
    u = min(max(second / PERIOD, 0.0), 1.0)
    return PERIOD_FACTOR[period] * (0.9 + 0.2 * u)


def remaining_share(period: int, second: float) -> float:
    """Share of the 60-minute expected goals still to come in regulation."""
    share = 0.0
    for p in range(period, 3):
        x = min(second, PERIOD) if p == period else 0.0
        share += PERIOD_FACTOR[p] * (0.9 * (PERIOD - x) + 0.1 * (PERIOD * PERIOD - x * x) / PERIOD)
    return share / (3 * PERIOD)


@lru_cache(maxsize=4096)
def shootout_home(home: int, away: int, kicks: int, p: float = SHOOTOUT_P) -> float:
    """P(home wins a shoot-out) at ``home``-``away`` after ``kicks`` attempts (home first)."""
    home_kicks, away_kicks = (kicks + 1) // 2, kicks // 2
    rounds = SHOOTOUT_ROUNDS
    left_home, left_away = max(0, rounds - home_kicks), max(0, rounds - away_kicks)
    if home_kicks <= rounds and away_kicks <= rounds and (
        home > away + left_away or away > home + left_home
    ):
        return 1.0 if home > away else 0.0
    if home_kicks == away_kicks >= rounds:
        if home != away:
            return 1.0 if home > away else 0.0
        return 0.5  # equal shooters: sudden death is a coin with equal sides
    if home_kicks == away_kicks:
        return p * shootout_home(home + 1, away, kicks + 1, p) + (1 - p) * shootout_home(
            home, away, kicks + 1, p)
    return p * shootout_home(home, away + 1, kicks + 1, p) + (1 - p) * shootout_home(
        home, away, kicks + 1, p)


@dataclass(frozen=True)
class HockeyState:
    """Period index (0-2 regulation, 3.. overtime, -1 shoot-out), second, goals so far."""

    period: int
    second: float
    score: tuple[int, int]
    shootout: tuple[int, int, int] = (0, 0, 0)  # home goals, away goals, attempts


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

    def _after_regulation(self, lam_home: float, lam_away: float, left: float) -> float:
        """P(home wins a game tied now, with ``left`` seconds of overtime to play)."""
        share = lam_home / (lam_home + lam_away)
        if self.setup.knockout:
            return share
        goal = 1 - math.exp(-(lam_home + lam_away) * OT_FACTOR * left / (3 * PERIOD))
        return goal * share + (1 - goal) * 0.5

    def outlook(self, state: Any | None, *, jitter: float = 0.0) -> Outlook:
        """Regulation grid, then one decisive goal for a game tied after 60 minutes."""
        st: HockeyState = state if state is not None else HockeyState(0, 0.0, (0, 0))
        lam_home, lam_away = self.rates
        lam_home, lam_away = lam_home * math.exp(jitter), lam_away * math.exp(-jitter)
        home, away = st.score
        if st.period < 0:  # shoot-out: regulation drawn, one goal to the winner
            return _decided(home, away, shootout_home(*st.shootout))
        if st.period >= 3:
            left = max(0.0, OT_LENGTH - st.second) if not self.setup.knockout else 1.0
            return _decided(home, away, self._after_regulation(lam_home, lam_away, left))
        share = remaining_share(st.period, st.second)
        regulation = score_grid(lam_home * share, lam_away * share, home, away)
        p_ot = self._after_regulation(lam_home, lam_away, OT_LENGTH)
        # A level regulation score k-k ends (k+1)-k or k-(k+1): total + 1, margin +-1.
        total = regulation.total()
        for k, p in regulation.level().items():
            total[k] -= p
            total[k + 1] = total.get(k + 1, 0.0) + p
        margin = regulation.margin()
        tie = margin.pop(0, 0.0)
        margin[1] = margin.get(1, 0.0) + tie * p_ot
        margin[-1] = margin.get(-1, 0.0) + tie * (1 - p_ot)
        three = regulation.three_way()
        p_home = three[0] + three[1] * p_ot
        return Outlook(winner=(p_home, 1 - p_home), total=total, margin=margin, three_way=three)

    def lines(self, outlook: Outlook) -> tuple[MarketLine, ...]:
        """Totals around the expected goals (one integer line) and three puck lines."""
        main = balanced_line(outlook.total, positive=True)
        totals = sorted({t for t in (main - 1, main, main + 1, main - Decimal("0.5")) if t > 0})
        asian = -balanced_line(outlook.margin, Decimal("0.25"), Decimal(0))
        handicaps = sorted({Decimal("-1.5"), Decimal("1.5"), asian})
        return (MarketLine("1x2"), MarketLine("moneyline"),
                *(MarketLine("totals", t) for t in totals),
                *(MarketLine("handicap", h) for h in handicaps))

    def result(self, state: Any) -> FinalResult:
        """Regulation for 1x2, final score (with the decisive goal) for the rest."""
        home, away = state.score
        regular = state.regular if isinstance(state, _Final) else (home, away)
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
        final = _Final(len(periods), 0.0, score, regular=regular)
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


@dataclass(frozen=True)
class _Final(HockeyState):
    regular: tuple[int, int] = (0, 0)


def _decided(home: int, away: int, p_home: float) -> Outlook:
    """Regulation ended level at ``home``-``away``: one more goal decides the game."""
    return Outlook(winner=(p_home, 1 - p_home), total={home + away + 1: 1.0},
                   margin={home - away + 1: p_home, home - away - 1: 1 - p_home},
                   three_way=(0.0, 1.0, 0.0))


def _rows(periods: list[list[Any]]) -> list[tuple[str, int, int]]:
    return [(str(p[0]), int(p[1]), int(p[2])) for p in periods]


def _score(periods: list[list[Any]]) -> tuple[int, int]:
    rows = [p for p in periods if p[0] != "so"]
    return sum(int(p[1]) for p in rows), sum(int(p[2]) for p in rows)
