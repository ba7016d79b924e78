"""Football processor: ``python -m services.processors.football`` (web :4101).

Besides the shared rules: once the penalty shoot-out has begun, no goal can be added
to (or taken from) the periods of play before it.
"""

from __future__ import annotations

import sys

from services.processors.rules import StatefulRules, frozen_periods_error
from services.processors.state import EventState
from shared.enums import Sport
from shared.model import LiveBody


class FootballRules(StatefulRules):
    """Football's stateful rules."""

    def __init__(self) -> None:
        super().__init__(Sport.FOOTBALL)

    def live_change_error(self, state: EventState, new: LiveBody) -> str | None:
        """Shared rules, then: play before a shoot-out is final once it started."""
        return super().live_change_error(state, new) or frozen_periods_error(
            state.live, new, "pen"
        )


RULES = FootballRules()


def main(argv: list[str] | None = None) -> int:
    """Run the football worker."""
    from services.processors.worker import main as run_main

    return run_main(argv, sport=Sport.FOOTBALL)


if __name__ == "__main__":
    sys.exit(main())
