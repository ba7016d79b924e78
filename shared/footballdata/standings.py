"""A league table from results: points (3 a win, 1 a draw), goal difference, form.

Ties on points are broken as the division rules (``names.Division.tiebreak``):

* ``goal_difference`` (England, Germany, France...): goal difference, then goals scored;
* ``head_to_head`` (Spain, Italy): among the clubs level on points, the points and
  then the goal difference of the games between them, when they have all been played
  (home and away); then goal difference and goals scored overall.

Clubs still level are ordered by id, so the table is the same on every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

FORM_LENGTH = 5


@dataclass(frozen=True, slots=True)
class Result:
    """One finished match."""

    start_time: datetime
    home_id: str
    away_id: str
    home_goals: int
    away_goals: int


@dataclass(slots=True)
class Standing:
    """One club's line; ``form`` is its last results, oldest first (``WDLWW``)."""

    competitor_id: str
    position: int = 0
    played: int = 0
    won: int = 0
    drawn: int = 0
    lost: int = 0
    goals_for: int = 0
    goals_against: int = 0
    results: list[str] = field(default_factory=list)

    @property
    def points(self) -> int:
        """Three a win, one a draw."""
        return 3 * self.won + self.drawn

    @property
    def goal_difference(self) -> int:
        """Goals for minus goals against."""
        return self.goals_for - self.goals_against

    @property
    def form(self) -> str:
        """The last five results, oldest first."""
        return "".join(self.results[-FORM_LENGTH:])

    def add(self, scored: int, conceded: int) -> None:
        """Count one match."""
        self.played += 1
        self.goals_for += scored
        self.goals_against += conceded
        if scored > conceded:
            self.won += 1
            self.results.append("W")
        elif scored == conceded:
            self.drawn += 1
            self.results.append("D")
        else:
            self.lost += 1
            self.results.append("L")


def _tally(results: Iterable[Result]) -> dict[str, Standing]:
    table: dict[str, Standing] = {}
    for r in sorted(results, key=lambda r: (r.start_time, r.home_id)):
        table.setdefault(r.home_id, Standing(r.home_id)).add(r.home_goals, r.away_goals)
        table.setdefault(r.away_id, Standing(r.away_id)).add(r.away_goals, r.home_goals)
    return table


def league_table(results: Sequence[Result], tiebreak: str = "goal_difference") -> list[Standing]:
    """Every club of ``results`` in table order, positions filled in."""
    table = _tally(results)
    by_points: dict[int, list[Standing]] = {}
    for s in table.values():
        by_points.setdefault(s.points, []).append(s)
    ordered: list[Standing] = []
    for points in sorted(by_points, reverse=True):
        group = by_points[points]
        ordered.extend(_order_level(group, results) if tiebreak == "head_to_head" and len(group) > 1
                       else sorted(group, key=_overall))
    for position, s in enumerate(ordered, 1):
        s.position = position
    return ordered


def _overall(s: Standing) -> tuple[int, int, str]:
    return (-s.goal_difference, -s.goals_for, s.competitor_id)


def _order_level(group: list[Standing], results: Sequence[Result]) -> list[Standing]:
    """Clubs level on points, by the games between them when all were played."""
    ids = {s.competitor_id for s in group}
    between = [r for r in results if r.home_id in ids and r.away_id in ids]
    pairs = {(r.home_id, r.away_id) for r in between}
    if len(pairs) < len(ids) * (len(ids) - 1):
        return sorted(group, key=_overall)
    mini = _tally(between)
    return sorted(group, key=lambda s: (-mini[s.competitor_id].points,
                                        -mini[s.competitor_id].goal_difference, *_overall(s)))
