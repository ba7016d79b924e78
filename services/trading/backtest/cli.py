"""``python -m services.trading backtest --strategy NAME --train FILE... --test FILE --bookmaker B365``.

Reads the football-data files with the project's reader (any season's layout), makes
walk-forward probabilities for the test file's matches (:mod:`.walkforward`), bets the
strategy (from the strategies file) at the bookmaker's pre-match prices, settles by the
results, and prints the figures; ``--json FILE`` writes them for tools, ``--plot
FILE.png`` draws the P/L chart.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.trading.backtest.engine import run_backtest
from services.trading.backtest.report import figures, plot, summary
from services.trading.backtest.walkforward import walk_forward
from services.trading.domain.strategies import StrategyError, find, load_strategies
from services.trading.settings import REPO
from shared.footballdata.model import FootballDataError, Match
from shared.footballdata.reader import read_file
from shared.pricing.football_models import DEFAULT_MODEL, MODELS

DEFAULT_STRATEGIES = REPO / "infra" / "trading" / "strategies.toml"


def _read(paths: list[Path]) -> list[Match]:
    matches: list[Match] = []
    for path in paths:
        parsed = read_file(path)
        if parsed.skipped:
            print(f"{path.name}: {len(parsed.skipped)} rows skipped (first: {parsed.skipped[0]})",
                  file=sys.stderr)
        matches.extend(parsed.matches)
    return matches


def main(argv: list[str] | None = None) -> int:
    """Run one backtest; exit 0, or 2 with the reason on bad input."""
    parser = argparse.ArgumentParser(prog="python -m services.trading backtest",
                                     description="Backtest a strategy on football-data files.")
    parser.add_argument("--strategy", required=True, help="a strategy of the strategies file")
    parser.add_argument("--train", type=Path, nargs="+", required=True, metavar="FILE",
                        help="seasons the model learns from before the test season")
    parser.add_argument("--test", type=Path, required=True, metavar="FILE", help="the season bet on")
    parser.add_argument("--bookmaker", required=True,
                        help="whose pre-match prices are taken: a football-data code (B365, PS, WH...)")
    parser.add_argument("--strategies", type=Path, default=DEFAULT_STRATEGIES, metavar="FILE",
                        help=f"the strategies file (default {DEFAULT_STRATEGIES.relative_to(REPO)})")
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS),
                        help=f"the football model walked forward ({DEFAULT_MODEL})")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the P/L chart")
    args = parser.parse_args(argv)
    try:
        strategy = find(load_strategies(args.strategies), args.strategy)
        train, test = _read(args.train), _read([args.test])
        if not test:
            raise ValueError(f"{args.test}: no matches")
        result = run_backtest(walk_forward(train, test, model=args.model), strategy,
                              args.bookmaker)
    except (StrategyError, FootballDataError, OSError, ValueError) as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 2
    data = figures(result, train=[p.name for p in args.train], test=args.test.name)
    print(summary(data))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    if args.plot:
        plot(result, args.plot, f"{strategy.name} on {args.test.name} at {result.bookmaker}")
    return 0
