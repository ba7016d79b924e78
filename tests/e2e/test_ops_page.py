"""The operations page in headless Chromium, drawing live series from a real Prometheus.

Debian's Prometheus (``infra/local/tools.sh test`` installs it) runs through
``infra/local/prometheus.sh`` on a private port and data folder, with the project's
recording rules, scraping an in-process distribution service on the fresh stack.
Deltas are published and a WebSocket client follows them, so the service's series move;
the page, served by that service, draws them through its Prometheus proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.browser import opened, require_chromium
from tests.support.client import following
from tests.support.consumer_keys import AUTH, TEST_KEY
from tests.support.distribution import (
    REPO,
    delta,
    market,
    publish,
    publisher,
    running_service,
    seed_redis,
    service_settings,
    snapshot,
)
from tests.support.ports import free_port
from tests.support.prometheus import query, running_prometheus

pytestmark = pytest.mark.e2e

SCREENSHOT = REPO / ".data" / "screenshots" / "ops.png"


async def feed(kafka: KafkaSettings, rest_url: str, stop: asyncio.Event) -> None:
    """Deltas of two events every 100 ms and a REST read every 500 ms, until ``stop``."""
    version = 1
    async with publisher(kafka) as producer, aiohttp.ClientSession() as http:
        while not stop.is_set():
            version += 1
            await publish(producer, kafka, [
                delta(e, version, market("1x2", f"{1.5 + version % 50 / 100:.2f}", "3.40", "3.60"))
                for e in ("ops-1", "ops-2")])
            if version % 5 == 0:
                async with http.get(f"{rest_url}/v1/events?sport=football", headers=AUTH) as response:
                    await response.read()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)


@pytest.fixture
async def ops_page(kafka_settings: KafkaSettings, mysql_settings: MySQLSettings,
                   redis_settings: RedisSettings, tmp_path: Path) -> AsyncIterator[str]:
    """The operations page of a service scraped by Prometheus, with a feed moving."""
    require_chromium()
    await seed_redis(redis_settings, [snapshot(e, version=1, markets=[market("1x2", "2.1", "3.4", "3.6")])
                                      for e in ("ops-1", "ops-2")])
    port = free_port()
    settings = service_settings(kafka_settings, mysql_settings, redis_settings,
                                prometheus_url=f"http://127.0.0.1:{port}")
    async with running_service(settings) as service, \
            running_prometheus([("distribution", f"127.0.0.1:{service.rest_port}", "distribution")],
                               tmp_path / "prometheus", port=port) as prometheus, \
            following(service.ws_url, sports=[Sport.FOOTBALL]):
        stop = asyncio.Event()
        feeding = asyncio.create_task(feed(kafka_settings, service.rest_url, stop))
        try:
            # Two scrapes at least, so that rates have something to compare.
            for _ in range(60):
                if await query(prometheus, "job:sportsfeed_distribution_updates_consumed:rate1m > 0"):
                    break
                await asyncio.sleep(1)
            yield f"{service.rest_url}/ops#key={TEST_KEY}"  # the link make up prints
        finally:
            stop.set()
            await feeding


async def test_operations_page_draws_live_series_from_prometheus(ops_page: str) -> None:
    from playwright.async_api import expect

    async with opened(ops_page, height=1100) as page:
        target = page.locator('.target[data-service="distribution"]')
        await expect(target).to_have_attribute("data-health", "up", timeout=30_000)
        await expect(page.locator("#prom")).to_have_attribute("data-state", "open")
        await expect(page.locator(".panel")).to_have_count(10)
        for panel in ("clients", "deltas", "rest"):
            card = page.locator(f'.panel[data-panel="{panel}"]')
            await expect(card).to_have_attribute("data-state", "data", timeout=45_000)
            # A line once a second point is in the window (the page refreshes every 5 s).
            await expect(card.locator("svg path.series").first).to_have_attribute(
                "d", _line_of_two_points_or_more(), timeout=45_000)
        clients = page.locator('.panel[data-panel="clients"] .legend .item')
        await expect(clients).to_contain_text("clients 1")
        deltas = page.locator('.panel[data-panel="deltas"] .legend .item')
        await expect(deltas).to_have_count(2)
        # Nothing scrapes an ingestion here: its panels say so rather than draw.
        await expect(page.locator('.panel[data-panel="accepted"]')).to_have_attribute(
            "data-state", "empty")
        await page.locator('.tab[data-minutes="5"]').click()
        await expect(page.locator('.panel[data-panel="deltas"]')).to_have_attribute(
            "data-state", "data")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)


def _line_of_two_points_or_more() -> object:
    import re

    return re.compile(r"^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+")
