"""The REST endpoints (documented in ``docs/rest.md`` and ``/openapi.json``)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from services.distribution.rest.access import require_sport, scoped_sports
from services.distribution.rest.context import RestContext
from services.distribution.rest.params import (
    ParamError,
    check_id,
    decode_cursor,
    encode_cursor,
    one,
    parse_choice,
    parse_enums,
    parse_ids,
    parse_limit,
    parse_market_key,
    parse_range,
)
from services.distribution.rest.queries import EventFilter
from services.distribution.rest.views import (
    cancellation_row,
    event_detail,
    event_summary,
    history_csv,
    history_row,
    iso,
    ledger_summary,
    refusal_row,
    settlement_row,
)
from services.distribution.ws.fanout import PartitionLag
from shared.enums import LIVE_EVENT_STATUSES, EventStatus, Sport
from shared.rules import rules_for
from shared.storage.pool import from_db_datetime, ping

PROVIDER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
_LIVE = frozenset(s.value for s in LIVE_EVENT_STATUSES)


def json_response(body: Any, status: int = 200) -> web.Response:
    """A JSON response (orjson: fast, and exact with the strings we give it)."""
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def not_found(detail: str) -> web.Response:
    """404 with a JSON body."""
    return json_response({"error": "not_found", "detail": detail}, 404)


def ctx_of(request: web.Request) -> RestContext:
    """The app's context."""
    return request.app[RestContext.KEY]


async def sports(request: web.Request) -> web.Response:
    """``GET /v1/sports``: each sport the key covers, with its markets, periods and event counts."""
    counts: dict[str, dict[str, int]] = {}
    for sport, status, n in await ctx_of(request).queries.sport_counts():
        counts.setdefault(sport, {})[status] = int(n)
    body = []
    for sport in scoped_sports(request, []) or list(Sport):  # the key's sports, in order
        rules = rules_for(sport)
        by_status = counts.get(sport.value, {})
        body.append({
            "id": sport.value,
            "name": sport.value.replace("_", " ").title(),
            "events": sum(by_status.values()),
            "live": sum(n for s, n in by_status.items() if s in _LIVE),
            "market_types": sorted(rules.markets),
            "periods": list(rules.periods),
        })
    return json_response({"sports": body})


async def events(request: web.Request) -> web.Response:
    """``GET /v1/events``: filtered, ordered by (start_time, id), cursor paged."""
    ctx = ctx_of(request)
    q = request.query
    start, end = parse_range(q)
    f = EventFilter(
        sports=scoped_sports(request, parse_enums(q, "sport", Sport)),
        statuses=parse_enums(q, "status", EventStatus),
        competitions=parse_ids(q, "competition"),
        start_from=start, start_to=end, after=decode_cursor(q),
        limit=parse_limit(q, default=min(100, ctx.settings.page_max), maximum=ctx.settings.page_max),
    )
    rows = await ctx.queries.events(f)
    page = rows[: f.limit]
    next_cursor = None
    if len(rows) > f.limit:
        last = page[-1]
        next_cursor = encode_cursor(from_db_datetime(last[3]), last[0])
    return json_response({"events": [event_summary(r) for r in page], "next_cursor": next_cursor})


async def event(request: web.Request) -> web.Response:
    """``GET /v1/events/{id}``: live state from Redis, MySQL when Redis has none."""
    ctx = ctx_of(request)
    event_id = check_id(request.match_info["id"], "id")
    cached = ctx.details.get(event_id)
    if cached is None:
        snapshot, source = await ctx.source.one(event_id)
        if snapshot is None:
            return not_found(f"unknown event {event_id}")
        body, sport = orjson.dumps(event_detail(snapshot, source)), snapshot["sport"]
        ctx.details.put(event_id, body, sport)
    else:
        body, sport = cached
    require_sport(request, sport)
    return web.Response(body=body, content_type="application/json")


async def history(request: web.Request) -> web.StreamResponse:
    """``GET /v1/events/{id}/markets/{market_key}/history``: odds changes, JSON or CSV."""
    ctx = ctx_of(request)
    event_id = check_id(request.match_info["id"], "id")
    market_key = parse_market_key(request.match_info["market_key"])
    q = request.query
    start, end = parse_range(q)
    fmt = parse_choice(q, "format", ("json", "csv"))
    limit = parse_limit(q, default=ctx.settings.history_max, maximum=ctx.settings.history_max)
    sport = await ctx.queries.event_sport(event_id)
    if sport is None:
        return not_found(f"unknown event {event_id}")
    require_sport(request, sport)
    if not await ctx.queries.market_exists(event_id, market_key):
        return not_found(f"event {event_id} has no market {market_key}")
    rows = await ctx.queries.history(event_id, market_key, start, end, limit)
    changes = [history_row(r) for r in rows[:limit]]
    if fmt == "csv":
        return web.Response(
            text=history_csv(changes), content_type="text/csv", charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{event_id}-history.csv"'},
        )
    return json_response({
        "event_id": event_id, "market_key": market_key,
        "from": iso(start), "to": iso(end),
        "changes": changes, "truncated": len(rows) > limit,
    })


async def settlements(request: web.Request) -> web.Response:
    """``GET /v1/settlements?event_id=``: results and cancellations (rolled back and superseded
    ones too), and the markets such messages named but did not apply."""
    ctx = ctx_of(request)
    raw = one(request.query, "event_id")
    if raw is None:
        raise ParamError("event_id", "is required")
    event_id = check_id(raw, "event_id")
    sport = await ctx.queries.event_sport(event_id)
    if sport is None:
        return not_found(f"unknown event {event_id}")
    require_sport(request, sport)
    settled, cancelled, refused = await ctx.queries.settlements(event_id)
    return json_response({
        "event_id": event_id,
        "settlements": [settlement_row(r) for r in settled],
        "cancellations": [cancellation_row(r) for r in cancelled],
        "refused": [refusal_row(r) for r in refused],
    })


async def ledger(request: web.Request) -> web.Response:
    """``GET /v1/ledger/summary``: every accepted message's disposition, by sport and provider."""
    q = request.query
    start, end = parse_range(q)
    sports_ = scoped_sports(request, parse_enums(q, "sport", Sport))
    providers = parse_ids(q, "provider")
    for provider in providers:
        if len(provider) > 32 or not set(provider) <= PROVIDER_CHARS:
            raise ParamError("provider", "providers are 1-32 characters of a-z 0-9 _ -")
    counts, repeats = await ctx_of(request).queries.ledger(start, end, sports_, providers)
    return json_response(ledger_summary(counts, repeats, start, end))


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: MySQL and Redis answer and the Kafka consumer runs (each checked briefly)."""
    ctx = ctx_of(request)
    checks: dict[str, str] = {}

    async def check(name: str, probe: Any) -> None:
        try:
            async with asyncio.timeout(2.0):
                await probe
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"failing: {type(exc).__name__}"

    await asyncio.gather(check("mysql", ping(ctx.pool)), check("redis", ctx.cache.ping()))
    fanout = ctx.fanout
    checks["kafka_consumer"] = "ok" if fanout is not None and fanout.running else "not running"
    if fanout is not None and fanout.running:
        checks["lag"] = lag_check(await fanout.lag(), ctx.settings.consumer_max_lag_s)
    if ctx.closing:
        checks["service"] = "shutting down"
    ready = all(v == "ok" for v in checks.values())
    return json_response({"status": "ready" if ready else "not ready", "checks": checks},
                         200 if ready else 503)


def lag_check(lag: list[PartitionLag], max_s: float) -> str:
    """``ok``, or which partitions have been behind the broker for more than ``max_s``."""
    late = [x for x in lag if x.seconds > max_s]
    if not late:
        return "ok"
    return "behind: " + ", ".join(
        f"{x.topic}[{x.partition}] by {x.records:,} records, {x.seconds:.0f} s"
        for x in sorted(late, key=lambda x: (x.topic, x.partition)))


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition of this process's registry (the consumer's lag measured
    as it is scraped)."""
    ctx = ctx_of(request)
    if ctx.fanout is not None and ctx.fanout.running:
        await ctx.fanout.lag()
    return web.Response(
        body=ctx.metrics.render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


async def page_config(request: web.Request) -> web.Response:
    """Where the trading page finds the WebSocket (the page derives the host itself), and
    whether it needs a consumer key (``auth``: ``keys`` or ``off``)."""
    s = ctx_of(request).settings
    port = request.app.get(WS_PORT_KEY, s.ws_port)
    return json_response({"ws_url": s.ws_public_url, "ws_port": port,
                          "heartbeat_s": s.heartbeat_s, "auth": s.auth})


WS_PORT_KEY: web.AppKey[int] = web.AppKey("ws_port", int)
