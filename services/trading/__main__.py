"""``python -m services.trading run`` (the service) or ``... backtest`` (football-data files)."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the service or the backtest."""
    parser = argparse.ArgumentParser(prog="python -m services.trading",
                                     description="SportsFeed paper trading.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the service: strategies on the live feed (port 4106)")
    sub.add_parser("backtest", help="a strategy on football-data files (--help for options)",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "backtest":
        from services.trading.backtest.cli import main as backtest

        return backtest(rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    from services.trading.domain.strategies import StrategyError
    from services.trading.runtime.worker import run
    from services.trading.settings import TradingSettings

    settings = TradingSettings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return run(settings)
    except StrategyError as exc:
        print(f"trading: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
