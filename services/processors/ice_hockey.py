"""Ice hockey processor: ``python -m services.processors.ice_hockey`` (web :4104).

Besides the shared rules: once the shoot-out has begun, the periods and overtime
before it are final.
"""

from __future__ import annotations

import sys

from services.processors.rules import StatefulRules, frozen_periods_error
from services.processors.state import EventState
from shared.enums import Sport
from shared.model import LiveBody


class IceHockeyRules(StatefulRules):
    """Ice hockey's stateful rules."""

    def __init__(self) -> None:
        super().__init__(Sport.ICE_HOCKEY)

    def live_change_error(self, state: EventState, new: LiveBody) -> str | None:
        """Shared rules, then: play before a shoot-out is final once it started."""
        return super().live_change_error(state, new) or frozen_periods_error(
            state.live, new, "so"
        )


RULES = IceHockeyRules()


def main(argv: list[str] | None = None) -> int:
    """Run the ice hockey worker."""
    from services.processors.worker import main as run_main

    return run_main(argv, sport=Sport.ICE_HOCKEY)


if __name__ == "__main__":
    sys.exit(main())
