"""Per-sport rules: which markets exist, their outcomes, and what a valid score is.

The rules take the model's body types; applying them to a message is an explicit step
(:func:`checked`) at each service's edge, so the model itself never imports them.
"""

from __future__ import annotations

from shared.enums import Sport
from shared.model import FeedMessage
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


class RuleViolation(ValueError):
    """A message breaks its sport's stateless rules; the text names each broken rule."""


def checked(message: FeedMessage) -> FeedMessage:
    """``message`` if it keeps its sport's stateless rules; raises :class:`RuleViolation`."""
    errors = RULES[message.sport].check_message(message)
    if errors:
        raise RuleViolation("; ".join(errors))
    return message


__all__ = [
    "RULES", "MarketSpec", "RuleViolation", "SportRules", "checked", "is_extension_market",
    "rules_for",
]
