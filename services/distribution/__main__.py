"""``python -m services.distribution``: REST :4002, WebSocket :4003 and fan-out until SIGTERM.

SIGTERM (or SIGINT) closes every WebSocket client with 1001 (going away), stops the
Kafka consumer, stops the REST app, closes the pools and exits 0. SIGHUP reads the
consumer keys again. A configuration error (no consumer keys, a bad keys file) exits 2
with the reason on stderr, never with a key in it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from services.distribution.keys import KeyConfigError
from services.distribution.service import DistributionService
from services.distribution.settings import DistributionSettings
from shared.runtime import collect_less, install_uvloop, quiet_repeated_logs

log = logging.getLogger("services.distribution")

# A delta allocates dozens of short-lived objects while the rings keep tens of thousands
# of long-lived ones: with CPython's default thresholds the collector walked them all
# every few seconds. Measured in bench_e2e (gc.callbacks in the service, 2,000 then
# 500 msg/s, one run each): default thresholds 488 ms of CPU in collections, 4 full ones
# (238 ms, the longest 87 ms of CPU); these, with start-up frozen, 266 ms and no full
# collection past start-up (the longest pause, a young one, 70 ms).
GC_THRESHOLDS = (50_000, 20, 100)


async def serve(settings: DistributionSettings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set or SIGTERM/SIGINT arrives, then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with DistributionService(settings) as service:
            collect_less(GC_THRESHOLDS)
            loop.add_signal_handler(signal.SIGHUP, service.reload_keys)
            await stop.wait()
            log.info("shutting down: closing WebSocket clients, stopping the consumer")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    log.info("distribution stopped")


def main() -> int:
    """Entry point: build the settings once, run, exit 0 after a clean shutdown."""
    try:
        settings = DistributionSettings()
    except ValidationError as exc:
        # Without the input values: they may hold a secret (a key, a password).
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(p) for p in error["loc"])
            print(f"distribution: configuration error: {where}: {error['msg']}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The access log of websockets' handshakes is noise at info level.
    logging.getLogger("websockets.server").setLevel(logging.WARNING)
    quiet_repeated_logs()
    install_uvloop()
    try:
        asyncio.run(serve(settings))
    except KeyConfigError as exc:
        print(f"distribution: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
