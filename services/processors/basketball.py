"""Basketball processor: ``python -m services.processors.basketball`` (web :4102).

Basketball uses the shared stateful rules only: stat corrections may change any
quarter's points after the fact, so no period is frozen.
"""

from __future__ import annotations

import sys

from services.processors.rules import StatefulRules
from shared.enums import Sport

RULES = StatefulRules(Sport.BASKETBALL)


def main(argv: list[str] | None = None) -> int:
    """Run the basketball worker."""
    from services.processors.worker import main as run_main

    return run_main(argv, sport=Sport.BASKETBALL)


if __name__ == "__main__":
    sys.exit(main())
