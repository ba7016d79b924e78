"""Tennis: two serve-point probabilities into the Markov chain, from any point of a match.

:class:`TennisParams` holds ``p_home`` (home wins a point on its own serve) and
``p_away`` (away wins a point on its own serve) and the format (best of 3 or 5 sets, a
7-point tie-break at 6-6 in every set). :func:`tennis_outlook` walks the exact chain of
:mod:`shared.pricing.tennis_chain` from the current point, game and set: the winner,
total games, game margin and set margin that the moneyline, totals, game handicap and
set handicap settle on.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.enums import EventStatus
from shared.model import LiveBody
from shared.pricing.lines import balanced_line
from shared.pricing.markets import MarketLine
from shared.pricing.outlook import Outlook
from shared.pricing.tennis_chain import AWAY, HOME, match_outlook, other, tiebreak_server

_CALLS = {"0": 0, "15": 1, "30": 2, "40": 3}


@dataclass(frozen=True)
class TennisParams:
    """Serve-point probabilities of home and away, and the number of sets."""

    p_home: float
    p_away: float
    best_of: int = 3


@dataclass(frozen=True)
class TennisState:
    """Sets won, games of the set in play, points of the game (or tie-break) in play.

    ``set_first_server`` served the first game of the set in play; ``games_played`` are
    each side's games in finished sets (totals and game handicaps count the whole match).
    """

    sets: tuple[int, int] = (0, 0)
    games: tuple[int, int] = (0, 0)
    points: tuple[int, int] = (0, 0)
    set_first_server: str = HOME
    games_played: tuple[int, int] = (0, 0)


def tennis_outlook(params: TennisParams, state: TennisState | None = None) -> Outlook:
    """The Markov chain from the current point; a finished match is certain."""
    st = state if state is not None else TennisState()
    need = params.best_of // 2 + 1
    if max(st.sets) >= need:
        home, away = st.games_played
        return Outlook(winner=(float(st.sets[0] > st.sets[1]), float(st.sets[1] > st.sets[0])),
                       total={home + away: 1.0}, margin={home - away: 1.0},
                       set_margin={st.sets[0] - st.sets[1]: 1.0})
    view = match_outlook(params.p_home, params.p_away, best_of=params.best_of, sets=st.sets,
                         games=st.games, points=st.points, set_first_server=st.set_first_server,
                         games_played=st.games_played)
    return Outlook(winner=(view.p_home, 1 - view.p_home), total=view.total_games,
                   margin=view.game_margin, set_margin=view.set_margin)


def tennis_lines(outlook: Outlook, best_of: int = 3) -> tuple[MarketLine, ...]:
    """The generator's markets: games totals and handicaps two apart, set handicaps of 1.5 (2.5)."""
    main = balanced_line(outlook.total, positive=True)
    spread = -balanced_line(outlook.margin)
    sets: tuple[Decimal, ...] = (Decimal("-1.5"), Decimal("1.5"))
    if best_of == 5:
        sets += (Decimal("-2.5"), Decimal("2.5"))
    return (
        MarketLine("moneyline"),
        *(MarketLine("totals", main + d) for d in (-2, 0, 2) if main + d > 0),
        *(MarketLine("handicap", spread + d) for d in (-2, 0, 2)),
        *(MarketLine("set_handicap", s) for s in sets),
    )


def _points(home: str, away: str, tiebreak: bool) -> tuple[int, int]:
    if tiebreak:
        return int(home), int(away)
    if "A" in (home, away):
        return (4, 3) if home == "A" else (3, 4)
    return _CALLS[home], _CALLS[away]


def _complete(home: int, away: int) -> bool:
    high, low = max(home, away), min(home, away)
    return (high == 6 and high - low >= 2) or (high == 7 and low in (5, 6))


def tennis_state(live: LiveBody) -> TennisState | None:
    """The state of a canonical live body (None before the first point).

    The server of the point in play tells who opened the set; where the feed names no
    server (between sets), home is taken to open the next set.
    """
    periods = live.score.periods
    if live.status is EventStatus.NOT_STARTED or not periods:
        return None
    done = [p for p in periods if _complete(p.home, p.away)]
    current = periods[-1] if not _complete(periods[-1].home, periods[-1].away) else None
    sets = (sum(p.home > p.away for p in done), sum(p.away > p.home for p in done))
    played = (sum(p.home for p in done), sum(p.away for p in done))
    games = (current.home, current.away) if current else (0, 0)
    tiebreak = games == (6, 6)
    points = _points(live.game.home, live.game.away, tiebreak) if live.game else (0, 0)
    server = live.server or HOME
    if tiebreak:
        first = HOME if tiebreak_server(HOME, sum(points)) == server else AWAY
    else:
        first = server if sum(games) % 2 == 0 else other(server)
    return TennisState(sets, games, points, first, played)
