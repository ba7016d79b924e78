"""One ingestion process serving the port until SIGTERM, then draining (see ``__main__``).

Alone, it owns the port. In a group of workers (``SPORTSFEED_INGESTION_WORKERS`` > 1,
started by :mod:`services.ingestion.supervisor`) every worker binds the same port with
``SO_REUSEPORT`` and the kernel spreads connections over them; their metrics are summed
through the run directory's multiprocess files and their rate limits are one set of
buckets in the run directory's shared file (:mod:`services.ingestion.sharedlimit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal

from aiohttp import web

from services.ingestion.app import context_of, create_app
from services.ingestion.auth import load_api_keys
from services.ingestion.metrics import IngestionMetrics
from services.ingestion.ratelimit import RateSpec, parse_rate_limits
from services.ingestion.settings import IngestionSettings
from services.ingestion.sharedlimit import SharedBuckets
from services.ingestion.supervisor import RATE_LIMIT_FILE
from shared.runtime import collect_less

log = logging.getLogger("services.ingestion")


def group_app(settings: IngestionSettings) -> web.Application:
    """The app of one worker of a group: shared metrics and shared rate-limit buckets."""
    keys = load_api_keys(settings)
    limiter = SharedBuckets.open(
        settings.run_dir / RATE_LIMIT_FILE, keys.providers,
        RateSpec(settings.rate_limit_per_second, settings.rate_limit_burst),
        parse_rate_limits(settings.rate_limits),
    )
    app = create_app(settings, keys=keys, limiter=limiter,
                     metrics=IngestionMetrics.for_process())

    async def close_buckets(_: web.Application) -> None:
        limiter.close()

    app.on_cleanup.append(close_buckets)
    return app


# A request allocates hundreds of short-lived objects (models, dicts, futures): with
# CPython's default threshold of 700 a young collection ran every two requests. Larger
# generations and the start-up objects frozen out of every collection measured 7-20 %
# less CPU per single-message request (same run, same load). A 500-message batch makes
# about 10k objects, so at 20,000 a young collection still ran every second batch;
# 100,000 measured 66.0 / 66.5 vs 73.1 us CPU per batched message (interleaved runs).
GC_THRESHOLDS = (100_000, 50, 100)


def die_with_supervisor() -> None:
    """Ask Linux for SIGTERM when the supervisor dies (even by SIGKILL): no orphan keeps
    the port. Elsewhere a worker outlives a killed supervisor until stopped by hand."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def tune_gc() -> None:
    """Freeze what start-up made and collect less often (see :data:`GC_THRESHOLDS`)."""
    collect_less(GC_THRESHOLDS)


async def serve(
    settings: IngestionSettings, stop: asyncio.Event | None = None, *, group: bool = False,
) -> None:
    """Run one process until ``stop`` is set or SIGTERM/SIGINT arrives, then drain."""
    if group:
        die_with_supervisor()
    app = group_app(settings) if group else create_app(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=settings.shutdown_grace_s,
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=2048, reuse_address=True,
                       reuse_port=group)
    await site.start()
    tune_gc()
    who = f"worker {os.getpid()}" if group else "ingestion"
    log.info("%s listening on http://%s:%d", who, settings.host, settings.port)
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
