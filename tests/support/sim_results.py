"""Results of simulated feed-generator matches, as the fits take them (tests and benchmarks).

Each match is played by the generator's own simulator (``feedgen.sim``) with the run
seed's sides, so the true ratings are known: ``Side.attack``/``defence`` of the set-up.
The live body of the final moment is the canonical score the processors record.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from feedgen.sim import MatchSetup, make_model, make_setup
from shared.enums import Sport
from shared.model import LiveBody
from shared.pricing.ratings import ScoredMatch
from shared.pricing.tennis_fit import TennisMatch

DAY0 = date(2026, 5, 1)


@dataclass(frozen=True)
class Played:
    """One simulated match: its set-up and the final live body."""

    setup: MatchSetup
    final: LiveBody


def play(sport: Sport, matches: int, *, seed: int = 7) -> list[Played]:
    """``matches`` matches of one sport between the run's 40 sides."""
    out = []
    for number in range(matches):
        rng = random.Random(f"results:{sport.value}:{seed}:{number}")
        setup = make_setup(sport, number, seed, rng)
        model = make_model(setup, rng)
        final = [m for m in model.moments() if m.final][-1]
        out.append(Played(setup, final.live))
    return out


def regulation(live: LiveBody, names: tuple[str, ...]) -> tuple[int, int]:
    """The score of the named periods."""
    periods = [p for p in live.score.periods if p.period in names]
    return sum(p.home for p in periods), sum(p.away for p in periods)


def scored(played: list[Played], names: tuple[str, ...]) -> list[ScoredMatch]:
    """Regulation results (``names``: the regulation periods of the sport)."""
    return [ScoredMatch(DAY0 + timedelta(days=n // 20), p.setup.home.id, p.setup.away.id,
                        *regulation(p.final, names)) for n, p in enumerate(played)]


def tennis(played: list[Played]) -> list[TennisMatch]:
    """Set scores of tennis matches."""
    return [TennisMatch(DAY0 + timedelta(days=n // 20), p.setup.home.id, p.setup.away.id,
                        tuple((s.home, s.away) for s in p.final.score.periods),
                        p.setup.best_of or 3) for n, p in enumerate(played)]
