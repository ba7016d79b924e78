"""The ingestion web application: routes, middleware, lifecycle (see ``docs/ingestion.md``).

:func:`create_app` builds one self-contained app from a settings object; everything
it needs (keys, limiter, metrics registry, producer, adapters) hangs off its
:class:`~services.ingestion.context.AppContext`, and each piece can be injected, so
tests can run many apps side by side with fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from services.ingestion.auth import ApiKeys, load_api_keys
from services.ingestion.context import Adapters, AppContext
from services.ingestion.errors import ReasonClass, error_response, json_response
from services.ingestion.feed import handle_feed
from services.ingestion.metrics import UNKNOWN, IngestionMetrics
from services.ingestion.publisher import KafkaPublisher, ProducerFactory
from services.ingestion.ratelimit import Limiter, RateLimiter
from services.ingestion.settings import IngestionSettings
from shared.enums import Sport
from shared.topics import Topics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Routes that still answer while the service drains on SIGTERM.
_ALWAYS_OPEN = frozenset({"healthz", "metrics"})
_FORMAT_OF_ROUTE = {"feed_json": "json", "feed_xml": "xml", "feed_uof": "uof"}


@web.middleware
async def _observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time every request, count it in flight, and refuse new work while closing."""
    ctx = request.app[AppContext.KEY]
    route = request.match_info.route.name or "unmatched"
    started = time.perf_counter()
    status = 500
    ctx.in_flight += 1
    try:
        if ctx.closing and route not in _ALWAYS_OPEN:
            fmt = _FORMAT_OF_ROUTE.get(route)
            if fmt is not None:
                ctx.metrics.refuse_unread(UNKNOWN, fmt, ReasonClass.SHUTTING_DOWN)
            response: web.StreamResponse = error_response(
                503, "shutting down", retry_after=ctx.settings.retry_after_s
            )
            response.force_close()
        else:
            response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        ctx.in_flight -= 1
        ctx.metrics.observe_request(route, status, time.perf_counter() - started)


async def _feed_json(request: web.Request) -> web.Response:
    return await handle_feed(request, "json")


async def _feed_xml(request: web.Request) -> web.Response:
    return await handle_feed(request, "xml")


async def _feed_uof(request: web.Request) -> web.Response:
    return await handle_feed(request, "uof")


async def _healthz(request: web.Request) -> web.Response:
    """Alive: the process answers. Says nothing about Kafka (that is /readyz)."""
    return json_response({"status": "ok"}, 200)


async def _readyz(request: web.Request) -> web.Response:
    """Ready: producer connected, metadata fresh, topics present, not shutting down."""
    ctx = request.app[AppContext.KEY]
    ready, reason = ctx.publisher.readiness()
    if ready:
        return json_response({"status": "ready"}, 200)
    return json_response(
        {"status": "not ready", "reason": reason}, 503, retry_after=ctx.settings.retry_after_s
    )


async def _metrics(request: web.Request) -> web.Response:
    ctx = request.app[AppContext.KEY]
    ctx.metrics.in_flight.set(ctx.in_flight)
    return web.Response(
        body=ctx.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"}
    )


async def _update_gauges(ctx: AppContext, every_s: float = 1.0) -> None:
    """Keep the in-flight gauge current without touching it twice per request."""
    while True:
        ctx.metrics.in_flight.set(ctx.in_flight)
        await asyncio.sleep(every_s)


def create_app(
    settings: IngestionSettings, *, keys: ApiKeys | None = None,
    adapters: Adapters | None = None, producer_factory: ProducerFactory | None = None,
    metrics: IngestionMetrics | None = None, limiter: Limiter | None = None,
) -> web.Application:
    """Build the app. Raises :class:`~services.ingestion.errors.ConfigError` without keys.

    ``producer_factory`` makes the Kafka producer (default: a real ``AIOKafkaProducer``
    from the settings); the producer is started when the app starts and flushed and
    stopped when it is cleaned up.
    """
    keys = keys or load_api_keys(settings)
    metrics = metrics or IngestionMetrics()
    topics = Topics(settings.kafka.topic_prefix)
    needed = [*(topics.feed(s) for s in Sport), topics.rejected]
    publisher = KafkaPublisher(settings, metrics, producer_factory, topics=needed)
    ctx = AppContext(
        settings=settings, keys=keys, limiter=limiter or RateLimiter.from_settings(settings),
        metrics=metrics, publisher=publisher, adapters=adapters or Adapters.default(),
        topics=topics,
    )
    # Requests in flight that have not handed their records over yet may share a batch.
    publisher.requests_in_flight = lambda: ctx.in_flight
    # client_max_size bounds chunked bodies; Content-Length is checked before reading.
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[_observe])
    app[AppContext.KEY] = ctx
    app.router.add_post("/v1/feed/json", _feed_json, name="feed_json")
    app.router.add_post("/v1/feed/xml", _feed_xml, name="feed_xml")
    app.router.add_post("/v1/feed/uof", _feed_uof, name="feed_uof")
    app.router.add_get("/healthz", _healthz, name="healthz")
    app.router.add_get("/readyz", _readyz, name="readyz")
    app.router.add_get("/metrics", _metrics, name="metrics")

    async def start_publisher(_: web.Application) -> None:
        await publisher.start()
        ctx.gauges = asyncio.create_task(_update_gauges(ctx), name="ingestion-gauges")

    async def stop_publisher(_: web.Application) -> None:
        if ctx.gauges is not None:
            ctx.gauges.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ctx.gauges
        await publisher.stop()
        metrics.flush()

    app.on_startup.append(start_publisher)
    app.on_cleanup.append(stop_publisher)
    return app


def context_of(app: web.Application) -> AppContext:
    """The context of an app made by :func:`create_app`."""
    return app[AppContext.KEY]
