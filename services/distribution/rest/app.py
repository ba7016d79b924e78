"""The aiohttp application: routes, error handling, request metrics and the static page."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiomysql
import orjson
import redis.exceptions
from aiohttp import web

from services.distribution.rest import handlers, history, ops, predictions, trading
from services.distribution.rest.context import RestContext
from services.distribution.rest.openapi import openapi_document
from services.distribution.rest.params import ParamError

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
UNAVAILABLE = (TimeoutError, OSError, aiomysql.OperationalError, aiomysql.InterfaceError,
               redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, error: str, detail: str, **extra: str) -> web.Response:
    return handlers.json_response({"error": error, "detail": detail, **extra}, status)


def _instrument(route: str, handler: Handler) -> Handler:
    """Time a handler and turn every failure into a JSON error (400 names the parameter).

    A wrapper per route rather than an aiohttp middleware: the middleware chain costs
    every request several microseconds, which shows at ten thousand requests a second.
    """

    async def wrapped(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except ParamError as exc:
            status = 400
            return _error(400, "bad_request", exc.detail, parameter=exc.parameter)
        except web.HTTPException as exc:
            status = exc.status
            if exc.status >= 400:
                return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
            raise
        except UNAVAILABLE as exc:
            # A store that is down or slow is not a bug here: tell the client to retry.
            status = 503
            log.warning("%s %s: dependency unavailable: %r", request.method, request.path, exc)
            response = _error(503, "unavailable", "a data store is unavailable; retry shortly")
            response.headers["Retry-After"] = "1"
            return response
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return _error(500, "internal", "internal error")
        finally:
            request.app[RestContext.KEY].metrics.observe_request(
                route, status, time.perf_counter() - started
            )

    return wrapped


async def _no_route(request: web.Request) -> web.Response:
    return _error(404, "not_found", f"no route {request.method} {request.path}")


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _ops_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "ops.html", headers={"Cache-Control": "no-cache"})


def create_app(ctx: RestContext, *, ws_port: int | None = None) -> web.Application:
    """The REST app on ``ctx``; ``ws_port`` is what the page's config tells browsers."""
    app = web.Application()
    app[RestContext.KEY] = ctx
    app[handlers.WS_PORT_KEY] = ws_port if ws_port is not None else ctx.settings.ws_port
    spec = orjson.dumps(openapi_document(batch_max=ctx.settings.prediction_batch_max))

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(body=spec, content_type="application/json")

    routes: list[tuple[str, str, Handler]] = [
        ("/v1/sports", "sports", handlers.sports),
        ("/v1/events", "events", handlers.events),
        ("/v1/events/{id}", "event", handlers.event),
        ("/v1/events/{id}/markets/{market_key}/history", "history", handlers.history),
        ("/v1/events/{id}/bookmaker-odds", "bookmaker_odds", history.bookmaker_odds),
        ("/v1/events/{id}/prediction", "prediction", predictions.prediction),
        ("/v1/settlements", "settlements", handlers.settlements),
        ("/v1/history/status", "history_status", history.history_status),
        ("/v1/competitions", "competitions", history.competitions),
        ("/v1/competitions/{id}/table", "competition_table", history.competition_table),
        ("/v1/ledger/summary", "ledger", handlers.ledger),
        ("/v1/trading/strategies", "trading_strategies", trading.strategies),
        ("/v1/trading/bets", "trading_bets", trading.bets),
        ("/v1/trading/performance", "trading_performance", trading.performance),
        ("/openapi.json", "openapi", openapi),
        ("/healthz", "healthz", handlers.healthz),
        ("/readyz", "readyz", handlers.readyz),
        ("/metrics", "metrics", handlers.metrics),
        ("/config.json", "config", handlers.page_config),
        ("/v1/ops/panels", "ops_panels", ops.panels),
        ("/v1/ops/series/{panel}", "ops_series", ops.series),
        ("/v1/ops/targets", "ops_targets", ops.targets),
        ("/ops", "ops", _ops_page),
        ("/", "index", _index),
    ]
    r = app.router
    for path, name, handler in routes:
        r.add_get(path, _instrument(name, handler), name=name)
    r.add_post("/v1/predictions/batch", _instrument("predictions_batch", predictions.predictions_batch),
               name="predictions_batch")
    r.add_static("/static/", STATIC_DIR, name="static", append_version=False)
    # Last: anything else is a JSON 404 rather than aiohttp's plain-text one.
    r.add_route("*", "/{tail:.*}", _instrument("unmatched", _no_route), name="unmatched")
    return app
