"""Tennis processor: ``python -m services.processors.tennis`` (web :4103).

Besides the shared rules: a finished set never changes its games, and the match's
length (best of 3 or 5) cannot be exceeded by the sets played.
"""

from __future__ import annotations

import sys

from services.processors.rules import StatefulRules
from services.processors.state import EventState
from shared.enums import Sport
from shared.model import LiveBody
from shared.rules.tennis import set_winner


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


RULES = TennisRules()


def main(argv: list[str] | None = None) -> int:
    """Run the tennis worker."""
    from services.processors.worker import main as run_main

    return run_main(argv, sport=Sport.TENNIS)


if __name__ == "__main__":
    sys.exit(main())
