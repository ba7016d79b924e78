"""The trading page in headless Chromium: events appear, prices move, suspensions grey out;
the paper-trading panel shows each strategy's bankroll curve and open bets, and moves
when a bet settles. The page gets its consumer key from the link ``make up`` prints
(``#key=``), or asks for one once and keeps it in the browser.

Debian's Chromium driven by Playwright (``tests/support/browser.py``). The page is served
by an in-process distribution service on the real stack; updates are published to the
fresh topics.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from shared.enums import EventStatus, MarketStatus, Sport
from shared.fair import FairMarket, FairOutcome, ModelPrices
from shared.live import LiveState, MarketState
from shared.model import Clock, Score
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.browser import opened, require_chromium
from tests.support.distribution import (
    REPO,
    T0,
    TEST_KEY,
    delta,
    market,
    publish,
    publish_models,
    publisher,
    rest_events,
    running_service,
    seed_models,
    seed_mysql,
    seed_redis,
    service_settings,
    snapshot,
)
from tests.support.trading import result, settled, settlement_delta
from tests.support.trading_service import apply_deltas, seed_trading

pytestmark = pytest.mark.e2e

SCREENSHOT = REPO / ".data" / "screenshots" / "trading.png"
TRADING_SCREENSHOT = REPO / ".data" / "screenshots" / "trading-panel.png"
DETAIL_SCREENSHOT = REPO / ".data" / "screenshots" / "trading-detail.png"
KEY_SCREENSHOT = REPO / ".data" / "screenshots" / "trading-key.png"


def board_markets(home: str = "2.10", handicap: MarketStatus = MarketStatus.ACTIVE) -> list[MarketState]:
    """The main football markets of the board."""
    return [
        market("1x2", home, "3.40", "3.60"),
        market("totals|total=2.5", "1.85", "1.95"),
        market("totals|total=3.5", "2.60", "1.48"),
        market("handicap|hcp=-0.5", "2.05", "1.80", status=handicap),
    ]


def fair_prices(event_id: str, version: int, home: float) -> ModelPrices:
    """The model's prices of the board's markets: 1x2 with ``home``, both totals, the handicap."""
    def market_of(key: str, **probabilities: float) -> FairMarket:
        return FairMarket(market_key=key, outcomes=tuple(
            FairOutcome(id=o, probability=p, fair_price=Decimal(f"{1 / p:.2f}"),
                        price=Decimal(f"{0.95 / p:.2f}")) for o, p in probabilities.items()))

    rest = round((1 - home) / 2, 6)
    return ModelPrices(
        event_id=event_id, sport=Sport.FOOTBALL, event_version=version, phase="in_play",
        model="football:dixon_coles:7", training_size=3548, computed_at=T0,
        markets=(market_of("1x2", home=home, draw=rest, away=rest),
                 market_of("totals|total=2.5", over=0.52, under=0.48),
                 market_of("totals|total=3.5", over=0.3, under=0.7),
                 market_of("handicap|hcp=-0.5", home=home, away=1 - home)))


@pytest.fixture
def chromium() -> str:
    """Debian's Chromium, which the Makefile installs."""
    return require_chromium()


@pytest.fixture
async def page_url(
    chromium: str, kafka_settings: KafkaSettings, mysql_settings: MySQLSettings,
    redis_settings: RedisSettings,
) -> AsyncIterator[str]:
    """The page of a running service whose Redis holds a few football events."""
    await seed_redis(redis_settings, [
        snapshot("ev-page", version=5, home="Ajax", away="Feyenoord", score=(1, 0),
                 markets=board_markets(handicap=MarketStatus.SUSPENDED)),
        snapshot("ev-2", version=2, home="PSV", away="AZ", score=(2, 2), markets=board_markets("1.95")),
        snapshot("ev-3", version=1, home="Utrecht", away="Twente", start=T0 + timedelta(days=1),
                 status=EventStatus.NOT_STARTED, live=False, markets=board_markets("2.45")),
        snapshot("bb-1", Sport.BASKETBALL, version=1, home="Lakers", away="Celtics",
                 markets=[market("moneyline", "1.70", "2.15")]),
    ])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service:
        yield f"{service.rest_url}/#key={TEST_KEY}"  # the link make up prints


async def test_page_shows_events_and_a_published_price_change(
    page_url: str, kafka_settings: KafkaSettings, redis_settings: RedisSettings,
) -> None:
    from playwright.async_api import expect

    async with opened(page_url, height=640) as page:
        row = page.locator('[data-event-id="ev-page"]')
        await expect(row).to_contain_text("Ajax")
        await expect(row).to_contain_text("Feyenoord")
        home = row.locator('[data-market="1x2"][data-outcome="home"]')
        await expect(home.locator(".val")).to_have_text("2.1")
        suspended = row.locator('[data-market="handicap|hcp=-0.5"][data-outcome="home"]')
        await expect(suspended).to_have_class("price suspended")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "open")

        live = LiveState(status=EventStatus.LIVE, period="2h", clock=Clock(seconds=3900),
                         score=Score(home=2, away=0))
        async with publisher(kafka_settings) as producer:
            await publish(producer, kafka_settings, [
                delta("ev-page", 6, market("1x2", "1.72", "3.90", "4.80"),
                      market("handicap|hcp=-0.5", "1.70", "2.10"), live=live),
            ])
            await expect(home.locator(".val")).to_have_text("1.72")
            await expect(home).to_have_class("price down")
            await expect(row.locator(".score")).to_contain_text("2")
            await expect(suspended).to_have_class("price")  # reopened

            # A gap (version 7 never published): the page catches up from a snapshot.
            await seed_redis(redis_settings, [snapshot(
                "ev-page", version=8, home="Ajax", away="Feyenoord", score=(2, 0),
                markets=board_markets("1.66"))])
            await publish(producer, kafka_settings, [
                delta("ev-page", 8, market("1x2", "1.66", "3.40", "3.60"))])
            await expect(home.locator(".val")).to_have_text("1.66")
            await expect(row).to_have_attribute("data-version", "8")

            await publish(producer, kafka_settings, [
                delta("ev-2", 3, market("1x2", "2.20", "3.10", "3.30"))])
            await expect(page.locator(
                '[data-event-id="ev-2"] [data-market="1x2"][data-outcome="home"]'
            )).to_have_class("price up")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True)

        await page.locator('.tab[data-sport="basketball"]').click()
        await expect(page.locator('[data-event-id="bb-1"]')).to_contain_text("Lakers")


async def test_page_shows_fair_prices_marks_value_and_opens_an_event(
    page_url: str, kafka_settings: KafkaSettings, redis_settings: RedisSettings,
) -> None:
    from playwright.async_api import expect

    # Home at 2.10 on the market, 2.00 fair: value. Draw 3.40 against 3.33 fair: value too.
    await seed_models(redis_settings, [fair_prices("ev-page", 5, home=0.5)])
    async with opened(page_url, height=720) as page:
        row = page.locator('[data-event-id="ev-page"]')
        home = row.locator('[data-market="1x2"][data-outcome="home"]')
        away = row.locator('[data-market="1x2"][data-outcome="away"]')
        await expect(home.locator(".val")).to_have_text("2.1")
        await expect(home.locator(".fair")).to_have_text("2")  # prices in their own spelling
        await expect(home).to_have_attribute("data-value", "1")
        await expect(home.locator(".fair")).to_have_class("fair value")
        await expect(away.locator(".fair")).to_have_text("4")
        await expect(away).to_have_attribute("data-value", "")  # 3.60 is below 4
        over = row.locator('[data-market="totals|total=2.5"][data-outcome="over"] .fair')
        await expect(over).to_have_text("1.92")
        # 2.05 against 2 fair, but the market is suspended: its last price cannot be taken.
        stale = row.locator('[data-market="handicap|hcp=-0.5"][data-outcome="home"]')
        await expect(stale.locator(".fair")).to_have_text("2")
        await expect(stale).to_have_attribute("data-value", "")
        # An event without model prices shows the market's alone.
        await expect(page.locator('[data-event-id="ev-2"] .fair')).to_have_count(0)

        async with publisher(kafka_settings) as producer:
            await publish_models(producer, kafka_settings, [fair_prices("ev-page", 6, home=0.4)])
            await expect(home.locator(".fair")).to_have_text("2.5")
            await expect(home).to_have_attribute("data-value", "")
            await expect(away).to_have_attribute("data-value", "1")  # 3.60 above 3.33

        await row.click()
        detail = page.locator("#detail")
        await expect(detail).to_be_visible()
        await expect(detail).to_contain_text("Ajax")
        await expect(detail).to_contain_text("football:dixon_coles:7")
        await expect(detail).to_contain_text("3548 matches")
        for key in ("1x2", "totals|total=2.5", "totals|total=3.5", "handicap|hcp=-0.5"):
            await expect(detail.locator(f'tbody[data-market="{key}"]')).to_have_count(1)
        under = detail.locator('tr[data-market="totals|total=3.5"][data-outcome="under"]')
        await expect(under.locator(".mkt-price")).to_have_text("1.48")
        await expect(under.locator(".fair-price")).to_have_text("1.43")
        await expect(under).to_have_class("outcome value")
        await expect(under.locator(".mark")).to_contain_text("value")
        over35 = detail.locator('tr[data-market="totals|total=3.5"][data-outcome="over"]')
        await expect(over35.locator(".fair-price")).to_have_text("3.33")
        await expect(over35).to_have_class("outcome")  # 2.60 is below 3.33
        DETAIL_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(DETAIL_SCREENSHOT), full_page=True)
        await page.locator("#detail-close").click()
        await expect(detail).to_be_hidden()


@pytest.fixture
async def trading_page(
    chromium: str, kafka_settings: KafkaSettings, mysql_settings: MySQLSettings,
    redis_settings: RedisSettings,
) -> AsyncIterator[str]:
    """The page of a running service whose MySQL holds two strategies' paper bets."""
    await seed_mysql(mysql_settings, rest_events()[:2])
    await seed_trading(mysql_settings)
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service:
        yield f"{service.rest_url}/#key={TEST_KEY}"


async def test_the_trading_panel_shows_bankroll_curves_and_open_bets_moving_as_bets_settle(
    trading_page: str, mysql_settings: MySQLSettings,
) -> None:
    from playwright.async_api import expect

    async with opened(trading_page, height=900) as page:
        ev = page.locator('[data-strategy="ev"]')
        await expect(ev).to_contain_text("expected value")
        await expect(ev.locator(".figure").filter(has_text="P/L")).to_contain_text("1.10")
        await expect(ev.locator(".figure").filter(has_text="bankroll")).to_contain_text("1,001.10")
        # The curve: the bankroll, then the win (1011), then the loss (1001.10).
        path = ev.locator('svg[data-curve="ev"] path.line')
        await expect(path).to_have_attribute("d", re.compile(r"^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){2}$"))
        open_rows = ev.locator(".open-bets tbody tr[data-bet]")
        await expect(open_rows).to_have_count(1)
        await expect(open_rows.first).to_contain_text("Home FC v Away FC")
        await expect(open_rows.first).to_contain_text("2.2")
        await expect(page.locator('[data-strategy="kelly"]')).to_contain_text("kelly")

        # The open bet settles: the panel's next refresh moves the bankroll and the curve.
        await apply_deltas(mysql_settings, [settlement_delta(3, settled(
            "1x2", result("home", True), result("draw", False), result("away", False)),
            event_id="e01")])
        await expect(open_rows).to_have_count(0, timeout=20_000)
        profit = ev.locator(".figure").filter(has_text="P/L")
        await expect(profit).to_contain_text("12.86")  # 1.10 + 9.80 x 1.2
        await expect(path).to_have_attribute("d", re.compile(r"^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){3}$"))
        TRADING_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.locator("#trading").screenshot(path=str(TRADING_SCREENSHOT))


async def test_the_page_asks_for_a_key_once_keeps_it_and_takes_it_out_of_the_link(
    page_url: str,
) -> None:
    from playwright.async_api import expect

    bare = page_url.split("#", 1)[0]
    async with opened(bare, height=640) as page:
        gate = page.locator("#key-gate")
        await expect(gate).to_be_visible()
        await expect(page.locator("#key-message")).to_contain_text("needs a consumer key")
        await page.locator("#key-input").fill("not-a-key-of-this-feed-0000")
        await page.locator("#key-submit").click()
        await expect(page.locator("#key-message")).to_contain_text("not valid")
        KEY_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(KEY_SCREENSHOT))
        await page.locator("#key-input").fill(TEST_KEY)
        await page.locator("#key-submit").click()
        await expect(gate).to_be_hidden()
        await expect(page.locator('[data-event-id="ev-page"]')).to_contain_text("Ajax")
        await expect(page.locator("#key-name")).to_have_text("key tests")
        # Kept in the browser: a reload asks nothing.
        await page.reload()
        await expect(page.locator('[data-event-id="ev-page"]')).to_contain_text("Ajax")
        await expect(gate).to_be_hidden()
    async with opened(page_url, height=640) as page:  # the printed link
        await expect(page.locator('[data-event-id="ev-page"]')).to_contain_text("Ajax")
        assert TEST_KEY not in page.url
        assert await page.evaluate("localStorage.getItem('sportsfeed.key')") == TEST_KEY
