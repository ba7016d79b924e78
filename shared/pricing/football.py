"""Football: the score grid of the goals still expected, pre-match and in play.

Model: goals of each side are Poisson processes whose intensity follows a fixed time
profile (:func:`intensity`): second halves carry 12 % more than first halves and within
a half the rate climbs linearly from 0.8 to 1.2 of its mean (tired legs, teams
chasing); stoppage time plays at the end-of-half rate. It is the feed generator's own
goal process (its simulator imports it from here), and close to real football's: in
the Premier League about 7 % of goals come in second-half stoppage time, as here.

:class:`FootballParams` holds a match's expected goals (stoppage included, as a model
fitted on results gives them: :mod:`shared.pricing.football_fit`) and the Dixon-Coles
``rho``. In play, the goals still to come are those expected over the share of the
profile that is left (:func:`remaining_fraction`), added to the score: every market
(1x2, double chance, draw no bet, both teams to score, totals, Asian handicaps,
correct score) settles on the 90-minute score and reads off that one grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.enums import EventStatus
from shared.model import LiveBody
from shared.pricing.grid import ScoreGrid, score_grid
from shared.pricing.lines import balanced_line
from shared.pricing.markets import MarketLine
from shared.pricing.outlook import Outlook

HALF = 45 * 60
HALF_FACTOR = (0.88, 1.12)
EXPECTED_STOPPAGE = (150.0, 300.0)  # seconds, before the fourth official shows the board
# Once the expected stoppage has run out and the board is not known, at least this much
# play is still expected: the whistle has not gone, so the half is not over.
MIN_STOPPAGE_LEFT = 60.0
REGULAR_PERIODS = ("1h", "2h")


def intensity(half: int, second: float) -> float:
    """Relative goal rate in ``half`` (0, 1) at ``second`` of it; stoppage plays at 1.2."""
    u = min(max(second / HALF, 0.0), 1.0)
    return HALF_FACTOR[half] * (0.8 + 0.4 * u)


def remaining_share(half: int, second: float, stoppage: tuple[float | None, float | None]) -> float:
    """Expected goals still to come, in units of a 90-minute rate (stoppage included).

    ``stoppage`` is each half's added time in seconds when known (the board is up),
    else None: the expected added time is used. At kick-off this is :data:`KICK_OFF_SHARE`
    (a little over one: stoppage time adds goals to the 90 minutes).
    """
    share = 0.0
    for h in range(half, 2):
        start = second if h == half else 0.0
        x = min(start, HALF)
        # Integral of intensity over [x, HALF] in closed form.
        share += HALF_FACTOR[h] * (0.8 * (HALF - x) + 0.2 * (HALF * HALF - x * x) / HALF)
        known = stoppage[h]
        played = max(0.0, start - HALF)
        if known is not None:
            left = max(0.0, known - played)
        elif played > 0:
            left = max(EXPECTED_STOPPAGE[h] - played, MIN_STOPPAGE_LEFT)
        else:
            left = EXPECTED_STOPPAGE[h]
        share += HALF_FACTOR[h] * 1.2 * left
    return share / (2 * HALF)


KICK_OFF_SHARE = remaining_share(0, 0.0, (None, None))


@dataclass(frozen=True)
class FootballState:
    """Where a match is: half (0, 1; 2 once regular time is over), second in it, goals.

    ``second`` counts from the half's kick-off, stoppage included (a second half at
    47:30 of it in stoppage is ``half=1, second=2850``); ``regular`` is the score of
    the two halves (extra time and penalties settle nothing here).
    """

    half: int
    second: float
    regular: tuple[int, int]
    stoppage: tuple[float | None, float | None] = (None, None)


@dataclass(frozen=True)
class FootballParams:
    """A match's expected goals (whole match, stoppage included) and Dixon-Coles ``rho``."""

    lam_home: float
    lam_away: float
    rho: float = 0.0


def remaining_fraction(state: FootballState | None) -> float:
    """Share of the match's expected goals still to come (1 before kick-off, 0 at the end)."""
    if state is None:
        return 1.0
    if state.half >= 2:
        return 0.0
    return remaining_share(state.half, state.second, state.stoppage) / KICK_OFF_SHARE


def outlook_from_grid(grid: ScoreGrid) -> Outlook:
    """Every 90-minute market's view of a score grid."""
    three = grid.three_way()
    return Outlook(winner=(three[0], three[2]), total=grid.total(), margin=grid.margin(),
                   three_way=three, btts=grid.both_score())


def football_grid(params: FootballParams, state: FootballState | None = None) -> ScoreGrid:
    """The grid of the 90-minute score from ``state`` (None: before kick-off)."""
    share = remaining_fraction(state)
    home, away = state.regular if state is not None else (0, 0)
    return score_grid(params.lam_home * share, params.lam_away * share, home, away, params.rho)


def football_outlook(params: FootballParams, state: FootballState | None = None) -> Outlook:
    """The 90-minute outlook from ``state`` (None: before kick-off)."""
    return outlook_from_grid(football_grid(params, state))


def correct_score(params: FootballParams, state: FootballState | None = None,
                  top: int = 6) -> dict[str, float]:
    """P(each 90-minute score ``"h-a"`` up to ``top`` goals a side), ``"other"`` for the rest.

    No market type of ``shared.rules`` carries it yet, so it is not in
    :func:`shared.pricing.event.price_event`'s answer.
    """
    return football_grid(params, state).correct_score(top)


def football_lines(outlook: Outlook) -> tuple[MarketLine, ...]:
    """The generator's markets: three half-goal totals and a whole one, three Asian handicaps."""
    main = balanced_line(outlook.total, positive=True)
    totals = sorted({t for t in (main - 1, main, main + 1, main - Decimal("0.5")) if t > 0})
    hcp = -balanced_line(outlook.margin, Decimal("0.25"), Decimal(0))
    handicaps = sorted({hcp - Decimal("0.5"), hcp, hcp + Decimal("0.5")})
    return (
        MarketLine("1x2"), MarketLine("double_chance"), MarketLine("draw_no_bet"),
        MarketLine("btts"), *(MarketLine("totals", t) for t in totals),
        *(MarketLine("handicap", h) for h in handicaps),
    )


def football_state(live: LiveBody) -> FootballState | None:
    """The state of a canonical live body (None before kick-off).

    The clock follows the 45/90 convention with stoppage counted apart; the added time
    announced is not in the feed, so it is expected (and at least a minute is left
    while the half goes on past it).
    """
    regular = (sum(p.home for p in live.score.periods if p.period in REGULAR_PERIODS),
               sum(p.away for p in live.score.periods if p.period in REGULAR_PERIODS))
    if live.status in (EventStatus.ENDED, EventStatus.CLOSED):
        return FootballState(2, 0.0, regular)
    if live.status is EventStatus.NOT_STARTED or live.period is None:
        return None
    clock = live.clock
    extra = float(clock.stoppage_seconds or 0) if clock else 0.0
    if live.period == "1h":
        played = min(float(clock.seconds), HALF) if clock else 0.0
        return FootballState(0, played + extra, regular)
    if live.period == "ht":
        return FootballState(1, 0.0, regular)
    if live.period == "2h":
        played = min(max(float(clock.seconds) - HALF, 0.0), HALF) if clock else 0.0
        return FootballState(1, played + extra, regular)
    return FootballState(2, 0.0, regular)  # extra time, penalties and their breaks
