"""Per-sport rules: which markets exist, their outcomes, and what a valid score is."""

from __future__ import annotations

from shared.enums import Sport
from shared.rules.base import MarketSpec, SportRules, is_extension_market
from shared.rules.basketball import BasketballRules
from shared.rules.football import FootballRules
from shared.rules.ice_hockey import IceHockeyRules
from shared.rules.tennis import TennisRules

RULES: dict[Sport, SportRules] = {
    Sport.FOOTBALL: FootballRules(),
    Sport.BASKETBALL: BasketballRules(),
    Sport.TENNIS: TennisRules(),
    Sport.ICE_HOCKEY: IceHockeyRules(),
}


def rules_for(sport: Sport) -> SportRules:
    """The rules of one sport."""
    return RULES[sport]


__all__ = ["RULES", "MarketSpec", "SportRules", "is_extension_market", "rules_for"]
