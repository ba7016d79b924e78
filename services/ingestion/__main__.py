"""``python -m services.ingestion``: serve the ingestion API on :4000 until SIGTERM.

SIGTERM (or SIGINT) stops intake: new requests get 503 and the listening socket is
closed; in-flight requests finish (up to ``shutdown_grace_s``); the producer is
flushed and stopped; the process exits 0. A configuration error (no API keys, say)
exits 2 with the reason on stderr.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web
from pydantic import ValidationError

from services.ingestion.app import context_of, create_app
from services.ingestion.errors import ConfigError
from services.ingestion.settings import IngestionSettings
from shared.runtime import install_uvloop, quiet_repeated_logs

log = logging.getLogger("services.ingestion")


async def serve(settings: IngestionSettings, stop: asyncio.Event | None = None) -> None:
    """Run the service until ``stop`` is set or SIGTERM/SIGINT arrives, then drain."""
    app = create_app(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=settings.shutdown_grace_s,
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=2048, reuse_address=True)
    await site.start()
    log.info("ingestion listening on http://%s:%d", settings.host, settings.port)
    try:
        await stop.wait()
    finally:
        log.info("shutting down: refusing new requests, draining in-flight ones")
        ctx = context_of(app)
        ctx.closing = True  # requests on open keep-alive connections now get 503
        await site.stop()  # and no new connection is accepted
        # aiohttp's own shutdown stops reading from connections at once, which would cut
        # off a request whose body is still arriving; wait for those first.
        deadline = loop.time() + settings.shutdown_grace_s
        while ctx.in_flight and loop.time() < deadline:  # noqa: ASYNC110 - a bounded drain
            await asyncio.sleep(0.02)
        # Closes idle connections, waits for any remaining handler, then on_cleanup
        # flushes and stops the producer.
        await runner.cleanup()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        log.info("ingestion stopped")


def main() -> int:
    """Entry point: build the settings once, run, exit 0 after a clean shutdown."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_repeated_logs()
    try:
        settings = IngestionSettings()
        # Fail before binding the port if the keys are missing or invalid.
        from services.ingestion.auth import load_api_keys

        load_api_keys(settings)
    except (ConfigError, ValidationError) as exc:
        print(f"ingestion: configuration error: {exc}", file=sys.stderr)
        return 2
    install_uvloop()
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
