"""``/v1/trading/*`` on the real MySQL: rows written by the trading service's own store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    api_session,
    get_json,
    rest_events,
    running_service,
    seed_mysql,
    service_settings,
)
from tests.support.trading_service import seed_trading

pytestmark = pytest.mark.integration
D = Decimal


@pytest.fixture
async def api(kafka_settings: KafkaSettings, mysql_settings: MySQLSettings,
              redis_settings: RedisSettings) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """A distribution service over a database with events and paper bets."""
    await seed_mysql(mysql_settings, rest_events()[:2])
    await seed_trading(mysql_settings)
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, api_session() as session:
        yield session, service.rest_url


async def _get(api: tuple[aiohttp.ClientSession, str], path: str) -> tuple[int, Any]:
    session, base = api
    return await get_json(session, base + path)


async def test_strategies_show_their_configuration_bankroll_and_balance(
    api: tuple[aiohttp.ClientSession, str],
) -> None:
    status, body = await _get(api, "/v1/trading/strategies")
    assert status == 200
    ev, kelly = body["strategies"]
    assert (ev["name"], ev["kind"], kelly["name"], kelly["kind"]) == (
        "ev", "expected_value", "kelly", "kelly")
    # ev: 10.00 and 9.90 on e00 (home won at 2.10, over lost), 9.80 open on e01.
    assert (ev["bankroll"], ev["balance"], ev["equity"], ev["profit"]) == ("1000", "991.3", "1001.1", "1.1")
    assert (ev["open_bets"], ev["open_stake"], ev["settled_bets"]) == (1, "9.8", 2)
    assert ev["config"]["threshold"] == 0.05
    assert kelly["config"]["kelly_fraction"] == 0.25
    status, body = await _get(api, "/v1/trading/strategies?strategy=kelly")
    assert [s["name"] for s in body["strategies"]] == ["kelly"]


async def test_bets_come_newest_first_filtered_and_paged_exactly_once(
    api: tuple[aiohttp.ClientSession, str],
) -> None:
    status, body = await _get(api, "/v1/trading/bets")
    assert status == 200
    every = body["bets"]
    assert len(every) == 6
    assert every[0]["event_id"] == "e01"  # placed last
    assert every[0]["event"]["home"] == "Home FC"
    assert body["next_cursor"] is None

    seen, cursor = [], None
    while True:
        path = "/v1/trading/bets?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await _get(api, path)
        assert status == 200
        seen += [b["id"] for b in page["bets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [b["id"] for b in every]

    status, body = await _get(api, "/v1/trading/bets?strategy=ev&status=won,lost")
    settled = {(b["market_key"], b["outcome_id"]): b for b in body["bets"]}
    home = settled[("1x2", "home")]
    assert (home["price"], home["stake"], home["status"], home["payout"], home["profit"]) == (
        "2.1", "10", "won", "21", "11")
    assert (home["closing_price"], home["closing_fixed"]) == ("2", True)
    assert home["clv"] == pytest.approx(0.05, abs=1e-6)
    assert home["probability"] == pytest.approx(0.55)
    assert settled[("totals|total=2.5", "over")]["status"] == "lost"
    status, body = await _get(api, "/v1/trading/bets?status=open&event_id=e01&sport=football")
    assert {(b["strategy"], b["status"]) for b in body["bets"]} == {("ev", "open"), ("kelly", "open")}
    assert all(b["clv"] is None and b["payout"] is None for b in body["bets"])


async def test_performance_has_the_figures_and_a_bankroll_curve(
    api: tuple[aiohttp.ClientSession, str],
) -> None:
    status, body = await _get(api, "/v1/trading/performance")
    assert status == 200
    ev = body["strategies"][0]
    perf = ev["performance"]
    assert (perf["bets"], perf["open_bets"], perf["settled"], perf["wins"]) == (3, 1, 2, 1)
    assert (perf["turnover"], perf["returned"], perf["profit"]) == ("19.9", "21", "1.1")
    assert perf["roi"] == pytest.approx(1.1 / 1000, abs=1e-6)  # ratios have 6 places
    assert perf["yield"] == pytest.approx(1.1 / 19.9, abs=1e-6)
    assert perf["hit_rate"] == pytest.approx(0.5)
    assert perf["max_drawdown"] == "9.9"  # the lost over after the win
    assert perf["clv"]["bets"] == 2
    assert perf["clv"]["mean"] == pytest.approx((2.1 / 2.0 - 1 + 0) / 2, abs=1e-6)
    assert [p["equity"] for p in ev["series"]] == ["1000", "1011", "1001.1"]
    kelly = body["strategies"][1]
    kelly_profit = D(kelly["performance"]["profit"])
    assert D(kelly["equity"]) == D(kelly["bankroll"]) + kelly_profit
    status, body = await _get(api, "/v1/trading/performance?from=2030-01-01T00:00:00Z&points=5")
    assert body["strategies"][0]["performance"]["bets"] == 0
    assert body["strategies"][0]["series"] == []
    # to before from: an empty range.
    status, body = await _get(api, "/v1/trading/performance?from=2026-05-02T00:00:00Z"
                                   "&to=2026-05-01T00:00:00Z")
    assert status == 200
    assert body["strategies"][0]["performance"]["bets"] == 0


@pytest.mark.parametrize(("query", "parameter"), [
    ("/v1/trading/bets?status=maybe", "status"),
    ("/v1/trading/bets?cursor=nonsense", "cursor"),
    ("/v1/trading/bets?strategy=Not%20A%20Name", "strategy"),
    ("/v1/trading/bets?limit=0", "limit"),
    ("/v1/trading/performance?points=5000", "points"),
    ("/v1/trading/bets?cursor=1~e01", "cursor"),  # an event's cursor: bets' ids are numbers
    ("/v1/trading/performance?to=1969-12-31T23:59:59Z", "to"),
    ("/v1/trading/performance?strategies=ev", "strategies"),
])
async def test_a_bad_parameter_is_named(api: tuple[aiohttp.ClientSession, str], query: str,
                                        parameter: str) -> None:
    status, body = await _get(api, query)
    assert status == 400
    assert body["parameter"] == parameter
