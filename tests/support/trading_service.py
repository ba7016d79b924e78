"""Harness of the trading integration tests (no tests here): the service as a subprocess on
the test's fresh topics, database and Redis prefix; records in; MySQL rows out."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.enums import Sport
from shared.fair import ModelPrices, model_key
from shared.live import EventDelta
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.topics import Topics
from tests.support.processors import Db, WorkerProcess, stack_env, wait_until
from tests.support.trading import STRATEGIES_TOML


def trading_env(kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings, *, group: str,
                web_port: int, strategies_file: Path,
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of ``python -m services.trading run`` on the test's stack."""
    return {
        **stack_env(kafka, mysql, redis),
        "SPORTSFEED_TRADING_GROUP_ID": group,
        "SPORTSFEED_TRADING_WEB_PORT": str(web_port),
        "SPORTSFEED_TRADING_WEB_HOST": "127.0.0.1",
        "SPORTSFEED_TRADING_SESSION_TIMEOUT_S": "6",
        "SPORTSFEED_TRADING_STRATEGIES_FILE": str(strategies_file),
        # The tests publish a whole match at once; a slow start must not age the prices out.
        "SPORTSFEED_TRADING_MAX_PRICE_AGE_S": "0",
        **(extra or {}),
    }


class TradingProcess(WorkerProcess):
    """``python -m services.trading run`` as a subprocess (a worker's harness, another command)."""

    def __init__(self, kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings,
                 tmp: Path, *, group: str | None = None, strategies: str = STRATEGIES_TOML,
                 extra_env: Mapping[str, str] | None = None) -> None:
        group = group or f"{kafka.topic_prefix}-trading"
        super().__init__(Sport.FOOTBALL, kafka, mysql, redis, tmp / f"trading-{group}.log", group=group)
        strategies_file = tmp / "strategies.toml"
        strategies_file.write_text(strategies)
        self.env = trading_env(kafka, mysql, redis, group=group, web_port=self.port,
                               strategies_file=strategies_file, extra=extra_env)
        self.command = [sys.executable, "-m", "services.trading", "run"]


@asynccontextmanager
async def running(kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings, tmp: Path,
                  **kwargs: Any) -> AsyncIterator[TradingProcess]:
    """The service, started and ready; stopped (killed if need be) afterwards."""
    service = TradingProcess(kafka, mysql, redis, tmp, **kwargs).start()
    try:
        await service.wait_ready(90)
        yield service
    finally:
        service.ensure_stopped()


@asynccontextmanager
async def producer(kafka: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    """An idempotent producer on the test's Kafka."""
    p = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True,
                         linger_ms=0)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def publish(p: AIOKafkaProducer, kafka: KafkaSettings,
                  records: Iterable[EventDelta | ModelPrices]) -> None:
    """Deltas to their updates topic, model prices to their model topic, keyed by event."""
    topics = Topics(kafka.topic_prefix)
    for r in records:
        topic = topics.updates(r.sport) if isinstance(r, EventDelta) else topics.model(r.sport)
        await p.send_and_wait(topic, value=r.model_dump_json(exclude_none=True).encode(),
                              key=r.event_id.encode())


async def store_model(redis: RedisSettings, prices: ModelPrices) -> None:
    """Model prices in Redis, where the pricing service keeps the latest of each event."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis.url)
    try:
        await client.set(model_key(redis.key_prefix, prices.event_id), prices.model_dump_json())
    finally:
        await client.aclose()


async def bets(db: Db, strategy: str | None = None) -> list[dict[str, Any]]:
    """Every bet (as dicts), oldest first."""
    where, args = ("WHERE strategy = %s", [strategy]) if strategy else ("", [])
    rows = await db.rows(
        "SELECT strategy, event_id, market_key, outcome_id, price_taken, stake, status, payout,"
        f" closing_price, closing_fixed, market_version FROM trading_bets {where} ORDER BY id", args)
    names = ("strategy", "event_id", "market_key", "outcome_id", "price", "stake", "status", "payout",
             "closing_price", "closing_fixed", "market_version")
    return [dict(zip(names, row, strict=True)) for row in rows]


async def ledger(db: Db) -> list[tuple[str, str, Decimal]]:
    """Every ledger entry: (strategy, kind, amount), in order."""
    return [(s, k, a) for s, k, a in await db.rows(
        "SELECT strategy, kind, amount FROM trading_ledger ORDER BY id")]


async def wait_for(db: Db, sql: str, expected: Any, within: float = 60.0) -> None:
    """Poll a scalar query until it equals ``expected``."""
    async def check() -> bool:
        return bool(await db.scalar(sql) == expected)

    await wait_until(check, within=within, what=f"{sql} == {expected!r}")


async def balances_add_up(db: Db) -> bool:
    """Each strategy's balance is the sum of its ledger."""
    rows = await db.rows(
        "SELECT s.name, s.balance, (SELECT SUM(amount) FROM trading_ledger l WHERE l.strategy = s.name)"
        " FROM trading_strategies s")
    return all(balance == total for _, balance, total in rows)



async def apply_deltas(mysql: MySQLSettings, feed: Iterable[EventDelta | ModelPrices]) -> None:
    """Records through the service's own store and engine, one transaction per delta (no
    Kafka): model prices join the model book, deltas are applied and committed."""
    from services.trading.domain.engine import Engine
    from services.trading.domain.models import ModelBook
    from services.trading.storage.store import TradingStore
    from shared.storage.pool import create_pool
    from tests.support.trading import at, strategies

    engine = Engine(strategies(), ModelBook())
    async with create_pool(mysql) as pool:
        store = TradingStore(pool)
        await store.ensure_strategies(engine.strategies, at(0))
        for record in feed:
            if isinstance(record, ModelPrices):
                engine.models.add(record)
            else:
                engine.committed(await store.apply([record], engine, record.applied_at))


async def seed_trading(mysql: MySQLSettings) -> None:
    """Bets and ledger as the service writes them: for each test strategy, on ``e00`` a 1x2
    home bet at 2.10 that won (closing line 2.00) and an over 2.5 bet at 1.90 that lost; on
    ``e01`` an open 1x2 home bet at 2.20."""
    from tests.support.trading import (
        at,
        delta,
        fixture_delta,
        market,
        model_prices,
        result,
        settled,
        settlement_delta,
    )

    probabilities = {"1x2": {"home": 0.55, "draw": 0.25, "away": 0.2},
                     "totals|total=2.5": {"over": 0.6, "under": 0.4}}
    won = settled("1x2", result("home", True), result("draw", False), result("away", False))
    lost = settled("totals|total=2.5", result("over", False), result("under", True))
    await apply_deltas(mysql, [
        model_prices(1, probabilities, event_id="e00"), model_prices(1, probabilities, event_id="e01"),
        fixture_delta(event_id="e00"), fixture_delta(event_id="e01"),
        delta(2, market("1x2", "2.10", "3.30", "3.60"), market("totals|total=2.5", "1.90", "1.95"),
              event_id="e00"),
        delta(3, market("1x2", "2.00", "3.40", "3.70"), event_id="e00"),
        delta(2, market("1x2", "2.20", "3.30", "3.60"), event_id="e01", when=at(30)),
        settlement_delta(4, won, lost, event_id="e00"),
    ])
