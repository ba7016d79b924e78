"""Running one sport's worker: settings in, Faust worker out, exit status back."""

from __future__ import annotations

import argparse
import logging

from services.processors.domain.sport_rules import stateful_rules
from services.processors.runtime.app import build_app
from services.processors.runtime.metrics import Metrics
from services.processors.runtime.resources import ProcessorRuntime
from services.processors.settings import ProcessorSettings
from shared.enums import Sport
from shared.runtime import collect_less, faust_worker, install_uvloop


def run(sport: Sport, settings: ProcessorSettings) -> int:
    """Run the worker until SIGTERM/SIGINT; returns the exit status."""
    rules = stateful_rules(sport)
    # Before anything asks for a loop: Faust's streams spend much of their time in the
    # event loop's own bookkeeping, which uvloop does in C.
    install_uvloop()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A batch allocates hundreds of thousands of short-lived objects; with the default
    # thresholds the cyclic collector ran every few hundred allocations and walked the
    # whole heap (stream buffers, cached states) so often that it cost more CPU than
    # deciding the messages. Reference counting frees almost everything anyway.
    collect_less((50_000, 20, 100), freeze=False)
    metrics = Metrics(sport)
    runtime = ProcessorRuntime(settings, rules, metrics)
    app = build_app(sport, settings, runtime, metrics)
    # The runtime is a worker service started before the app and stopped after it, so
    # the pools are open before the first batch and closed after the last commit.
    worker = faust_worker(app, runtime, loglevel=settings.log_level)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def main(argv: list[str] | None = None, sport: Sport | None = None) -> int:
    """CLI: ``python -m services.processors <sport> [--web-port N]``."""
    parser = argparse.ArgumentParser(description="Run the SportsFeed processor of one sport.")
    if sport is None:
        parser.add_argument("sport", choices=[s.value for s in Sport])
    parser.add_argument("--web-port", type=int, help="override the web port (a second worker)")
    args = parser.parse_args(argv)
    chosen = sport or Sport(args.sport)
    settings = ProcessorSettings()
    if args.web_port:
        settings = settings.model_copy(update={"web_port": args.web_port})
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run(chosen, settings)
