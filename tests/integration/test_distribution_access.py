"""Consumer keys on REST against the real stack: 401, 403 (surface and sport), 429, open routes,
405, the key's own view, the operators' usage view and the per-key metrics."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from services.distribution.service import DistributionService
from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    TEST_KEY,
    TEST_KEYS,
    api_session,
    rest_dataset,
    running_service,
    seed_models,
    seed_mysql,
    seed_redis,
    service_settings,
)
from tests.support.distribution_fakes import model_prices
from tests.support.trading_service import seed_trading

pytestmark = pytest.mark.integration

FOOTBALL_KEY = "football-only-key-0123456789"
REST_KEY = "rest-only-key-0123456789abc"
SLOW_KEY = "slow-key-0123456789abcdefgh"
KEYS = ",".join([
    TEST_KEYS,
    f"fbonly:{FOOTBALL_KEY}:rest|history|predictions|trading|ledger|football",
    f"restonly:{REST_KEY}:rest",
    f"slow:{SLOW_KEY}:rest:rate=1|burst=2",
])


@pytest.fixture
async def service(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> AsyncIterator[DistributionService]:
    """The REST tests' 36 events over four sports, with four keys."""
    events, extra = rest_dataset()
    await seed_mysql(mysql_settings, events, extra)
    await seed_redis(redis_settings, events)
    await seed_models(redis_settings, [model_prices("e00", 1),
                                       model_prices("e01", 2, sport=Sport.BASKETBALL)])
    await seed_trading(mysql_settings)
    settings = service_settings(kafka_settings, mysql_settings, redis_settings,
                                api_keys=SecretStr(KEYS))
    async with running_service(settings) as running:
        yield running


async def call(service: DistributionService, path: str, key: str | None, *,
               method: str = "GET", json: Any = None) -> tuple[int, Any, dict[str, str]]:
    """One request with ``key``: status, JSON body (or text), headers."""
    async with api_session(key) as http, asyncio.timeout(10), \
            http.request(method, service.rest_url + path, json=json) as response:
        text = await response.text()
        body: Any = text
        if response.content_type == "application/json":
            body = await response.json()
        return response.status, body, dict(response.headers)


async def test_no_key_or_an_unknown_one_is_401_and_the_operational_routes_stay_open(
    service: DistributionService,
) -> None:
    status, body, headers = await call(service, "/v1/events", None)
    assert (status, body["error"]) == (401, "unauthorized")
    assert headers["WWW-Authenticate"].startswith("Bearer")
    for header_key in ("not-a-configured-key-0000", "short", "bad key!"):
        status, body, headers = await call(service, "/v1/events", header_key)
        assert status == 401, header_key
        assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    status, _, _ = await call(service, "/v1/trading/bets", "")
    assert status == 401
    for path in ("/v1/ops/panels", "/v1/ops/targets", "/v1/ops/series/deltas"):
        assert (await call(service, path, None))[0] == 401, path
    status, body, _ = await call(service, "/v1/ops/panels", TEST_KEY)
    assert (status, len(body["panels"])) == (200, 10)
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/config.json", "/",
                 "/static/app.js", "/ops"):
        status, _, _ = await call(service, path, None)
        assert status == 200, path
    status, body, _ = await call(service, "/v1/events", TEST_KEY)
    assert status == 200
    assert len(body["events"]) == 36


async def test_a_surface_outside_the_key_is_403_naming_it(service: DistributionService) -> None:
    status, _, _ = await call(service, "/v1/events/e00", REST_KEY)
    assert status == 200
    for path, scope in (("/v1/trading/strategies", "trading"), ("/v1/ledger/summary", "ledger"),
                        ("/v1/history/status", "history"), ("/v1/events/e00/prediction", "predictions"),
                        ("/v1/access/usage", "metrics"), ("/v1/ops/panels", "metrics"),
                        ("/v1/ops/targets", "metrics"), ("/v1/ops/series/deltas", "metrics")):
        status, body, _ = await call(service, path, REST_KEY)
        assert (status, body["error"], body["scope"]) == (403, "forbidden", scope), path
        assert "restonly" in body["detail"]
    status, body, _ = await call(service, "/v1/predictions/batch", REST_KEY, method="POST",
                                 json={"event_ids": ["e00"]})
    assert (status, body["scope"]) == (403, "predictions")


async def test_a_football_key_sees_football_alone_and_is_refused_other_sports(
    service: DistributionService,
) -> None:
    key = FOOTBALL_KEY
    status, body, _ = await call(service, "/v1/sports", key)
    assert [s["id"] for s in body["sports"]] == ["football"]
    status, body, _ = await call(service, "/v1/events?limit=500", key)
    assert status == 200
    assert {e["sport"] for e in body["events"]} == {"football"}
    assert len(body["events"]) == 9
    status, body, _ = await call(service, "/v1/events?sport=football,tennis", key)
    assert (status, body["parameter"], body["scope"]) == (403, "sport", "tennis")
    assert "tennis" in body["detail"]
    # e01 is basketball, e02 tennis, e00 football.
    assert (await call(service, "/v1/events/e00", key))[0] == 200
    for path in ("/v1/events/e01", "/v1/events/e01", "/v1/events/e01/markets/moneyline/history",
                 "/v1/settlements?event_id=e02", "/v1/events/e01/prediction"):
        status, body, _ = await call(service, path, key)  # twice: from the detail cache too
        assert (status, body["error"]) == (403, "forbidden"), path
    status, body, _ = await call(service, "/v1/ledger/summary", key)
    assert {r["sport"] for r in body["rows"]} == {"football"}
    status, body, _ = await call(service, "/v1/competitions?sport=basketball", key)
    assert status == 403
    status, body, _ = await call(service, "/v1/trading/bets?limit=500", key)
    assert status == 200
    assert body["bets"]
    assert {b["sport"] for b in body["bets"]} == {"football"}
    status, body, _ = await call(service, "/v1/predictions/batch", key, method="POST",
                                 json={"event_ids": ["e00", "e01", "nope"]})
    assert [(p["event_id"], p["status"]) for p in body["predictions"]] == [
        ("e00", "ok"), ("e01", "forbidden"), ("nope", "unknown_event")]


async def test_a_key_over_its_rate_gets_429_with_retry_after_and_others_do_not(
    service: DistributionService,
) -> None:
    statuses = []
    loop = asyncio.get_running_loop()
    for _ in range(4):
        began = loop.time()
        status, body, headers = await call(service, "/v1/sports", SLOW_KEY)
        statuses.append(status)
        if status == 429:
            assert headers["Retry-After"] == "1"
            assert body["error"] == "rate_limited"
            # Held for the pause (rate_limit_pause_s, 0.25 s): a retry loop slows down.
            assert loop.time() - began >= 0.24
        assert (await call(service, "/v1/sports", TEST_KEY))[0] == 200
    assert statuses[:2] == [200, 200]
    assert 429 in statuses[2:]
    await asyncio.sleep(1.1)
    assert (await call(service, "/v1/sports", SLOW_KEY))[0] == 200


async def test_undeclared_methods_are_405_with_allow_and_unknown_paths_404(
    service: DistributionService,
) -> None:
    for method, path in (("POST", "/v1/events"), ("DELETE", "/v1/events/e00"), ("PUT", "/healthz"),
                         ("GET", "/v1/predictions/batch"), ("PATCH", "/v1/access/key")):
        status, body, headers = await call(service, path, TEST_KEY, method=method)
        assert (status, body["error"]) == (405, "method_not_allowed"), (method, path)
        assert "GET" in headers["Allow"] or "POST" in headers["Allow"]
    status, _, headers = await call(service, "/v1/predictions/batch", None, method="GET")
    assert (status, headers["Allow"]) == (405, "POST")
    status, body, _ = await call(service, "/v1/nothing", TEST_KEY)
    assert (status, body["error"]) == (404, "not_found")


async def test_a_key_reads_itself_and_the_metrics_view_reads_every_key(
    service: DistributionService,
) -> None:
    status, body, _ = await call(service, "/v1/access/key", FOOTBALL_KEY)
    assert status == 200
    assert body["name"] == "fbonly"
    assert body["sports"] == ["football"]
    assert "ws" not in body["scopes"]
    assert body["limits"] == {"rate": 100.0, "burst": 200, "connections": 20, "subscriptions": 10000}
    await call(service, "/v1/events", None)
    await call(service, "/v1/trading/bets", REST_KEY)
    status, body, _ = await call(service, "/v1/access/usage", TEST_KEY)
    assert status == 200
    by_name = {k["name"]: k for k in body["keys"]}
    assert set(by_name) == {"tests", "fbonly", "restonly", "slow"}
    assert by_name["restonly"]["refusals"] == {"surface": 1}
    assert body["unidentified_refusals"]["missing_key"] >= 1
    assert TEST_KEY not in str(body)


async def test_requests_and_refusals_are_counted_per_key_name_in_prometheus(
    service: DistributionService,
) -> None:
    await call(service, "/v1/events", TEST_KEY)
    await call(service, "/v1/events", None)
    await call(service, "/v1/trading/strategies", REST_KEY)
    await call(service, "/v1/events/e01", FOOTBALL_KEY)
    _, text, _ = await call(service, "/metrics", None)

    def value(name: str, **labels: str) -> float:
        wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
        series = f"sportsfeed_distribution_{name}" + (f"{{{wanted}}}" if wanted else "")
        found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    assert value("access_requests_total", key="tests", surface="rest") >= 1
    assert value("access_refusals_total", key="-", reason="missing_key") >= 1
    assert value("access_refusals_total", key="restonly", reason="surface") == 1
    assert value("access_refusals_total", key="fbonly", reason="sport") == 1
    assert value("access_check") == 1
    assert value("access_keys") == 4
    assert TEST_KEY not in text
