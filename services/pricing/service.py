"""``python -m services.pricing run [--web-port N]``: the live pricing service until SIGTERM.

A Faust worker on ``sportsfeed.<sport>.updates`` (every sport) that publishes each
event's :class:`shared.fair.ModelPrices` to ``sportsfeed.<sport>.model`` and Redis;
health, readiness and metrics on ``SPORTSFEED_PRICING_WEB_PORT`` (4105). SIGTERM
stops the stream, waits for the batch in progress, flushes the producer, closes the
pools and exits 0. A configuration error exits 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

from services.pricing.runtime.worker import run
from services.pricing.settings import PricingSettings


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.pricing run",
                                     description="Run the live pricing service.")
    parser.add_argument("--web-port", type=int, help="override the web port (a second worker)")
    args = parser.parse_args(argv)
    try:
        settings = PricingSettings()
    except ValidationError as exc:
        print(f"pricing: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.web_port:
        settings = settings.model_copy(update={"web_port": args.web_port})
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(settings)
