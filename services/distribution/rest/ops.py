"""The operations page's data: the platform's key series, read from Prometheus.

The page (``/ops``, ``static/ops.*``) never talks to Prometheus itself: distribution
proxies Prometheus's HTTP query API (``SPORTSFEED_DISTRIBUTION_PROMETHEUS_URL``) for a
fixed catalogue of panels (:data:`PANELS`), so the browser needs only the page's own
origin (no CORS, Prometheus need not be reachable from it) and no PromQL comes from a
client. The panels' queries are the Grafana dashboard's
(``infra/monitoring/grafana/dashboards/sportsfeed.json``; a unit test keeps them equal),
over the recording rules of ``infra/monitoring/rules/recording.yml``.

- ``GET /v1/ops/panels``: the catalogue (id, title, unit, each query's legend);
- ``GET /v1/ops/series/{panel}?minutes=15``: each query's ``query_range`` over the last
  ``minutes`` (1-1440), about 240 points per series;
- ``GET /v1/ops/targets``: Prometheus's scrape targets and their health.

Prometheus unreachable or failing: ``503`` naming it, so the page can say so.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from services.distribution.rest.context import RestContext
from services.distribution.rest.handlers import json_response
from services.distribution.rest.params import ParamError

TIMEOUT_S = 5.0
POINTS = 240


@dataclass(frozen=True)
class Query:
    """One PromQL expression of a panel, and how its series are named (``{label}`` fields)."""

    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    """One chart of the page (and of the Grafana dashboard)."""

    id: str
    title: str
    unit: str  # "msg/s", "s", "records", "clients", "messages"
    queries: tuple[Query, ...]


PANELS: tuple[Panel, ...] = (
    Panel("accepted", "Messages accepted by provider", "msg/s", (
        Query("provider:sportsfeed_ingestion_messages_accepted:rate1m", "{provider}"),)),
    Panel("refused", "Messages refused by provider and reason", "msg/s", (
        Query("provider_reason:sportsfeed_ingestion_messages_refused:rate1m",
              "{provider} {reason_class}"),)),
    Panel("throughput", "Processor throughput by sport", "msg/s", (
        Query("sport:sportsfeed_processor_messages:rate1m", "{sport}"),)),
    Panel("dispositions", "Ledger dispositions", "msg/s", (
        Query("disposition:sportsfeed_processor_messages:rate1m", "{disposition}"),)),
    Panel("batch", "Processor batch size (mean)", "messages", (
        Query("sport:sportsfeed_processor_batch_size:mean1m", "{sport}"),)),
    Panel("commit", "Batch commit latency p99 (decide + MySQL)", "s", (
        Query("sport:sportsfeed_processor_apply_seconds:p99_5m", "{sport}"),)),
    Panel("lag", "Consumer lag by sport", "s", (
        Query("sport:sportsfeed_processor_lag_seconds:max", "processor {sport}"),
        Query("sport:sportsfeed_distribution_consumer_lag_seconds:max", "fan-out {sport}"))),
    Panel("clients", "WebSocket clients", "clients", (
        Query("job:sportsfeed_distribution_ws_clients:sum", "clients"),)),
    Panel("deltas", "WebSocket deltas per second", "msg/s", (
        Query("job:sportsfeed_distribution_updates_consumed:rate1m", "deltas in"),
        Query("job:sportsfeed_distribution_ws_messages_written:rate1m", "messages out"))),
    Panel("rest", "REST latency p99 by route", "s", (
        Query("route:sportsfeed_distribution_http_request_seconds:p99_5m", "{route}"),)),
)
PANELS_BY_ID = {p.id: p for p in PANELS}


class PrometheusUnavailable(Exception):
    """Prometheus did not answer, or answered with an error."""


class PrometheusClient:
    """Reads Prometheus's HTTP API; one session per process (an async context manager)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PrometheusClient:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The ``data`` of an API answer; :class:`PrometheusUnavailable` otherwise."""
        if self._session is None:
            raise PrometheusUnavailable("not started")
        try:
            async with self._session.get(self.url + path, params=params) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise PrometheusUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else body
            raise PrometheusUnavailable(f"HTTP {response.status}: {error}")
        return body.get("data")

    async def query_range(self, expr: str, start: float, end: float, step: float) -> list[Any]:
        """The matrix of one expression."""
        data = await self.get("/api/v1/query_range", {
            "query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})
        return list(data.get("result") or []) if isinstance(data, dict) else []


def _client(request: web.Request) -> PrometheusClient:
    client = request.app[RestContext.KEY].prometheus
    if client is None:
        raise web.HTTPServiceUnavailable(reason="no Prometheus client")
    return client


def _unavailable(client: PrometheusClient, exc: Exception) -> web.Response:
    response = json_response({"error": "unavailable", "prometheus": client.url,
                              "detail": f"Prometheus at {client.url}: {exc}"[:500]}, 503)
    response.headers["Retry-After"] = "5"
    return response


def _points(values: list[list[Any]]) -> list[list[float | None]]:
    out: list[list[float | None]] = []
    for t, v in values:
        number = float(v)
        out.append([float(t), None if math.isnan(number) or math.isinf(number) else number])
    return out


async def panels(request: web.Request) -> web.Response:
    """``GET /v1/ops/panels``: the catalogue of charts."""
    return json_response({
        "prometheus": _client(request).url,
        "panels": [{"id": p.id, "title": p.title, "unit": p.unit,
                    "queries": [{"expr": q.expr, "legend": q.legend} for q in p.queries]}
                   for p in PANELS]})


async def series(request: web.Request) -> web.Response:
    """``GET /v1/ops/series/{panel}?minutes=N``: each query's series over the window."""
    panel = PANELS_BY_ID.get(request.match_info["panel"])
    if panel is None:
        raise ParamError("panel", f"one of {', '.join(PANELS_BY_ID)}")
    raw = request.query.get("minutes", "15")
    if not raw.isdigit() or not 1 <= int(raw) <= 1440:
        raise ParamError("minutes", "a whole number of minutes, 1 to 1440")
    minutes = int(raw)
    end = time.time()
    start = end - minutes * 60
    step = max(5.0, round(minutes * 60 / POINTS))
    client = _client(request)
    try:
        results = await asyncio.gather(*(client.query_range(q.expr, start, end, step)
                                         for q in panel.queries))
    except PrometheusUnavailable as exc:
        return _unavailable(client, exc)
    lines = []
    for query, result in zip(panel.queries, results, strict=True):
        for item in result:
            labels = defaultdict(str, item.get("metric") or {})
            lines.append({"label": query.legend.format_map(labels).strip() or query.expr,
                          "points": _points(item.get("values") or [])})
    lines.sort(key=lambda line: str(line["label"]))
    return json_response({"panel": panel.id, "start": start, "end": end, "step": step,
                          "series": lines})


async def targets(request: web.Request) -> web.Response:
    """``GET /v1/ops/targets``: every scrape target, its health and last error."""
    client = _client(request)
    try:
        data = await client.get("/api/v1/targets", {"state": "active"})
    except PrometheusUnavailable as exc:
        return _unavailable(client, exc)
    found = [{"job": t["labels"].get("job", ""), "service": t["labels"].get("service", ""),
              "url": t.get("scrapeUrl", ""), "health": t.get("health", "unknown"),
              "error": t.get("lastError") or None, "last_scrape": t.get("lastScrape")}
             for t in (data or {}).get("activeTargets", [])]
    found.sort(key=lambda t: (t["job"], t["service"]))
    return json_response({"prometheus": client.url, "targets": found,
                          "up": sum(t["health"] == "up" for t in found)})
