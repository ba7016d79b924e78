"""The one entry point: a sport's model parameters (and the live state) in, every market out.

::

    params = FootballParams(lam_home=1.6, lam_away=1.1, rho=-0.05)
    prices = price_event(params)                       # pre-match, the generator's lines
    state = state_from_live(Sport.FOOTBALL, live_body)  # in play, from a canonical live body
    prices = price_event(params, state, lines)          # {"totals|total=2.5": MarketPrice, ...}

The answer has a :class:`~shared.pricing.markets.MarketPrice` for every market of
``lines``, keyed by canonical market key, its outcomes named as ``shared.rules`` names
them. Without ``lines``, the lines the feed generator offers for such a match are
chosen from the pre-match outlook (so they stay the same all match long); a live
service should choose them once per event and pass them in, which also spares a second
outlook per update.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from shared.enums import Sport
from shared.model import LiveBody
from shared.pricing.basketball import (
    BasketballParams,
    BasketballState,
    basketball_lines,
    basketball_outlook,
    basketball_state,
)
from shared.pricing.football import (
    FootballParams,
    FootballState,
    football_lines,
    football_outlook,
    football_state,
)
from shared.pricing.ice_hockey import (
    HockeyParams,
    HockeyState,
    hockey_lines,
    hockey_outlook,
    hockey_state,
)
from shared.pricing.markets import MarketLine, MarketPrice, price_markets
from shared.pricing.outlook import Outlook
from shared.pricing.tennis import TennisParams, TennisState, tennis_lines, tennis_outlook, tennis_state

SportParams = FootballParams | HockeyParams | BasketballParams | TennisParams
SportState = FootballState | HockeyState | BasketballState | TennisState
_S = TypeVar("_S", FootballState, HockeyState, BasketballState, TennisState)


def sport_of(params: SportParams) -> Sport:
    """The sport a parameter set belongs to."""
    if isinstance(params, FootballParams):
        return Sport.FOOTBALL
    if isinstance(params, HockeyParams):
        return Sport.ICE_HOCKEY
    if isinstance(params, BasketballParams):
        return Sport.BASKETBALL
    return Sport.TENNIS


def _as(state: SportState | None, kind: type[_S]) -> _S | None:
    """``state`` as the sport's own state type (a state of another sport is a bug)."""
    if state is not None and not isinstance(state, kind):
        raise TypeError(f"a {kind.__name__} was expected, not {type(state).__name__}")
    return state


def event_outlook(params: SportParams, state: SportState | None = None) -> Outlook:
    """The sport's outlook from ``state`` (None: before the start)."""
    if isinstance(params, FootballParams):
        return football_outlook(params, _as(state, FootballState))
    if isinstance(params, HockeyParams):
        return hockey_outlook(params, _as(state, HockeyState))
    if isinstance(params, BasketballParams):
        return basketball_outlook(params, _as(state, BasketballState))
    return tennis_outlook(params, _as(state, TennisState))


def offered_lines(params: SportParams, prematch: Outlook | None = None) -> tuple[MarketLine, ...]:
    """The markets the feed generator offers for such a match, chosen before the start.

    Every market type of the sport's rules is among them: the plain ones once, totals
    and handicaps around the balanced line.
    """
    outlook = prematch if prematch is not None else event_outlook(params)
    if isinstance(params, FootballParams):
        return football_lines(outlook)
    if isinstance(params, HockeyParams):
        return hockey_lines(outlook)
    if isinstance(params, BasketballParams):
        return basketball_lines(outlook)
    return tennis_lines(outlook, params.best_of)


def price_event(
    params: SportParams, state: SportState | None = None,
    lines: Sequence[MarketLine] | None = None,
) -> dict[str, MarketPrice]:
    """Fair probabilities of every market of ``lines`` (default :func:`offered_lines`)."""
    outlook = event_outlook(params, state)
    if lines is None:
        lines = offered_lines(params, outlook if state is None else None)
    return price_markets(sport_of(params), outlook, lines)


def state_from_live(sport: Sport, live: LiveBody, *, knockout: bool = False) -> SportState | None:
    """The model state of a canonical live body (None before the start).

    ``knockout`` says an ice hockey game plays 20-minute overtimes (play-offs).
    """
    if sport is Sport.FOOTBALL:
        return football_state(live)
    if sport is Sport.ICE_HOCKEY:
        return hockey_state(live, knockout=knockout)
    if sport is Sport.BASKETBALL:
        return basketball_state(live)
    return tennis_state(live)
