"""Running the trading service: settings in, Faust worker out, exit status back."""

from __future__ import annotations

import logging

from services.trading.domain.strategies import load_strategies
from services.trading.runtime.app import build_app
from services.trading.runtime.metrics import Metrics
from services.trading.runtime.resources import TradingRuntime
from services.trading.settings import TradingSettings
from shared.runtime import faust_worker, install_uvloop

log = logging.getLogger(__name__)


def run(settings: TradingSettings) -> int:
    """Run until SIGTERM/SIGINT (drain, commit, close); returns the exit status."""
    strategies = load_strategies(settings.strategies_file)
    install_uvloop()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    metrics = Metrics()
    runtime = TradingRuntime(settings, strategies, metrics)
    app = build_app(settings, runtime, metrics)
    # The runtime starts before the app's agents run a batch and stops after the last
    # commit: the pool is open for every batch.
    worker = faust_worker(app, runtime, loglevel=settings.log_level)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
