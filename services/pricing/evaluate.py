"""``python -m services.pricing evaluate --train FILE... --test FILE [--json F] [--plot F.png] [--model M]``.

Walks a football model forward through the test file (``shared.pricing.walkforward``:
fitted on everything before each match week, train files and the test's earlier weeks,
then predicting that week), and prints for the test file: 1X2 log-loss and Brier of the
model, of Pinnacle's closing and opening prices and of Bet365's (closing and opening)
with their margins removed (``--margin``, the power method by default, as the issue's
baseline), and of the training files' base rates; the same for over/under 2.5 where the
file has such prices; a calibration table of each; the issue's bar, met or not.
``--json`` writes the same figures, ``--plot`` a reliability diagram (PNG). Any
football-data.co.uk file the reader takes will do, of any season and layout.

Exit status: 0 when evaluated, 2 for bad arguments or a file that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from services.pricing.output import print_report
from services.pricing.plot import reliability_plot
from services.pricing.report import build_report
from shared.footballdata import FootballDataError, Match, ParsedFile, read_file
from shared.pricing.football_fit import MatchResult
from shared.pricing.football_models import DEFAULT_MODEL, MODELS, Fitter, FootballModel, Setting, model_fitter
from shared.pricing.margins import Method
from shared.pricing.walkforward import Prediction, walk_forward


def _setting(text: str) -> tuple[str, Setting]:
    """``xi=0.01`` -> ("xi", 0.01); ``none``, ``true``, ``false`` as such."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    words: dict[str, Setting] = {"none": None, "true": True, "false": False}
    if value.lower() in words:
        return key, words[value.lower()]
    try:
        return key, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{key}: {value!r} is not a number, true, false or none") from None


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m services.pricing evaluate",
                                description=(__doc__ or "").split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", nargs="+", type=Path, required=True, metavar="FILE",
                   help="football-data CSV files to learn from (earlier seasons)")
    p.add_argument("--test", type=Path, required=True, metavar="FILE", help="the season to predict")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    p.add_argument("--plot", type=Path, metavar="FILE.png", help="write the reliability plot")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS),
                   help=f"the model (default {DEFAULT_MODEL})")
    p.add_argument("--param", action="append", type=_setting, default=[], metavar="KEY=VALUE",
                   help="change one of the model's settings (repeatable), e.g. xi=0.01")
    p.add_argument("--margin", default=Method.POWER.value, choices=[m.value for m in Method],
                   help="how the bookmakers' margins are removed (default power)")
    return p


class _TimedFitter:
    """The model's fitter, counting refits and the CPU time they take."""

    def __init__(self, fitter: Fitter) -> None:
        self.fitter = fitter
        self.times: list[float] = []

    def __call__(self, history: Sequence[MatchResult], day: date) -> FootballModel:
        start = time.process_time()
        fitted = self.fitter(history, day)
        self.times.append(time.process_time() - start)
        return fitted


def evaluate(train: Sequence[ParsedFile], test: ParsedFile, *, model: str = DEFAULT_MODEL,
             settings: dict[str, Setting] | None = None, method: Method = Method.POWER) -> dict[str, Any]:
    """The whole evaluation of ``model`` on ``test`` as one JSON-ready dict."""
    train_matches: list[Match] = [m for f in train for m in f.matches]
    if not train_matches:
        raise ValueError("the training files hold no played matches")
    if not test.matches:
        raise ValueError(f"{test.name} holds no played matches")
    fitter = _TimedFitter(model_fitter(model, settings))
    predictions: list[Prediction] = list(walk_forward(train_matches, test.matches, fitter))
    report = build_report(predictions, train_matches, method=method)
    report["run"] = {
        "test": {"file": test.name, "season": test.season, "divisions": list(test.divisions),
                 "matches": len(test.matches), "rows_skipped": len(test.skipped)},
        "train": {"files": [f.name for f in train], "matches": len(train_matches)},
        "model": {"name": model, "settings": dict(settings or {})},
        "weeks": len(fitter.times),
        "fit_cpu_seconds": sum(fitter.times),
        "fit_cpu_max_seconds": max(fitter.times),
        "data": "football-data.co.uk",
    }
    return report


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit status."""
    args = parser().parse_args(argv)
    console = Console(width=110) if not sys.stdout.isatty() else Console()
    try:
        train = [read_file(path) for path in args.train]
        test = read_file(args.test)
        report = evaluate(train, test, model=args.model, settings=dict(args.param),
                          method=Method(args.margin))
    except (OSError, FootballDataError, ValueError) as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    print_report(console, report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"figures written to {args.json}")
    if args.plot:
        reliability_plot(report, args.plot)
        console.print(f"reliability plot written to {args.plot}")
    return 0
