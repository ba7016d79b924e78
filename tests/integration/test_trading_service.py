"""The trading service against the real stack: deltas and model prices on fresh topics in, bets
and the ledger in MySQL out; settlement, rollback and resettlement, correction, a windowed
cancellation, model prices from Redis, and replays after SIGTERM and SIGKILL."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.enums import EventStatus, MarketStatus
from shared.fair import ModelPrices
from shared.live import AppliedCancellation, EventDelta
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.processors import Db, database, wait_until
from tests.support.trading import (
    at,
    delta,
    fixture_delta,
    live_delta,
    market,
    model_prices,
    result,
    settled,
    settlement_delta,
)
from tests.support.trading_service import (
    TradingProcess,
    balances_add_up,
    bets,
    ledger,
    producer,
    publish,
    running,
    store_model,
    wait_for,
)

pytestmark = pytest.mark.integration

D = Decimal
HOME_VALUE = {"1x2": {"home": 0.55, "draw": 0.25, "away": 0.20}}
ODDS = market("1x2", "2.10", "3.30", "3.60")
WON = [result("home", True), result("draw", False), result("away", False)]
LOST = [result("home", False), result("draw", False), result("away", True)]
COUNT_BETS = "SELECT COUNT(*) FROM trading_bets"


async def test_bets_are_placed_settled_rolled_back_resettled_and_corrected(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    async with running(kafka_settings, mysql_settings, redis_settings, tmp_path) as service, \
            producer(kafka_settings) as p, database(mysql_settings) as db:
        assert await ledger(db) == [("ev", "deposit", D("1000")), ("kelly", "deposit", D("1000"))]
        await publish(p, kafka_settings, [model_prices(1, HOME_VALUE), fixture_delta(), delta(2, ODDS)])
        await wait_for(db, COUNT_BETS, 2)
        placed = await bets(db)
        assert [(b["strategy"], b["outcome_id"], b["price"], b["status"]) for b in placed] == [
            ("ev", "home", D("2.1000"), "open"), ("kelly", "home", D("2.1000"), "open")]
        assert placed[0]["stake"] == D("10.0000")
        assert placed[1]["stake"] == D("35.2200")  # a quarter of the Kelly share 0.155 / 1.1

        await publish(p, kafka_settings, [settlement_delta(3, settled("1x2", *WON))])
        await wait_for(db, "SELECT COUNT(*) FROM trading_bets WHERE status = 'won'", 2)
        await publish(p, kafka_settings, [delta(4, market("1x2", "2.1", "3.3", "3.6",
                                                          status=MarketStatus.SUSPENDED),
                                                rolled_back=["1x2"], status=EventStatus.ENDED)])
        await wait_for(db, "SELECT COUNT(*) FROM trading_bets WHERE status = 'open'", 2)
        await publish(p, kafka_settings, [settlement_delta(5, settled("1x2", *LOST))])
        await wait_for(db, "SELECT COUNT(*) FROM trading_bets WHERE status = 'lost'", 2)
        await publish(p, kafka_settings, [settlement_delta(6, settled("1x2", *WON, change="corrected"))])
        await wait_for(db, "SELECT COUNT(*) FROM trading_bets WHERE status = 'won'", 2)
        await publish(p, kafka_settings, [settlement_delta(7, settled("1x2", *WON, change="confirmed")),
                                          delta(8, status=EventStatus.CLOSED)])
        await wait_for(db, "SELECT MAX(version) FROM trading_events", 8)

        kinds = [k for s, k, _ in await ledger(db) if s == "ev"]
        assert kinds == ["deposit", "stake", "return", "reversal", "return", "reversal", "return"]
        ev = (await bets(db, "ev"))[0]
        assert ev["payout"] == D("21.0000")
        assert await db.scalar("SELECT balance FROM trading_strategies WHERE name = 'ev'") == D("1011")
        assert await balances_add_up(db)
        status, metrics = await service.get("/metrics")
        assert status == 200
        assert 'sportsfeed_trading_decisions_total{decision="placed",strategy="ev"} 1.0' in metrics


async def test_a_cancellation_voids_only_the_bets_in_its_window_with_model_prices_from_redis(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    # The model prices reach the service through Redis only (as after a restart).
    await store_model(redis_settings, model_prices(
        2, {"1x2": {"home": 0.55, "draw": 0.30, "away": 0.15}}, phase="in_play", computed_at=at(2)))
    async with running(kafka_settings, mysql_settings, redis_settings, tmp_path), \
            producer(kafka_settings) as p, database(mysql_settings) as db:
        await publish(p, kafka_settings, [
            fixture_delta(), live_delta(2),
            delta(3, ODDS, status=EventStatus.LIVE),  # home bet at T0+3 s
            delta(10, market("1x2", "2.10", "3.60", "3.60"), status=EventStatus.LIVE),  # draw at +10 s
        ])
        await wait_for(db, COUNT_BETS, 4)
        await publish(p, kafka_settings, [delta(
            11, market("1x2", None, None, None, status=MarketStatus.CANCELLED),
            status=EventStatus.LIVE, cancellations=[AppliedCancellation(
                market_key="1x2", void_reason="goal scored before the bet stop",
                start_time=at(5), end_time=at(20))])])
        await wait_for(db, "SELECT COUNT(*) FROM trading_bets WHERE status = 'void'", 2)
        by_outcome = {(b["strategy"], b["outcome_id"]): b for b in await bets(db)}
        assert {k for k, b in by_outcome.items() if b["status"] == "void"} == {
            ("ev", "draw"), ("kelly", "draw")}
        assert all(by_outcome[(s, "home")]["status"] == "open" for s in ("ev", "kelly"))
        assert all(b["payout"] == b["stake"] for b in by_outcome.values() if b["status"] == "void")
        assert await balances_add_up(db)


MATCH: list[EventDelta | ModelPrices] = [
    model_prices(1, HOME_VALUE), fixture_delta(), delta(2, ODDS),
    delta(3, market("1x2", "2.00", "3.40", "3.80")),
    delta(4, market("1x2", "2.00", "3.40", "3.80", status=MarketStatus.SUSPENDED)),
    settlement_delta(5, settled("1x2", *WON)),
]


async def _snapshot(
    db: Db,
) -> tuple[list[dict[str, Any]], list[tuple[str, str, Decimal]], list[tuple[Any, ...]]]:
    return (await bets(db), await ledger(db),
            await db.rows("SELECT name, balance FROM trading_strategies ORDER BY name"))


async def test_a_restart_over_the_same_records_places_and_settles_nothing_twice(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    async with producer(kafka_settings) as p, database(mysql_settings) as db:
        async with running(kafka_settings, mysql_settings, redis_settings, tmp_path) as first:
            await publish(p, kafka_settings, MATCH)
            await wait_for(db, "SELECT COUNT(*) FROM trading_bets WHERE status = 'won'", 2)
            assert first.terminate() == 0  # SIGTERM: drained, committed, exit 0
        before = await _snapshot(db)
        assert [(b["closing_price"], b["closing_fixed"]) for b in before[0]] == [(D("2.0000"), 1)] * 2

        # A new consumer group reads every record again from the beginning.
        async with running(kafka_settings, mysql_settings, redis_settings, tmp_path,
                           group=f"{kafka_settings.topic_prefix}-again") as again:
            async def replayed() -> bool:
                _, text = await again.get("/metrics")
                found = re.search(r"^sportsfeed_trading_replays_total (\S+)$", text, re.M)
                return found is not None and float(found[1]) >= 5

            await wait_until(replayed, within=60, what="every delta replayed")
            assert await _snapshot(db) == before


async def test_a_worker_killed_after_its_commit_replays_without_a_second_effect(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    # A long commit interval: the kill lands after the MySQL commits, before Kafka's.
    slow = {"SPORTSFEED_TRADING_COMMIT_INTERVAL_S": "60"}
    async with producer(kafka_settings) as p, database(mysql_settings) as db:
        first = TradingProcess(kafka_settings, mysql_settings, redis_settings, tmp_path, extra_env=slow)
        first.start()
        try:
            await first.wait_ready()
            await publish(p, kafka_settings, MATCH)
            await wait_for(db, "SELECT COUNT(*) FROM trading_bets WHERE status = 'won'", 2)
            first.kill()
        finally:
            first.ensure_stopped()
        before = await _snapshot(db)
        async with running(kafka_settings, mysql_settings, redis_settings, tmp_path) as again:
            async def replayed() -> bool:
                _, text = await again.get("/metrics")
                found = re.search(r"^sportsfeed_trading_replays_total (\S+)$", text, re.M)
                return found is not None and float(found[1]) >= 5

            await wait_until(replayed, within=60, what="the uncommitted deltas replayed")
            await publish(p, kafka_settings, [delta(6, status=EventStatus.CLOSED)])
            await wait_for(db, "SELECT MAX(version) FROM trading_events", 6)
            assert await _snapshot(db) == before
            assert await balances_add_up(db)
