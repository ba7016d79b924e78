"""The REST API against a seeded MySQL and Redis: filters, paging, detail, history, errors."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from services.distribution.service import DistributionService
from shared.enums import EventStatus, Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    STATUS_CYCLE,
    T0,
    api_session,
    delta,
    get_json,
    publish,
    publisher,
    rest_dataset,
    running_service,
    seed_mysql,
    seed_redis,
    service_settings,
    snapshot,
)

pytestmark = pytest.mark.integration

@pytest.fixture
async def rest(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> AsyncIterator[tuple[DistributionService, aiohttp.ClientSession]]:
    """The service on a database of 36 events; Redis holds all but e35's snapshot."""
    events, extra = rest_dataset()
    await seed_mysql(mysql_settings, events, extra)
    await seed_redis(redis_settings, events[:-1])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, api_session() as session:
        yield service, session


async def fetch(rest: tuple[DistributionService, aiohttp.ClientSession], path: str) -> tuple[int, Any]:
    """GET a path of the service."""
    service, session = rest
    return await get_json(session, service.rest_url + path)


async def walk(rest: tuple[DistributionService, aiohttp.ClientSession], query: str) -> list[str]:
    """Every event id over every page of a query."""
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        path = f"/v1/events?{query}" + (f"&cursor={cursor}" if cursor else "")
        status, body = await fetch(rest, path)
        assert status == 200, body
        ids += [e["id"] for e in body["events"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("paging did not end")


async def test_walking_all_pages_returns_every_event_once_in_start_order(rest: Any) -> None:
    ids = await walk(rest, "limit=7")
    assert ids == [f"e{n:02d}" for n in range(36)]
    assert await walk(rest, "limit=500") == ids
    football = await walk(rest, "sport=football&limit=2")
    assert football == [f"e{n:02d}" for n in range(0, 36, 4)]


async def test_event_filters_combine_sport_status_competition_and_start_range(rest: Any) -> None:
    status, body = await fetch(rest, "/v1/events?status=live,ended&sport=football,tennis")
    assert status == 200
    got = [e["id"] for e in body["events"]]
    assert got == [f"e{n:02d}" for n in range(36)
                   if n % 4 in (0, 2) and STATUS_CYCLE[n % 3] != EventStatus.NOT_STARTED]
    frm, to = (T0 + timedelta(hours=3)).isoformat(), (T0 + timedelta(hours=5)).isoformat()
    status, body = await fetch(rest, f"/v1/events?competition=comp-1&from={quote(frm)}&to={quote(to)}")
    assert [e["id"] for e in body["events"]] == ["e07", "e09"]
    first = body["events"][0]
    assert first["competition"]["id"] == "comp-1"
    assert [c["qualifier"] for c in first["competitors"]] == ["home", "away"]
    assert first["start_time"] == "2026-05-01T21:00:00Z"
    # to before from: an empty range, not an error.
    status, body = await fetch(rest, f"/v1/events?from={quote(to)}&to={quote(frm)}")
    assert (status, body["events"], body["next_cursor"]) == (200, [], None)


async def test_event_detail_comes_from_redis_with_prices_as_strings(rest: Any) -> None:
    status, body = await fetch(rest, "/v1/events/e04")
    assert status == 200
    assert body["source"] == "redis"
    assert body["version"] == 5
    by_key = {m["market_key"]: m for m in body["markets"]}
    assert [o["price"] for o in by_key["1x2"]["outcomes"]] == ["2.1", "3.4", "3.6"]
    assert by_key["totals|total=2.5"]["status"] == "suspended"
    assert by_key["totals|total=2.5"]["specifiers"] == {"total": "2.5"}
    assert body["live"]["score"] == {"home": 0, "away": 0, "periods": []}


async def test_event_detail_falls_back_to_mysql_when_redis_has_no_snapshot(rest: Any) -> None:
    status, body = await fetch(rest, "/v1/events/e35")
    assert status == 200
    assert body["source"] == "mysql"
    assert body["version"] == 36
    assert body["competition"]["id"] == "comp-1"
    prices = {m["market_key"]: [o["price"] for o in m["outcomes"]] for m in body["markets"]}
    # MySQL's DECIMAL(10,4) comes back in its shortest form, as processors write it.
    assert prices == {"1x2": ["2.1", "3.4", "3.6"], "totals|total=2.5": ["1.9", "1.9"]}


async def test_odds_history_in_json_and_csv_with_a_time_range(rest: Any) -> None:
    key = quote("1x2", safe="")
    status, body = await fetch(rest, f"/v1/events/e00/markets/{key}/history")
    assert status == 200
    assert [(c["outcome_id"], c["price"]) for c in body["changes"]] == [
        ("home", "2.1"), ("home", "2.05"), ("draw", "3.3"), ("home", "1.98"), ("away", None)]
    frm = quote((T0 + timedelta(minutes=1)).isoformat())
    to = quote((T0 + timedelta(minutes=3)).isoformat())
    status, body = await fetch(rest, f"/v1/events/e00/markets/{key}/history?from={frm}&to={to}")
    assert [c["price"] for c in body["changes"]] == ["2.05", "3.3"]
    service, session = rest
    url = f"{service.rest_url}/v1/events/e00/markets/{key}/history?format=csv"
    async with asyncio.timeout(10), session.get(url) as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["price"] for r in rows] == ["2.1", "2.05", "3.3", "1.98", ""]
    totals = quote("totals|total=2.50", safe="")
    status, body = await fetch(rest, f"/v1/events/e04/markets/{totals}/history")
    assert status == 200  # the key is normalised (2.50 -> 2.5); e04 has it but no history yet
    assert body["market_key"] == "totals|total=2.5"
    assert body["changes"] == []


async def test_settlements_list_results_and_cancellations_with_rollbacks_flagged(rest: Any) -> None:
    status, body = await fetch(rest, "/v1/settlements?event_id=e02")
    assert status == 200
    results = {(s["outcome_id"], s["result"], s["void_factor"], s["in_force"]) for s in body["settlements"]}
    assert results == {("home", "won", "0", True), ("away", "lost", "0.5", False)}
    assert body["cancellations"][0]["void_reason"] == "abandoned"


async def test_ledger_summary_counts_every_disposition_by_sport_and_provider(rest: Any) -> None:
    status, body = await fetch(rest, "/v1/ledger/summary")
    assert status == 200
    assert body["totals"]["accepted"] == 9 + 2
    assert body["totals"]["repeats"] == 2
    rows = {(r["sport"], r["provider"]): r for r in body["rows"]}
    beta = rows[("football", "beta")]
    assert (beta["applied"], beta["stale"], beta["duplicate"], beta["repeats"]) == (1, 1, 2, 2)
    for row in body["rows"]:
        assert row["accepted"] == row["applied"] + row["duplicate"] + row["stale"] + row["rejected"]
    to = quote((T0 + timedelta(minutes=6)).isoformat())
    status, body = await fetch(rest, f"/v1/ledger/summary?to={to}&provider=acme&sport=basketball")
    assert body["totals"]["accepted"] == 2  # m1, m5


@pytest.mark.parametrize(("path", "parameter"), [
    ("/v1/events?limit=0", "limit"),
    ("/v1/events?limit=501", "limit"),
    ("/v1/events?limit=ten", "limit"),
    ("/v1/events?sport=curling", "sport"),
    ("/v1/events?status=playing", "status"),
    ("/v1/events?from=yesterday", "from"),
    ("/v1/events?from=2026-05-01T18:00:00", "from"),
    ("/v1/events?from=1969-12-31T23:00:00Z", "from"),
    ("/v1/events?cursor=bm9wZQ", "cursor"),
    ("/v1/events?sport=football,%20tennis", "sport"),
    ("/v1/events?sports=football", "sports"),
    ("/v1/events?competition=bad%20id", "competition"),
    ("/v1/settlements", "event_id"),
    ("/v1/events/e00/markets/1x2/history?format=xml", "format"),
    ("/v1/events/e00/markets/BAD%20KEY/history", "market_key"),
    ("/v1/ledger/summary?provider=UPPER", "provider"),
])
async def test_bad_parameters_answer_400_naming_the_parameter(
    rest: Any, path: str, parameter: str
) -> None:
    status, body = await fetch(rest, path)
    assert status == 400
    assert body["parameter"] == parameter
    assert body["error"] == "bad_request"


@pytest.mark.parametrize("path", [
    "/v1/events/nope", "/v1/events/nope/markets/1x2/history", "/v1/settlements?event_id=nope",
    "/v1/events/e00/markets/btts/history",
])
async def test_unknown_events_and_markets_answer_404(rest: Any, path: str) -> None:
    status, body = await fetch(rest, path)
    assert status == 404
    assert body["error"] == "not_found"


async def test_sports_health_readiness_metrics_openapi_and_page(rest: Any) -> None:
    status, body = await fetch(rest, "/v1/sports")
    assert status == 200
    football = next(s for s in body["sports"] if s["id"] == "football")
    assert (football["events"], football["live"]) == (9, 3)
    assert "1x2" in football["market_types"]
    assert (await fetch(rest, "/healthz"))[0] == 200
    status, body = await fetch(rest, "/readyz")
    assert (status, body["status"]) == (200, "ready")
    assert body["checks"] == {"mysql": "ok", "redis": "ok", "kafka_consumer": "ok", "lag": "ok"}
    status, spec = await fetch(rest, "/openapi.json")
    assert spec["openapi"] == "3.1.0"
    assert "/v1/events/{id}/markets/{market_key}/history" in spec["paths"]
    service, session = rest
    async with session.get(service.rest_url + "/metrics") as response:
        text = await response.text()
    assert "sportsfeed_distribution_http_request_seconds_bucket" in text
    assert "sportsfeed_distribution_consumer_ready 1.0" in text
    async with session.get(service.rest_url + "/") as response:
        assert response.status == 200
        assert "SportsFeed" in await response.text()
    status, config = await fetch(rest, "/config.json")
    assert config["ws_port"] == service.ws_port


async def test_cached_event_detail_is_dropped_when_a_delta_arrives(
    rest: Any, kafka_settings: KafkaSettings, redis_settings: RedisSettings
) -> None:
    assert (await fetch(rest, "/v1/events/e01"))[1]["version"] == 2
    await seed_redis(redis_settings, [snapshot("e01", Sport.BASKETBALL, version=3, start=T0)])
    async with publisher(kafka_settings) as producer:
        await publish(producer, kafka_settings, [delta("e01", 3, sport=Sport.BASKETBALL)])
    for _ in range(50):
        if (await fetch(rest, "/v1/events/e01"))[1]["version"] == 3:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the detail still shows version 2")
