"""A synthetic league written as a football-data.co.uk file, for walk-forward and fitting tests.

Six clubs of known strength play a double round robin, one round a week on Saturdays;
each match's prices are the true model's probabilities with a 5 % margin (Pinnacle's
opening and closing 1X2 and over/under 2.5 columns), its score drawn from the true
model with a seeded generator. The rows go through the project's reader
(``shared.footballdata.read_bytes``), so tests get real :class:`Match` objects.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from shared.footballdata import Match, ParsedFile, read_bytes
from shared.pricing.dist import prob_above
from shared.pricing.football import FootballParams, football_outlook

# log-scale (attack, defence): defence above 0 concedes less, as in FittedFootball
STRENGTH: dict[str, tuple[float, float]] = {
    "Man City": (0.45, 0.40), "Liverpool": (0.30, 0.25), "Brighton": (0.05, 0.0),
    "Everton": (-0.10, -0.05), "Fulham": (-0.20, -0.15), "Burnley": (-0.40, -0.35),
}
INTERCEPT, HOME_ADVANTAGE, RHO = math.log(1.3), 0.25, -0.1
MARGIN = 0.05
HEADER = ("Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,PSH,PSD,PSA,PSCH,PSCD,PSCA,"
          "P>2.5,P<2.5,PC>2.5,PC<2.5")


@dataclass(frozen=True)
class Row:
    """One match of the synthetic file: the truth's prices and a drawn score."""

    day: date
    home: str
    away: str
    home_goals: int
    away_goals: int
    three_way: tuple[float, float, float]  # fair 1X2, closing (opening is the same)
    over: float  # fair P(over 2.5)


def true_params(home: str, away: str) -> FootballParams:
    """The truth the synthetic league is drawn from."""
    (ah, dh), (aa, da) = STRENGTH[home], STRENGTH[away]
    return FootballParams(math.exp(INTERCEPT + HOME_ADVANTAGE + ah - da), math.exp(INTERCEPT + aa - dh), RHO)


def _rounds(teams: Sequence[str]) -> list[list[tuple[str, str]]]:
    """A double round robin by the circle method: each pairing once at each ground."""
    fixed, rest = teams[0], list(teams[1:])
    first: list[list[tuple[str, str]]] = []
    for r in range(len(teams) - 1):
        line = [fixed, *rest]
        pairs = [(line[i], line[-1 - i]) for i in range(len(teams) // 2)]
        first.append([(a, b) if (r + i) % 2 else (b, a) for i, (a, b) in enumerate(pairs)])
        rest = rest[-1:] + rest[:-1]
    return first + [[(b, a) for a, b in rnd] for rnd in first]


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def season_rows(first_saturday: date, seed: int, teams: Sequence[str] = tuple(STRENGTH)) -> list[Row]:
    """A double round robin from ``first_saturday``, one round a week."""
    rng = random.Random(seed)
    rows = []
    for week, rnd in enumerate(_rounds(teams)):
        for home, away in rnd:
            params = true_params(home, away)
            outlook = football_outlook(params)
            assert outlook.three_way is not None
            rows.append(Row(first_saturday + timedelta(weeks=week), home, away,
                            _poisson(rng, params.lam_home), _poisson(rng, params.lam_away),
                            outlook.three_way, prob_above(outlook.total, 2.5)))
    return rows


def _price(p: float) -> str:
    return f"{1 / (p * (1 + MARGIN)):.3f}"


def csv_bytes(rows: Sequence[Row], division: str = "E0") -> bytes:
    """The rows as a football-data file (CRLF, ``dd/mm/yyyy``)."""
    lines = [HEADER]
    for r in rows:
        result = "H" if r.home_goals > r.away_goals else "D" if r.home_goals == r.away_goals else "A"
        three = [_price(p) for p in r.three_way]
        over = [_price(r.over), _price(1 - r.over)]
        lines.append(",".join([division, r.day.strftime("%d/%m/%Y"), r.home, r.away, str(r.home_goals),
                               str(r.away_goals), result, *three, *three, *over, *over]))
    return ("\r\n".join(lines) + "\r\n").encode()


def season_file(name: str, rows: Sequence[Row]) -> ParsedFile:
    """The rows read back through the project's reader."""
    return read_bytes(csv_bytes(rows), name)


def altered(rows: Sequence[Row], since: date, change: Callable[[Row], Row] | None = None) -> list[Row]:
    """The rows with every match from ``since`` on changed (default: a 9-0 home win the
    market had at 1.05): what a model must not see before those matches are played."""
    def rout(r: Row) -> Row:
        return replace(r, home_goals=9, away_goals=0, three_way=(0.9, 0.07, 0.03), over=0.97)

    return [(change or rout)(r) if r.day >= since else r for r in rows]


def matches_of(*files: ParsedFile) -> list[Match]:
    """Every match of the files."""
    return [m for f in files for m in f.matches]
