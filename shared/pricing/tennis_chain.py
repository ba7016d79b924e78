"""Tennis as a Markov chain: points -> games -> tie-breaks -> sets -> match (pure functions).

The only inputs are the two serve-point probabilities: ``p_home`` (home wins a point
on home's serve) and ``p_away`` (away wins a point on away's serve). Everything else
follows: hold probabilities, tie-breaks (7 points, win by two, serve changing after
the first point and then every two), sets with a tie-break at 6-6, best of 3 or 5.

Results are memoised per state: a match keeps its two probabilities for its whole
life, so in-play repricing after each point walks only the states still reachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shared.pricing.dist import Dist, shift

HOME, AWAY = "home", "away"


def other(side: str) -> str:
    """The opponent of ``side``."""
    return AWAY if side == HOME else HOME


@lru_cache(maxsize=65536)
def game_win(p: float, won: int = 0, lost: int = 0) -> float:
    """P(the server wins the game) from ``won``-``lost`` points, serve point prob ``p``."""
    q = 1 - p
    if won >= 4 and won - lost >= 2:
        return 1.0
    if lost >= 4 and lost - won >= 2:
        return 0.0
    if won >= 3 and lost >= 3:
        deuce = p * p / (p * p + q * q)
        if won == lost:
            return deuce
        return p + q * deuce if won > lost else p * deuce
    return p * game_win(p, won + 1, lost) + q * game_win(p, won, lost + 1)


def tiebreak_server(first: str, points_played: int) -> str:
    """Who serves the next tie-break point: the first player once, then two each."""
    return first if ((points_played + 1) // 2) % 2 == 0 else other(first)


@lru_cache(maxsize=65536)
def tiebreak_win(p_home: float, p_away: float, home: int, away: int, first: str) -> float:
    """P(home wins a 7-point tie-break) from ``home``-``away`` points."""
    if home >= 7 and home - away >= 2:
        return 1.0
    if away >= 7 and away - home >= 2:
        return 0.0
    if home >= 6 and away >= 6 and home == away:
        # From a tie every pair of points has one serve each: a geometric race.
        both_home = p_home * (1 - p_away)
        both_away = (1 - p_home) * p_away
        return both_home / (both_home + both_away)
    server = tiebreak_server(first, home + away)
    p_point = p_home if server == HOME else 1 - p_away
    return p_point * tiebreak_win(p_home, p_away, home + 1, away, first) + (
        1 - p_point
    ) * tiebreak_win(p_home, p_away, home, away + 1, first)


def hold_home(p_home: float, p_away: float, server: str) -> float:
    """P(home wins a game served by ``server``)."""
    return game_win(p_home) if server == HOME else 1 - game_win(p_away)


@lru_cache(maxsize=65536)
def _set_dist(
    p_home: float, p_away: float, home: int, away: int, server: str
) -> tuple[tuple[tuple[int, int], float], ...]:
    if (home >= 6 and home - away >= 2) or home == 7 or (away >= 6 and away - home >= 2) or (
        away == 7
    ):
        return (((home, away), 1.0),)
    if home == 6 and away == 6:
        won = tiebreak_win(p_home, p_away, 0, 0, server)
        return (((7, 6), won), ((6, 7), 1 - won))
    g = hold_home(p_home, p_away, server)
    out: dict[tuple[int, int], float] = {}
    for score, p in _set_dist(p_home, p_away, home + 1, away, other(server)):
        out[score] = out.get(score, 0.0) + g * p
    for score, p in _set_dist(p_home, p_away, home, away + 1, other(server)):
        out[score] = out.get(score, 0.0) + (1 - g) * p
    return tuple(out.items())


def set_dist(
    p_home: float, p_away: float, home: int = 0, away: int = 0, *, first_server: str = HOME,
    points: tuple[int, int] = (0, 0),
) -> dict[tuple[int, int], float]:
    """Distribution of the final games of a set now at ``home``-``away`` games.

    ``first_server`` served the set's first game (so serves every even-numbered one and
    the tie-break's first point); ``points`` are the current game's (or tie-break's)
    points won by home and away.
    """
    if home == 6 and away == 6:
        won = tiebreak_win(p_home, p_away, points[0], points[1], first_server)
        return {(7, 6): won, (6, 7): 1 - won}
    server = first_server if (home + away) % 2 == 0 else other(first_server)
    if points == (0, 0):
        return dict(_set_dist(p_home, p_away, home, away, server))
    if server == HOME:
        g = game_win(p_home, points[0], points[1])
    else:
        g = 1 - game_win(p_away, points[1], points[0])
    out: dict[tuple[int, int], float] = {}
    for weight, start in ((g, (home + 1, away)), (1 - g, (home, away + 1))):
        for score, p in _set_dist(p_home, p_away, *start, other(server)):
            out[score] = out.get(score, 0.0) + weight * p
    return out


def next_set_server(first_server: str, games: int) -> str:
    """The next set opens with the player who received in the last game (or tie-break)."""
    return other(first_server) if games % 2 == 1 else first_server


@dataclass(frozen=True)
class MatchOutlook:
    """Distributions of a match's end: winner, total games, game margin, set margin."""

    p_home: float
    total_games: Dist
    game_margin: Dist
    set_margin: Dist


def _mix(parts: list[tuple[float, MatchOutlook]]) -> MatchOutlook:
    total: Dist = {}
    margin: Dist = {}
    sets: Dist = {}
    p_home = 0.0
    for weight, part in parts:
        p_home += weight * part.p_home
        for target, source in ((total, part.total_games), (margin, part.game_margin),
                               (sets, part.set_margin)):
            for k, p in source.items():
                target[k] = target.get(k, 0.0) + weight * p
    return MatchOutlook(p_home, total, margin, sets)


def _after_set(
    p_home: float, p_away: float, best_of: int, sets: tuple[int, int], games: tuple[int, int],
    first_server: str,
) -> MatchOutlook:
    """The outlook once a set ended ``games``, shifted by that set's games."""
    home_sets = sets[0] + (games[0] > games[1])
    away_sets = sets[1] + (games[1] > games[0])
    need = best_of // 2 + 1
    if home_sets == need or away_sets == need:
        rest = MatchOutlook(float(home_sets == need), {0: 1.0}, {0: 1.0},
                            {home_sets - away_sets: 1.0})
    else:
        server = next_set_server(first_server, games[0] + games[1])
        rest = _future(p_home, p_away, best_of, home_sets, away_sets, server)
    return MatchOutlook(
        rest.p_home, shift(rest.total_games, games[0] + games[1]),
        shift(rest.game_margin, games[0] - games[1]), rest.set_margin,
    )


@lru_cache(maxsize=4096)
def _future(
    p_home: float, p_away: float, best_of: int, home_sets: int, away_sets: int, server: str
) -> MatchOutlook:
    """The outlook from the start of a set (games counted from here)."""
    parts = [
        (p, _after_set(p_home, p_away, best_of, (home_sets, away_sets), games, server))
        for games, p in _set_dist(p_home, p_away, 0, 0, server)
    ]
    return _mix(parts)


def match_outlook(
    p_home: float, p_away: float, *, best_of: int = 3, sets: tuple[int, int] = (0, 0),
    games: tuple[int, int] = (0, 0), points: tuple[int, int] = (0, 0),
    set_first_server: str = HOME, games_played: tuple[int, int] = (0, 0),
) -> MatchOutlook:
    """The match's outlook from any state.

    ``sets`` won so far, ``games`` of the set in play (first served by
    ``set_first_server``), ``points`` of the game in play, and ``games_played`` by each
    side in finished sets (so totals and margins describe the whole match).
    """
    current = set_dist(p_home, p_away, games[0], games[1], first_server=set_first_server,
                       points=points)
    outlook = _mix([
        (p, _after_set(p_home, p_away, best_of, sets, final, set_first_server))
        for final, p in current.items()
    ])
    done_total, done_margin = sum(games_played), games_played[0] - games_played[1]
    return MatchOutlook(
        outlook.p_home, shift(outlook.total_games, done_total),
        shift(outlook.game_margin, done_margin), outlook.set_margin,
    )
