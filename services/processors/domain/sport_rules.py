"""Each sport's stateful rules, and the one mapping from a sport to them.

Every sport checks what :class:`~.rules.StatefulRules` checks; these add what a sport's
live score may not do from one message to the next.

- Football and ice hockey: once the penalty shoot-out (``pen`` / ``so``) has begun, the
  periods of play before it are final.
- Tennis: a finished set never changes its games, and a match has no more sets than its
  best-of.
- Basketball: the shared rules only; stat corrections may change any quarter's points
  after the fact, so no period is frozen.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from services.processors.domain.rules import StatefulRules, frozen_periods_error
from services.processors.domain.state import EventState
from shared.enums import Sport
from shared.model import LiveBody
from shared.rules.tennis import set_winner


class FootballRules(StatefulRules):
    """Football's stateful rules."""

    def __init__(self) -> None:
        super().__init__(Sport.FOOTBALL)

    def live_change_error(self, state: EventState, new: LiveBody) -> str | None:
        """Shared rules, then: play before a shoot-out is final once it started."""
        return super().live_change_error(state, new) or frozen_periods_error(
            state.live, new, "pen"
        )


class IceHockeyRules(StatefulRules):
    """Ice hockey's stateful rules."""

    def __init__(self) -> None:
        super().__init__(Sport.ICE_HOCKEY)

    def live_change_error(self, state: EventState, new: LiveBody) -> str | None:
        """Shared rules, then: play before a shoot-out is final once it started."""
        return super().live_change_error(state, new) or frozen_periods_error(
            state.live, new, "so"
        )


class TennisRules(StatefulRules):
    """Tennis's stateful rules."""

    def __init__(self) -> None:
        super().__init__(Sport.TENNIS)

    def live_change_error(self, state: EventState, new: LiveBody) -> str | None:
        """Shared rules, then: no more sets than the match has, finished sets are final."""
        error = super().live_change_error(state, new) or self.sets_error(state.fixture.best_of, new)
        old = state.live
        if error or old is None:
            return error
        for before, after in zip(old.score.periods, new.score.periods, strict=False):
            if set_winner(before) is not None and (before.home, before.away) != (after.home, after.away):
                return (
                    f"{before.period} was won {before.home}-{before.away} and cannot become "
                    f"{after.home}-{after.away}: a finished set does not change"
                )
        return None

    def sets_error(self, best_of: int | None, new: LiveBody) -> str | None:
        """More sets than the match's best-of allows."""
        if best_of is not None and len(new.score.periods) > best_of:
            return f"set {len(new.score.periods)} played in a best-of-{best_of} match"
        return None


STATEFUL_RULES: Mapping[Sport, StatefulRules] = MappingProxyType({
    Sport.FOOTBALL: FootballRules(),
    Sport.BASKETBALL: StatefulRules(Sport.BASKETBALL),
    Sport.TENNIS: TennisRules(),
    Sport.ICE_HOCKEY: IceHockeyRules(),
})


def stateful_rules(sport: Sport) -> StatefulRules:
    """The stateful rules of a sport."""
    return STATEFUL_RULES[sport]
