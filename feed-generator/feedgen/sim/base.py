"""What every sport simulator shares: the match set-up, moments, and the model interface.

A simulator plays one match with its own ``random.Random`` (never the global one) and
yields :class:`Moment` s in simulated time: the live state after something happened
(kick-off, a goal, a point, a clock tick, a break, the end) together with the state
its pricing needs. The same object prices the match from any such state, so the odds
come from the very model that produces the score.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from feedgen.book import FinalResult, MarketLine, Outlook
from shared.enums import EventStatus, Sport
from shared.model import Clock, Competition, LiveBody, PeriodScore, Score


@dataclass(frozen=True)
class Side:
    """A team or player: identity and ratings on a log scale (0 = average)."""

    id: str
    name: str
    attack: float = 0.0
    defence: float = 0.0


@dataclass(frozen=True)
class MatchSetup:
    """Who plays whom in what; fixed before the match is simulated."""

    sport: Sport
    event_id: str
    competition: Competition
    home: Side
    away: Side
    best_of: int | None = None  # tennis: 3 or 5
    knockout: bool = False  # football: extra time and penalties on a draw; hockey: play-offs


@dataclass(frozen=True)
class Moment:
    """The live state at one instant of simulated time, and what it means for markets.

    ``t`` is in simulated seconds since kick-off (breaks included). ``suspend`` names
    why markets stop now (a goal, a break, the end); ``in_play`` says whether markets
    may trade at this moment; ``tick`` marks a regular clock update, when odds are
    refreshed. ``state`` is the sport model's own snapshot for :meth:`SportModel.outlook`.
    """

    t: float
    live: LiveBody
    state: Any
    suspend: str | None = None
    in_play: bool = True
    tick: bool = False
    final: bool = False


class SportModel(ABC):
    """One match of one sport: a score process plus the pricing derived from it."""

    sport: ClassVar[Sport]
    # Simulated seconds between clock ticks (live update + odds refresh).
    tick_seconds: ClassVar[float] = 60.0
    # Simulated seconds markets stay suspended after a goal, run or break of serve.
    reopen_after: ClassVar[float] = 45.0

    def __init__(self, setup: MatchSetup, rng: random.Random) -> None:
        self.setup = setup
        self.rng = rng

    @abstractmethod
    def moments(self) -> Iterator[Moment]:
        """Play the match: moments from kick-off to the final whistle (``final=True``)."""

    @abstractmethod
    def outlook(self, state: Any | None, *, jitter: float = 0.0) -> Outlook:
        """The model's view of the end of the match from ``state`` (None: before kick-off).

        ``jitter`` shifts strength towards home (positive) or away: pre-match prices
        drift while news arrives, and settle on the true strengths at kick-off.
        """

    @abstractmethod
    def lines(self, outlook: Outlook) -> tuple[MarketLine, ...]:
        """The markets offered for this match, chosen from the pre-match outlook."""

    @abstractmethod
    def result(self, state: Any) -> FinalResult:
        """What the markets settle on, from the final moment's state."""


def live_body(
    status: EventStatus, period: str | None, periods: list[tuple[str, int, int]], *,
    clock: Clock | None = None, totals: tuple[int, int] | None = None, **extra: Any,
) -> LiveBody:
    """Build a live body; the score is the periods' sum unless ``totals`` says otherwise."""
    scores = tuple(PeriodScore(period=name, home=h, away=a) for name, h, a in periods)
    home, away = totals if totals is not None else (
        sum(p.home for p in scores), sum(p.away for p in scores)
    )
    return LiveBody(
        status=status, period=period, clock=clock,
        score=Score(home=home, away=away, periods=scores), **extra,
    )


def thinned_times(
    rng: random.Random, rate_max: float, start: float, end: float, accept: Any
) -> list[float]:
    """Event times of an inhomogeneous Poisson process on [start, end) by thinning.

    ``rate_max`` bounds the intensity (events per second); ``accept(t)`` is the ratio
    of the true intensity at ``t`` to that bound.
    """
    times: list[float] = []
    if rate_max <= 0:
        return times
    t = start
    while True:
        t += rng.expovariate(rate_max)
        if t >= end:
            return times
        if rng.random() < accept(t):
            times.append(t)
