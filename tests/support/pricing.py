"""The pricing library's parameters of a feed-generator match, for tests and benchmarks."""

from __future__ import annotations

from feedgen.sim import SportModel
from feedgen.sim.basketball import MEAN_POSSESSION, BasketballModel, moments_of, possession_points
from feedgen.sim.football import FootballModel
from feedgen.sim.ice_hockey import IceHockeyModel
from feedgen.sim.tennis import TennisModel
from shared.pricing.basketball import BasketballParams
from shared.pricing.event import SportParams
from shared.pricing.football import KICK_OFF_SHARE, FootballParams
from shared.pricing.ice_hockey import HockeyParams
from shared.pricing.tennis import TennisParams


def sim_params(model: SportModel) -> SportParams:
    """The parameters a simulator prices with, as the library takes them.

    Football's simulator states its rates per 90 minutes without stoppage time; the
    library's are per match, stoppage included (``KICK_OFF_SHARE`` times as many).
    """
    if isinstance(model, FootballModel):
        lam_home, lam_away = model.rates
        return FootballParams(lam_home * KICK_OFF_SHARE, lam_away * KICK_OFF_SHARE)
    if isinstance(model, IceHockeyModel):
        return HockeyParams(*model.rates, knockout=model.setup.knockout)
    if isinstance(model, BasketballModel):
        home, away = (moments_of(possession_points(e)) for e in model.edges())
        return BasketballParams(*home, *away, MEAN_POSSESSION)
    assert isinstance(model, TennisModel)
    return TennisParams(*model.serve_probabilities(), model.best_of)
