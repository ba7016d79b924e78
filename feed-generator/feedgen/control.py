"""The control API on 127.0.0.1:4004: start, stop and watch runs; health and metrics.

``POST /start`` takes the run options as JSON (the CLI's flags by their option
names, e.g. ``{"matches": 50, "rate": 500, "formats": "json,uof", "faults": "dup=0.01"}``;
the API key defaults to the service's) and answers ``202`` with the run id and seed;
``409`` while a run is going. ``POST /stop`` stops it (messages already queued are
recorded as they finish). ``GET /status`` shows the current or last run,
``GET /healthz`` says the service lives, ``GET /metrics`` is Prometheus text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import ValidationError

from feedgen.runner import Run, execute, prepare
from feedgen.settings import FeedgenSettings, RunOptions
from feedgen.stats import Stats

log = logging.getLogger(__name__)
_TOTALS = ("sent", "accepted", "refused", "unacknowledged", "retries", "requests")


class Controller:
    """Holds the current run and the totals of the finished ones."""

    KEY: web.AppKey[Controller]

    def __init__(self, settings: FeedgenSettings) -> None:
        self.settings = settings
        self.run: Run | None = None
        self.task: asyncio.Task[Run] | None = None
        self.totals: Counter[str] = Counter()
        self.latency_total = 0.0  # seconds of the finished runs' answered requests

    @property
    def busy(self) -> bool:
        """A run is in progress."""
        return self.task is not None and not self.task.done()

    def options(self, body: dict[str, Any]) -> RunOptions:
        """Run options from a request body, with the service's defaults filled in."""
        return self.settings.run_options(body)

    async def start(self, opts: RunOptions) -> Run:
        """Start a run in the background."""
        run = prepare(opts)
        self.run = run
        self.task = asyncio.create_task(self._execute(run), name=f"feedgen-run-{run.run_id}")
        return run

    async def _execute(self, run: Run) -> Run:
        try:
            return await execute(run, progress=None)
        except Exception:
            log.exception("run %s failed", run.run_id)
            return run
        finally:
            for name in _TOTALS:
                self.totals[name] += int(getattr(run.stats, name))
            self.latency_total += run.stats.latency_total

    async def stop(self) -> None:
        """Stop the current run and wait for it to wind down."""
        if self.run is not None:
            self.run.stop.set()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task


class _RunCollector(Collector):
    """Prometheus view of the controller: totals over all runs plus the current one."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def collect(self) -> Iterator[Metric]:
        c = self.controller
        live = c.run.stats if c.run is not None and c.busy else None
        for name in _TOTALS:
            value = c.totals[name] + (int(getattr(live, name)) if live else 0)
            family = CounterMetricFamily(f"feedgen_{name}", f"Messages {name} (requests and "
                                         "retries: their count) over all runs")
            family.add_metric([], value)
            yield family
        running = GaugeMetricFamily("feedgen_running", "1 while a run is in progress")
        running.add_metric([], 1.0 if c.busy else 0.0)
        yield running
        rate = GaugeMetricFamily("feedgen_rate_messages_per_second", "Answered messages/s (5 s)")
        rate.add_metric([], live.rate() if live else 0.0)
        yield rate
        yield _latency_summary(c, live)
        behind = GaugeMetricFamily("feedgen_schedule_behind_seconds",
                                   "How far sending lags the plan's schedule")
        behind.add_metric([], live.behind if live else 0.0)
        yield behind


def _latency_summary(c: Controller, live: Stats | None) -> Metric:
    """Request latency as a summary: p50 and p99 over the last 10 s, count and sum over
    all runs (a ``quantile`` label belongs to a summary, never to a gauge)."""
    name = "feedgen_request_latency_seconds"
    summary = Metric(name, "Request latency (quantiles over the last 10 s)", "summary")
    for q in (0.5, 0.99):
        summary.add_sample(name, {"quantile": str(q)}, live.recent_latency(q) if live else 0.0)
    summary.add_sample(f"{name}_count", {},
                       float(c.totals["requests"] + (live.requests if live else 0)))
    summary.add_sample(f"{name}_sum", {}, c.latency_total + (live.latency_total if live else 0.0))
    return summary


async def _start(request: web.Request) -> web.Response:
    controller = request.app[Controller.KEY]
    if controller.busy:
        return web.json_response({"error": "a run is in progress; POST /stop first"}, status=409)
    try:
        body = await request.json() if request.can_read_body else {}
        opts = controller.options(body if isinstance(body, dict) else {})
    except ValueError as exc:  # bad JSON, or options pydantic refuses
        detail = exc.errors(include_url=False) if isinstance(exc, ValidationError) else str(exc)
        return web.json_response({"error": "invalid run options", "detail": detail},
                                 status=400, dumps=_dumps)
    if opts.api_key is None:
        return web.json_response({"error": "no API key: set SPORTSFEED_FEEDGEN_API_KEY or pass "
                                  "api_key"}, status=400)
    run = await controller.start(opts)
    return web.json_response({"run_id": run.run_id, "seed": run.seed, "state": run.state},
                             status=202)


async def _stop(request: web.Request) -> web.Response:
    controller = request.app[Controller.KEY]
    if not controller.busy:
        return web.json_response({"error": "no run in progress"}, status=409)
    await controller.stop()
    run = controller.run
    return web.json_response({"run_id": run.run_id if run else None,
                              "state": run.state if run else "idle"})


async def _status(request: web.Request) -> web.Response:
    controller = request.app[Controller.KEY]
    run = controller.run
    if run is None:
        return web.json_response({"state": "idle"})
    return web.json_response({"state": run.state, "progress": run.stats.line(),
                              "run": run.meta()}, dumps=_dumps)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    registry = request.app[_REGISTRY]
    return web.Response(body=generate_latest(registry),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


_REGISTRY: web.AppKey[CollectorRegistry] = web.AppKey("feedgen_registry", CollectorRegistry)
Controller.KEY = web.AppKey("feedgen_controller", Controller)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


def create_app(settings: FeedgenSettings) -> web.Application:
    """The control application, with its own controller and metrics registry."""
    app = web.Application()
    controller = Controller(settings)
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_RunCollector(controller))
    app[Controller.KEY] = controller
    app[_REGISTRY] = registry
    app.router.add_post("/start", _start)
    app.router.add_post("/stop", _stop)
    app.router.add_get("/status", _status)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)

    async def _shutdown(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[Controller.KEY].stop()

    app.cleanup_ctx.append(_shutdown)
    return app
