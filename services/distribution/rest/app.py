"""The aiohttp application: routes, consumer keys, error handling, request metrics, the page.

Every ``/v1`` route sits behind its surface's key check (``rest/access.py``); the
operational routes (``/healthz``, ``/readyz``, ``/metrics``), the OpenAPI document and
the page's own files are open. A known path asked with a method it does not have is
answered 405 with ``Allow``; an unknown path 404.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiomysql
import orjson
import redis.exceptions
from aiohttp import web

from services.distribution.access import Access
from services.distribution.rest import access, handlers, history, ops, predictions, trading
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
        except access.AccessRefused as exc:
            status = exc.status
            return exc.response()
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


def _only(parameters: frozenset[str], handler: Handler) -> Handler:
    """``handler``, refusing query parameters it does not take (a typo is not "no filter")."""

    async def strict(request: web.Request) -> web.StreamResponse:
        if request.query:
            unknown = sorted(set(request.query) - parameters)
            if unknown:
                raise ParamError(unknown[0], "is not a parameter of this operation")
        return await handler(request)

    return strict


async def _no_route(request: web.Request) -> web.Response:
    # The catch-all route wins over a known path asked with another method: tell them apart.
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource.name != "unmatched":
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        methods = ", ".join(sorted(allowed))
        response = _error(405, "method_not_allowed",
                          f"{request.path} does not answer {request.method}; it answers {methods}")
        response.headers["Allow"] = methods
        return response
    return _error(404, "not_found", f"no route {request.method} {request.path}")


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _ops_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "ops.html", headers={"Cache-Control": "no-cache"})


def create_app(ctx: RestContext, keys: Access, *, ws_port: int | None = None) -> web.Application:
    """The REST app on ``ctx`` behind ``keys``; ``ws_port`` is what the page's config tells browsers."""
    app = web.Application()
    app[RestContext.KEY] = ctx
    app[access.ACCESS] = keys
    app[handlers.WS_PORT_KEY] = ws_port if ws_port is not None else ctx.settings.ws_port
    s = ctx.settings
    document = openapi_document(batch_max=s.prediction_batch_max, history_max=s.history_max,
                                page_max=s.page_max)
    spec = orjson.dumps(document)
    # The query parameters each operation takes, from the document: any other is a 400.
    known = {path: frozenset(p["name"] for op in operations.values()
                             for p in op.get("parameters", ()) if p["in"] == "query")
             for path, operations in document["paths"].items()}

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(body=spec, content_type="application/json")

    # path, route name (metrics label), handler; the key check is access.SURFACE_OF's
    routes: list[tuple[str, str, Handler]] = [
        ("/v1/sports", "sports", handlers.sports),
        ("/v1/events", "events", handlers.events),
        ("/v1/events/{id}", "event", handlers.event),
        ("/v1/events/{id}/markets/{market_key}/history", "history", handlers.history),
        ("/v1/settlements", "settlements", handlers.settlements),
        ("/v1/events/{id}/bookmaker-odds", "bookmaker_odds", history.bookmaker_odds),
        ("/v1/history/status", "history_status", history.history_status),
        ("/v1/competitions", "competitions", history.competitions),
        ("/v1/competitions/{id}/table", "competition_table", history.competition_table),
        ("/v1/events/{id}/prediction", "prediction", predictions.prediction),
        ("/v1/trading/strategies", "trading_strategies", trading.strategies),
        ("/v1/trading/bets", "trading_bets", trading.bets),
        ("/v1/trading/performance", "trading_performance", trading.performance),
        ("/v1/ledger/summary", "ledger", handlers.ledger),
        ("/v1/access/key", "access_key", access.my_key),
        ("/v1/access/usage", "access_usage", access.usage),
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

    def checked(path: str, handler: Handler) -> Handler:
        if path not in access.SURFACE_OF:
            return handler  # operational, the document, the pages: open
        if path in known:
            handler = _only(known[path], handler)
        # The operations page's endpoints are not in the document (they proxy Prometheus):
        # their handlers check their own parameters.
        return access.guard(keys, access.SURFACE_OF[path], handler)

    r = app.router
    for path, name, handler in routes:
        r.add_get(path, _instrument(name, checked(path, handler)), name=name)
    r.add_post("/v1/predictions/batch", _instrument(
        "predictions_batch", checked("/v1/predictions/batch", predictions.predictions_batch)),
        name="predictions_batch")
    r.add_static("/static/", STATIC_DIR, name="static", append_version=False)
    # Last: anything else is a JSON 404 rather than aiohttp's plain-text one.
    r.add_route("*", "/{tail:.*}", _instrument("unmatched", _no_route), name="unmatched")
    return app
