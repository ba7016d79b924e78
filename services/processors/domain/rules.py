"""Stateful rules: what a message may do given what was applied before it.

Stateless rules (market catalogue, score shapes) already hold for every
:class:`~shared.model.FeedMessage` that exists. These need the applied state:
event and market transitions (``shared.enums``, used by :mod:`.decide`), settlement
outcomes that must exist in the market, and each sport's checks of how a live score
may move from one message to the next (the sport modules subclass
:class:`StatefulRules`).
"""

from __future__ import annotations

from services.processors.domain.state import EventState
from shared.enums import Sport
from shared.live import LiveState
from shared.markets import MarketSettlement
from shared.model import LiveBody
from shared.rules import SportRules, rules_for


class StatefulRules:
    """The rules every sport shares; subclasses add their own live-score checks."""

    def __init__(self, sport: Sport) -> None:
        self.sport = sport
        self.stateless: SportRules = rules_for(sport)

    def live_change_error(self, state: EventState, new: LiveBody) -> str | None:
        """Why the live score may not move from the state's to ``new`` (None: it may).

        Shared by every sport: a period once played stays played (its score may be
        corrected, since VAR and stat corrections exist, but it cannot disappear).
        """
        old = state.live
        if old is None:
            return None
        before, after = len(old.score.periods), len(new.score.periods)
        if after < before:
            return (
                f"score periods went from {before} to {after}: "
                "a period once played cannot disappear"
            )
        return None

    def settlement_error(
        self, settlement: MarketSettlement, known_outcomes: tuple[str, ...]
    ) -> str | None:
        """Why a settlement does not fit the market it settles (None: it fits)."""
        unknown = [o.outcome_id for o in settlement.outcomes if o.outcome_id not in known_outcomes]
        if unknown:
            offered = ", ".join(known_outcomes) or "none"
            return (
                f"settlement of {settlement.market_key}: outcome {', '.join(unknown)} "
                f"is not an outcome of the market ({offered})"
            )
        return None


def frozen_periods_error(old: LiveState | None, new: LiveBody, marker: str) -> str | None:
    """Once period ``marker`` (a shoot-out) began, the periods before it are final."""
    if old is None:
        return None
    names = [p.period for p in old.score.periods]
    if marker not in names:
        return None
    after = {p.period: p for p in new.score.periods}
    for period in old.score.periods[: names.index(marker)]:
        now = after.get(period.period)
        if now is not None and (now.home, now.away) != (period.home, period.away):
            return (
                f"{period.period} was {period.home}-{period.away} when the {marker} began "
                f"and cannot become {now.home}-{now.away}"
            )
    return None
