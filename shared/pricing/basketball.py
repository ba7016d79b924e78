"""Basketball: normal margin and total over the possessions left, overtime on a tie.

:class:`BasketballParams` holds each offence's points per possession (mean and
variance) and the pace (mean seconds per possession, both teams taking turns). With
``n`` possessions each left, the final margin and total are the score now plus normal
laws of mean ``n·(μ_h ∓ μ_a)`` and variance ``n·(σ²_h + σ²_a)``, discretised on the
integers so that whole lines get their push mass (:func:`shared.pricing.dist.normal_dist`).
A tie at the end of regulation plays a five-minute overtime: its normal margin (a tie
there goes to the side the overtime favours) and its extra points are mixed in.

The feed generator's simulator takes the exact points-per-possession law of its own
possession model and prices through this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from shared.enums import EventStatus
from shared.model import LiveBody
from shared.pricing.dist import mix, normal_cdf, normal_dist, prob_above
from shared.pricing.lines import balanced_line
from shared.pricing.markets import MarketLine
from shared.pricing.outlook import Outlook

QUARTER, OVERTIME = 720, 300
# NBA-like pace: about 100 possessions per team in 48 minutes.
DEFAULT_POSSESSION_SECONDS = 14.4


@dataclass(frozen=True)
class BasketballParams:
    """Points per possession of each offence (mean, variance) and the pace."""

    mean_home: float
    var_home: float
    mean_away: float
    var_away: float
    possession_seconds: float = DEFAULT_POSSESSION_SECONDS

    @classmethod
    def from_points(cls, points_home: float, points_away: float, *, sd_margin: float = 12.0,
                    possession_seconds: float = DEFAULT_POSSESSION_SECONDS) -> BasketballParams:
        """Parameters from expected points over 48 minutes and the margin's spread."""
        n = 4 * QUARTER / (2 * possession_seconds)
        var = sd_margin * sd_margin / (2 * n)
        return cls(points_home / n, var, points_away / n, var, possession_seconds)


@dataclass(frozen=True)
class BasketballState:
    """Period index (0-3 quarters, 4.. overtimes), seconds played in it, score."""

    period: int
    second: float
    score: tuple[int, int]


def basketball_outlook(params: BasketballParams, state: BasketballState | None = None) -> Outlook:
    """Normal margin and total over the possessions left; overtime on a tie."""
    st = state if state is not None else BasketballState(0, 0.0, (0, 0))
    mean_h, var_h, mean_a, var_a = params.mean_home, params.var_home, params.mean_away, params.var_away
    pace = params.possession_seconds
    length = QUARTER if st.period < 4 else OVERTIME
    left = max(0.0, length - st.second) + max(0, 3 - st.period) * QUARTER
    n = left / (2 * pace)
    n_ot = OVERTIME / (2 * pace)
    home, away = st.score
    if n > 0:
        margin = normal_dist(home - away + n * (mean_h - mean_a), math.sqrt(n * (var_h + var_a)))
    else:  # the buzzer went: the margin is what it is
        margin = {home - away: 1.0}
    total_now = home + away + n * (mean_h + mean_a)
    sd = math.sqrt(n * (var_h + var_a))
    ot_mean, ot_sd = n_ot * (mean_h - mean_a), math.sqrt(n_ot * (var_h + var_a))
    p_ot_home = 1 - normal_cdf(0.0, ot_mean, ot_sd)
    tie = margin.get(0, 0.0)
    final_margin = {k: p for k, p in margin.items() if k != 0}
    for k, p in normal_dist(ot_mean, ot_sd).items():
        side = k if k != 0 else (1 if ot_mean >= 0 else -1)
        final_margin[side] = final_margin.get(side, 0.0) + tie * p
    now = normal_dist(total_now, sd) if n > 0 else {home + away: 1.0}
    total = mix(((1 - tie, now), (tie, normal_dist(total_now + n_ot * (mean_h + mean_a),
                                                    math.sqrt(sd * sd + ot_sd * ot_sd)))))
    p_home = prob_above(margin, 0) + tie * p_ot_home
    return Outlook(winner=(p_home, 1 - p_home), total=total, margin=final_margin)


def basketball_lines(outlook: Outlook) -> tuple[MarketLine, ...]:
    """The generator's markets: three totals 4 points apart, spreads 3 apart and a whole one."""
    main = balanced_line(outlook.total, positive=True)
    spread = -balanced_line(outlook.margin)
    return (
        MarketLine("moneyline"),
        *(MarketLine("totals", main + d) for d in (-4, 0, 4)),
        *(MarketLine("handicap", h) for h in sorted(
            {spread - 3, spread, spread + 3, spread + Decimal("0.5")})),
    )


def basketball_state(live: LiveBody) -> BasketballState | None:
    """The state of a canonical live body (None before tip-off); the clock is game time."""
    periods = live.score.periods
    score = (live.score.home, live.score.away)
    if live.status is EventStatus.NOT_STARTED or (live.period is None and not periods):
        return None
    index = max(len(periods) - 1, 0)
    length = QUARTER if index < 4 else OVERTIME
    ended = live.status in (EventStatus.ENDED, EventStatus.CLOSED)
    if ended or live.period in ("break", "ht", "awaiting_ot") or live.clock is None:
        return BasketballState(index, float(length), score)
    start = min(index, 4) * QUARTER + max(0, index - 4) * OVERTIME
    return BasketballState(index, min(max(float(live.clock.seconds) - start, 0.0), length), score)
