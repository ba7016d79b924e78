"""Ice hockey: regulation goals, sudden-death overtime and the shoot-out.

Regulation: goals of each side are Poisson with a time profile (:func:`intensity`:
within each 20-minute period the rate climbs from 0.9 to 1.1 of its mean, and the later
periods carry a little more than the first); :class:`HockeyParams` holds the expected
regulation goals. A game level after 60 minutes plays a 5-minute 3-on-3 overtime (rate
x ``ot_factor``, first goal wins), then a shoot-out (``shootout_rounds`` rounds, then
sudden death, conversion ``shootout_p``) whose winner gets one goal; play-off games
(``knockout``) play overtime until a goal. The last two minutes' pulled goalies are
left out: a short window the feed generator's simulator has and pricing ignores.

Markets: 1x2 settles on regulation; moneyline, totals and the puck line on the final
score, where a game level after regulation gets exactly one more goal (total + 1,
margin ±1) — the decisive goal of overtime or the shoot-out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from shared.enums import EventStatus
from shared.model import LiveBody
from shared.pricing.grid import score_grid
from shared.pricing.lines import balanced_line
from shared.pricing.markets import MarketLine
from shared.pricing.outlook import Outlook

PERIOD = 1200
PERIOD_FACTOR = (0.94, 1.03, 1.03)
OT_LENGTH, OT_FACTOR = 300, 1.6
SHOOTOUT_P, SHOOTOUT_ROUNDS = 0.32, 3


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
class HockeyParams:
    """Expected regulation goals of each side, and how the game is decided when level."""

    lam_home: float
    lam_away: float
    knockout: bool = False  # play-offs: overtime until a goal, no shoot-out
    ot_factor: float = OT_FACTOR
    shootout_p: float = SHOOTOUT_P


@dataclass(frozen=True)
class HockeyState:
    """Period index (0-2 regulation, 3.. overtime, -1 shoot-out), second in it, goals.

    ``shootout`` is (home goals, away goals, attempts) of a shoot-out in progress.
    ``ended`` marks the final result, with ``regular`` the regulation score.
    """

    period: int
    second: float
    score: tuple[int, int]
    shootout: tuple[int, int, int] = (0, 0, 0)
    regular: tuple[int, int] | None = None
    ended: bool = False


def after_regulation(params: HockeyParams, left: float) -> float:
    """P(home wins a game level now, with ``left`` seconds of overtime to play)."""
    lam_home, lam_away = params.lam_home, params.lam_away
    share = lam_home / (lam_home + lam_away)
    if params.knockout:
        return share
    goal = 1 - math.exp(-(lam_home + lam_away) * params.ot_factor * left / (3 * PERIOD))
    return goal * share + (1 - goal) * 0.5


def decided(home: int, away: int, p_home: float) -> Outlook:
    """Regulation ended level at ``home``-``away``: one more goal decides the game."""
    return Outlook(winner=(p_home, 1 - p_home), total={home + away + 1: 1.0},
                   margin={home - away + 1: p_home, home - away - 1: 1 - p_home},
                   three_way=(0.0, 1.0, 0.0))


def final_outlook(score: tuple[int, int], regular: tuple[int, int]) -> Outlook:
    """The game is over: every market is certain."""
    home, away = score
    reg = regular[0] - regular[1]
    return Outlook(winner=(float(home > away), float(away > home)), total={home + away: 1.0},
                   margin={home - away: 1.0},
                   three_way=(float(reg > 0), float(reg == 0), float(reg < 0)))


def hockey_outlook(params: HockeyParams, state: HockeyState | None = None) -> Outlook:
    """Regulation grid, then one decisive goal for a game level after 60 minutes."""
    st = state if state is not None else HockeyState(0, 0.0, (0, 0))
    home, away = st.score
    if st.ended:
        return final_outlook(st.score, st.regular if st.regular is not None else st.score)
    if st.period < 0:  # shoot-out: regulation drawn, one goal to the winner
        return decided(home, away, shootout_home(*st.shootout, params.shootout_p))
    if st.period >= 3:
        left = max(0.0, OT_LENGTH - st.second) if not params.knockout else 1.0
        return decided(home, away, after_regulation(params, left))
    share = remaining_share(st.period, st.second)
    regulation = score_grid(params.lam_home * share, params.lam_away * share, home, away)
    p_ot = after_regulation(params, OT_LENGTH)
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


def hockey_lines(outlook: Outlook) -> tuple[MarketLine, ...]:
    """The generator's markets: totals around the expected goals and three puck lines."""
    main = balanced_line(outlook.total, positive=True)
    totals = sorted({t for t in (main - 1, main, main + 1, main - Decimal("0.5")) if t > 0})
    asian = -balanced_line(outlook.margin, Decimal("0.25"), Decimal(0))
    handicaps = sorted({Decimal("-1.5"), Decimal("1.5"), asian})
    return (MarketLine("1x2"), MarketLine("moneyline"),
            *(MarketLine("totals", t) for t in totals),
            *(MarketLine("handicap", h) for h in handicaps))


def hockey_state(live: LiveBody, *, knockout: bool = False) -> HockeyState | None:
    """The state of a canonical live body (None before the face-off).

    The feed gives a shoot-out's goals but not its attempts: the rounds are taken as
    complete (each side has shot as often as the better of them scored), an estimate.
    """
    periods = live.score.periods
    regulation = [p for p in periods if p.period in ("p1", "p2", "p3")]
    regular = (sum(p.home for p in regulation), sum(p.away for p in regulation))
    score = (live.score.home, live.score.away)
    if live.status in (EventStatus.ENDED, EventStatus.CLOSED):
        return HockeyState(len(periods), 0.0, score, regular=regular, ended=True)
    if live.status is EventStatus.NOT_STARTED or live.period is None:
        return None
    seconds = float(live.clock.seconds) if live.clock else 0.0
    name = live.period
    if name in ("p1", "p2", "p3"):
        index = int(name[1]) - 1
        return HockeyState(index, min(max(seconds - index * PERIOD, 0.0), PERIOD), score)
    if name == "break":
        return HockeyState(max(len(regulation) - 1, 0), float(PERIOD), score)
    overtimes = [p for p in periods if p.period.startswith("ot")]
    if name == "awaiting_ot":
        return HockeyState(3 + len(overtimes), 0.0, score)
    if name.startswith("ot"):
        n = int(name[2:]) - 1
        length = PERIOD if knockout else OT_LENGTH
        return HockeyState(3 + n, max(seconds - 3 * PERIOD - n * length, 0.0), score)
    shootout = next((p for p in periods if p.period == "so"), None)
    so_home, so_away = (shootout.home, shootout.away) if shootout else (0, 0)
    return HockeyState(-1, 0.0, score, (so_home, so_away, 2 * max(so_home, so_away)))
