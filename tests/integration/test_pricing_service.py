"""The pricing service on the real stack: fit on imported history, prices on the model topic and in Redis.

``fit`` and ``run`` are subprocesses on the test's fresh database, topics and Redis
prefix. Events are written the way processors write them: the snapshot in Redis, the
deltas on the updates topic.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from shared.enums import EventStatus, MarketStatus, Sport
from shared.fair import ModelPrices
from shared.live import EventSnapshot, FixtureState, LiveState
from shared.model import Clock, Competition, Competitor, PeriodScore, Score
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import T0, delta, market, publish, publisher, seed_redis, snapshot
from tests.support.history import SHARED_DATA, import_paths, query
from tests.support.ports import free_port
from tests.support.pricing_service import (
    ModelTopic,
    PricingProcess,
    pricing_env,
    redis_prices,
    run_fit,
    wait_prices,
)

pytestmark = pytest.mark.integration

SEASON = SHARED_DATA / "E0_2223.csv"


@pytest.fixture
def service(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> Iterator[PricingProcess]:
    """A pricing process (not started) on the fresh stack."""
    process = PricingProcess(kafka_settings, mysql_settings, redis_settings,
                             tmp_path / "pricing.log")
    try:
        yield process
    finally:
        process.ensure_stopped()


@pytest.fixture
async def running(service: PricingProcess) -> PricingProcess:
    """The service, started and ready (the ``service`` fixture stops it)."""
    service.start()
    await service.wait_ready()
    return service


def probability(prices: ModelPrices, key: str, outcome: str) -> float:
    """One outcome's fair probability."""
    found = next(m for m in prices.markets if m.market_key == key)
    return next(o.probability for o in found.outcomes if o.id == outcome)


def live(minute: int, home: int, away: int, status: EventStatus = EventStatus.LIVE) -> LiveState:
    """A football live state at ``minute`` of the first half (or the second, past 45)."""
    half = "1h" if minute < 45 else "2h"
    periods = (PeriodScore(period="1h", home=home, away=away),)
    return LiveState(status=status, period=half, clock=Clock(seconds=minute * 60),
                     score=Score(home=home, away=away, periods=periods))


async def test_fit_on_imported_history_stores_a_model_and_the_service_prices_with_it(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    service: PricingProcess,
) -> None:
    await import_paths(mysql_settings, SEASON)
    env = pricing_env(kafka_settings, mysql_settings, redis_settings, web_port=free_port())

    done = run_fit(env, "--sport", "football", "--json")
    assert done.returncode == 0, done.stderr
    (outcome,) = json.loads(done.stdout)
    assert outcome["action"] == "stored"
    assert outcome["training_size"] == 380
    assert outcome["sources"]["providers"] == {"football-data": 380}
    assert outcome["metrics"]["logloss"] < outcome["metrics"]["base_logloss"]
    ((model_id, kind, size, teams, start, end),) = await query(
        mysql_settings, "SELECT id, kind, training_size, teams, training_from, training_to"
        " FROM pricing_models WHERE sport = 'football'")
    assert (kind, size, teams) == ("dixon_coles", 380, 20)
    assert start.year == 2022
    assert end.year == 2023
    version = f"football:dixon_coles:{model_id}"
    assert outcome["model"] == version
    again = run_fit(env, "--sport", "football", "--if-missing")
    assert again.returncode == 0
    assert f"skipped: has {version}" in again.stdout

    city = EventSnapshot(
        event_id="ev-city", sport=Sport.FOOTBALL, version=3, status=EventStatus.NOT_STARTED,
        fixture=FixtureState(
            competition=Competition(id="fd:competition:E0", name="Premier League"),
            start_time=T0, home=Competitor(id="fd:team:man-city", name="Man City"),
            away=Competitor(id="fd:team:southampton", name="Southampton")),
        markets={"1x2": market("1x2", "1.20", "7.00", "15.00")})
    newcomer = snapshot("ev-new", version=1, status=EventStatus.NOT_STARTED, live=False)
    await seed_redis(redis_settings, [city, newcomer])
    service.start()
    await service.wait_ready()
    ready = await service.readiness()
    assert ready["models"]["football"] == version
    assert ready["models"]["tennis"] == "tennis:prior"
    assert ready["training_size"]["football"] == 380

    priced = await wait_prices(redis_settings, "ev-city", version=3)
    assert priced.model == version
    assert priced.training_size == 380
    assert priced.phase == "pre_match"
    assert probability(priced, "1x2", "home") > 0.7  # City at home to the league's bottom side
    unknown = await wait_prices(redis_settings, "ev-new", version=1)
    home, draw, away = (probability(unknown, "1x2", o) for o in ("home", "draw", "away"))
    assert 0.35 < home < 0.55  # two average sides
    assert away < home
    assert 0.2 < draw < 0.32

    status, body = await service.get("/metrics")
    assert status == 200
    assert f'sportsfeed_pricing_model_info{{model="{version}",sport="football"}} 1.0' in body
    assert 'sportsfeed_pricing_model_training_size{sport="football"} 380.0' in body


async def test_a_delta_on_the_updates_topic_gives_model_prices_on_the_topic_and_in_redis(
    kafka_settings: KafkaSettings, redis_settings: RedisSettings, service: PricingProcess,
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-1", version=4, status=EventStatus.NOT_STARTED,
                                               live=False, markets=[market("1x2", "2.1", "3.4", "3.6")])])
    service.start()
    await service.wait_ready()
    prematch = await wait_prices(redis_settings, "ev-1", version=4)
    assert prematch.phase == "pre_match"
    assert prematch.model == "football:prior"

    async with publisher(kafka_settings) as producer, ModelTopic(kafka_settings) as topic:
        await publish(producer, kafka_settings, [
            delta("ev-1", 5, live=live(0, 0, 0), status=EventStatus.LIVE)])
        kicked_off = await topic.until("ev-1", version=5)
        await publish(producer, kafka_settings, [  # a line not priced so far
            delta("ev-1", 6, market("totals|total=4.25", "2.6", "1.5"))])
        new_line = await topic.until("ev-1", version=6)
    assert kicked_off.phase == "in_play"
    stored = await wait_prices(redis_settings, "ev-1", version=6)
    assert stored == new_line
    keys = {m.market_key for m in new_line.markets}
    assert {"1x2", "totals|total=4.25", "totals|total=2.5", "btts", "double_chance"} <= keys
    over = next(m for m in new_line.markets if m.market_key == "totals|total=4.25").outcomes[0]
    assert over.id == "over"
    assert over.fair_price is not None
    assert over.price is not None
    assert over.price < over.fair_price  # the margin
    assert new_line.expected["home"] > new_line.expected["away"] > 0


async def test_a_goal_in_a_live_delta_moves_the_home_win_probability_up(
    kafka_settings: KafkaSettings, redis_settings: RedisSettings, running: PricingProcess,
) -> None:
    async with publisher(kafka_settings) as producer, ModelTopic(kafka_settings) as topic:
        await seed_redis(redis_settings, [snapshot("ev-goal", version=1, score=(0, 0))])
        await publish(producer, kafka_settings, [delta("ev-goal", 2, live=live(30, 0, 0))])
        before = await topic.until("ev-goal", version=2)
        await publish(producer, kafka_settings, [delta("ev-goal", 3, live=live(31, 1, 0))])
        after = await topic.until("ev-goal", version=3)
    assert probability(after, "1x2", "home") > probability(before, "1x2", "home") + 0.15
    assert probability(after, "1x2", "away") < probability(before, "1x2", "away")


async def test_a_version_gap_is_healed_from_redis_and_an_ended_match_is_certain(
    kafka_settings: KafkaSettings, redis_settings: RedisSettings, service: PricingProcess,
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-gap", version=1)])
    service.start()
    await service.wait_ready()
    await wait_prices(redis_settings, "ev-gap", version=1)
    # Versions 2-4 never reach the topic; Redis has the event at 4, 2-0 at full time.
    ended = live(90, 2, 0, EventStatus.ENDED).model_copy(update={"period": None, "clock": None})
    await seed_redis(redis_settings, [snapshot("ev-gap", version=4, status=EventStatus.ENDED,
                                               score=(2, 0))
                                      .model_copy(update={"live": ended})])
    async with publisher(kafka_settings) as producer:
        await publish(producer, kafka_settings, [
            delta("ev-gap", 5, market("1x2", "1.01", "50", "100", status=MarketStatus.SUSPENDED))])
    final = await wait_prices(redis_settings, "ev-gap", version=4)
    assert final.phase == "ended"
    assert probability(final, "1x2", "home") == 1.0
    assert all(o.price is None and o.fair_price is None for m in final.markets for o in m.outcomes)


async def test_every_sport_is_priced_by_its_prior_from_the_start_and_void_events_lose_prices(
    kafka_settings: KafkaSettings, redis_settings: RedisSettings, service: PricingProcess,
) -> None:
    events = [snapshot(f"ev-{s.value}", s, version=2, status=EventStatus.NOT_STARTED, live=False,
                       start=T0 + timedelta(hours=1)) for s in Sport]
    await seed_redis(redis_settings, events)
    service.start()
    await service.wait_ready()
    for sport in Sport:
        prices = await wait_prices(redis_settings, f"ev-{sport.value}", version=2)
        assert prices.model == f"{sport.value}:prior"
        assert prices.training_size == 0
        main = "1x2" if sport in (Sport.FOOTBALL, Sport.ICE_HOCKEY) else "moneyline"
        assert abs(sum(o.probability for o in prices.markets[0].outcomes) - 1) < 1e-5
        assert any(m.market_key == main for m in prices.markets)

    async with publisher(kafka_settings) as producer:
        await publish(producer, kafka_settings, [
            delta("ev-tennis", 3, status=EventStatus.CANCELLED, sport=Sport.TENNIS)])
    for _ in range(100):
        if await redis_prices(redis_settings, "ev-tennis") is None:
            break
        await asyncio.sleep(0.1)
    assert await redis_prices(redis_settings, "ev-tennis") is None
    assert service.terminate() == 0
