"""Match simulators, one per sport, and the deterministic set-up of a match.

:func:`make_setup` picks the competition and the two sides of a match from its own
generator; :func:`make_model` returns the sport's :class:`~feedgen.sim.base.SportModel`.
Ids look like the Sportradar URNs UOF uses (``sr:match:N``), so one event id works in
every wire format.
"""

from __future__ import annotations

import random

from feedgen.sim.base import MatchSetup, Moment, Side, SportModel
from feedgen.sim.basketball import BasketballModel
from feedgen.sim.football import FootballModel
from feedgen.sim.ice_hockey import IceHockeyModel
from feedgen.sim.tennis import TennisModel
from shared.enums import Sport
from shared.model import Competition

MODELS: dict[Sport, type[SportModel]] = {
    Sport.FOOTBALL: FootballModel,
    Sport.BASKETBALL: BasketballModel,
    Sport.TENNIS: TennisModel,
    Sport.ICE_HOCKEY: IceHockeyModel,
}

_PLACES = (
    "Northbridge", "Eastvale", "Port Alder", "Kingsmere", "Redhaven", "Westfield", "Oakmont",
    "Silverlake", "Stonebury", "Marlow", "Ashford", "Brightwater", "Cold Harbour", "Dunmore",
    "Elmstead", "Foxley", "Glenrock", "Highcliff", "Ironford", "Juniper Bay",
)
_CLUBS = {
    Sport.FOOTBALL: ("FC", "United", "Rovers", "Athletic", "City", "Wanderers"),
    Sport.BASKETBALL: ("Hawks", "Giants", "Comets", "Titans", "Foxes", "Rockets"),
    Sport.ICE_HOCKEY: ("Bears", "Wolves", "Blizzard", "Storm", "Lynx", "Icemen"),
}
_GIVEN = ("Ana", "Boris", "Chen", "Dara", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas",
          "Kaito", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Yara")
_FAMILY = ("Almeida", "Berg", "Costa", "Dvorak", "Eriksen", "Fischer", "Garcia", "Horvat",
           "Ivanova", "Jensen", "Kowalski", "Laurent", "Moreau", "Novak", "Okafor", "Petrov")
_COMPETITIONS = {
    Sport.FOOTBALL: (("Premier Simulated League", False), ("Simulated Cup", True)),
    Sport.BASKETBALL: (("Simulated Basketball League", False),),
    Sport.ICE_HOCKEY: (("Simulated Hockey League", False), ("Simulated Hockey Play-offs", True)),
    Sport.TENNIS: (("Simulated Open", False), ("Simulated Masters", False)),
}
TEAMS_PER_SPORT = 40
# Spread of the log-scale ratings: how much sides differ within a sport.
RATING_SD = {Sport.FOOTBALL: 0.2, Sport.ICE_HOCKEY: 0.15, Sport.BASKETBALL: 0.025,
             Sport.TENNIS: 0.025}


def _side(sport: Sport, run_seed: int, number: int) -> Side:
    """Side ``number`` of a sport: the same name and ratings in every match of a run."""
    rng = random.Random(f"{run_seed}:side:{sport.value}:{number}")
    sd = RATING_SD[sport]
    if sport is Sport.TENNIS:
        name = f"{_GIVEN[number % len(_GIVEN)]} {_FAMILY[(number * 7) % len(_FAMILY)]}"
    else:
        club = _CLUBS[sport][number % len(_CLUBS[sport])]
        name = f"{_PLACES[number % len(_PLACES)]} {club}"
    side_id = f"sr:competitor:{run_seed % 100_000 * 1000 + list(Sport).index(sport) * 100 + number}"
    return Side(id=side_id, name=name, attack=rng.gauss(0, sd), defence=rng.gauss(0, sd))


def make_setup(sport: Sport, event_number: int, run_seed: int, rng: random.Random) -> MatchSetup:
    """The match's competition and sides, drawn from ``rng``."""
    name, knockout = rng.choice(_COMPETITIONS[sport])
    comp_no = run_seed % 100_000 * 10 + list(Sport).index(sport) * 2 + (
        _COMPETITIONS[sport].index((name, knockout)))
    competition = Competition(id=f"sr:tournament:{comp_no}", name=name,
                              season=str(2000 + run_seed % 50))
    home_no, away_no = rng.sample(range(TEAMS_PER_SPORT), 2)
    best_of = None
    if sport is Sport.TENNIS:
        best_of = 5 if rng.random() < 0.3 else 3
    return MatchSetup(
        sport=sport, event_id=f"sr:match:{event_number}", competition=competition,
        home=_side(sport, run_seed, home_no), away=_side(sport, run_seed, away_no),
        best_of=best_of, knockout=knockout and (sport is not Sport.FOOTBALL or rng.random() < 0.5),
    )


def make_model(setup: MatchSetup, rng: random.Random) -> SportModel:
    """The simulator and pricing model of one match."""
    return MODELS[setup.sport](setup, rng)


__all__ = ["MODELS", "MatchSetup", "Moment", "Side", "SportModel", "make_model", "make_setup"]
