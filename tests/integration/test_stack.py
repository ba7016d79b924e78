"""The real stack answers as the platform needs: Kafka, MySQL (schema and types), Redis."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiomysql
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from shared.codec import decode_message, encode_message, message_key
from shared.enums import MarketStatus, MessageKind, Sport
from shared.markets import Market, Outcome
from shared.model import FeedMessage, OddsBody
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.storage import create_pool, from_db_datetime, ping, to_db_datetime
from shared.storage.migrate import (
    DEFAULT_MIGRATIONS_DIR,
    ChecksumMismatchError,
    apply_migrations,
    discover,
    drop_database,
)
from tests.support.stack import REPO, StackEndpoints

pytestmark = pytest.mark.integration


def odds_message() -> FeedMessage:
    """A realistic pre-match football odds change: 1X2, a goal line and an Asian handicap."""
    return FeedMessage(
        message_id=f"test-odds-{uuid.uuid4().hex}",
        provider="betgenius",
        sport=Sport.FOOTBALL,
        event_id="sr:match:48213377",
        kind=MessageKind.ODDS,
        provider_ts=datetime(2026, 3, 14, 15, 2, 7, 125000, tzinfo=UTC),
        received_at=datetime(2026, 3, 14, 15, 2, 7, 431512, tzinfo=UTC),
        body=OddsBody(
            producer="pre",
            markets=(
                Market.of("1x2", outcomes=(
                    Outcome(id="home", price=Decimal("2.05")),
                    Outcome(id="draw", price=Decimal("3.40")),
                    Outcome(id="away", price=Decimal("3.75")),
                )),
                Market.of("totals", {"total": "2.50"}, outcomes=(
                    Outcome(id="over", price=Decimal("1.9")),
                    Outcome(id="under", price=Decimal("1.95")),
                )),
                Market.of("handicap", {"hcp": "-0.25"}, status=MarketStatus.SUSPENDED, outcomes=(
                    Outcome(id="home", price=Decimal("1.875")),
                    Outcome(id="away", price=None, active=False),
                )),
            ),
        ),
    )


# --- Kafka ----------------------------------------------------------------------------


async def test_canonical_message_round_trips_through_kafka(kafka_settings: KafkaSettings) -> None:
    from shared.topics import Topics

    message = odds_message()
    topic = Topics(kafka_settings.topic_prefix).feed(message.sport)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_settings.bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, value=encode_message(message), key=message_key(message)
        )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_settings.bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()

    assert (record.partition, record.offset) == (sent.partition, sent.offset)
    assert record.key == b"sr:match:48213377"
    received = decode_message(record.value)
    assert received == message
    assert isinstance(received.body, OddsBody)
    assert received.body.markets[0].outcomes[1].price == Decimal("3.40")
    assert isinstance(received.body.markets[0].outcomes[1].price, Decimal)


async def test_topics_are_created_with_the_partitions_of_their_role(
    stack_endpoints: StackEndpoints,
) -> None:
    """Feed topics (and rejected) get ``partitions``, updates and model topics
    ``fanout_partitions``; an existing topic keeps what it has."""
    from shared.topics import Topics, create_topics, delete_topics

    settings = KafkaSettings(bootstrap=stack_endpoints.kafka_bootstrap,
                             topic_prefix=f"t{uuid.uuid4().hex[:10]}.sportsfeed",
                             partitions=3, fanout_partitions=2)
    topics = Topics(settings.topic_prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        assert sorted(await create_topics(settings)) == sorted(topics.all())
        assert await create_topics(settings.model_copy(update={"fanout_partitions": 5})) == []
        described = await admin.describe_topics(topics.all())
        counts = {t["topic"]: len(t["partitions"]) for t in described}
    finally:
        await delete_topics(settings, topics.all())
        await admin.close()
    for sport in Sport:
        assert counts[topics.feed(sport)] == 3
        assert counts[topics.updates(sport)] == 2
        assert counts[topics.model(sport)] == 2
    assert counts[topics.rejected] == 3


# --- MySQL: migrations ----------------------------------------------------------------


async def query(settings: MySQLSettings, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    async with create_pool(settings) as pool, pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, args)
        return list(await cur.fetchall())


async def schema_snapshot(settings: MySQLSettings) -> dict[str, Any]:
    """Every table's full definition and the migration records (applied_at included)."""
    tables = [row[0] for row in await query(settings, "SHOW TABLES")]
    definitions = {t: (await query(settings, f"SHOW CREATE TABLE `{t}`"))[0][1] for t in tables}
    records = await query(settings, "SELECT * FROM schema_migrations ORDER BY version")
    return {"tables": definitions, "schema_migrations": records}


@pytest.fixture
async def fresh_database(stack_endpoints: StackEndpoints) -> AsyncIterator[MySQLSettings]:
    """Settings for a database that does not exist yet; dropped afterwards."""
    settings = MySQLSettings(
        host=stack_endpoints.mysql_host,
        port=stack_endpoints.mysql_port,
        user=stack_endpoints.mysql_user,
        password=SecretStr(stack_endpoints.mysql_password),
        database=f"sportsfeed_t_{uuid.uuid4().hex[:10]}",
    )
    yield settings
    await drop_database(settings)


async def test_migrations_applied_twice_leave_one_schema(fresh_database: MySQLSettings) -> None:
    every_version = [m.version for m in discover(DEFAULT_MIGRATIONS_DIR)]

    assert await apply_migrations(fresh_database) == every_version
    first = await schema_snapshot(fresh_database)
    assert await apply_migrations(fresh_database) == []
    second = await schema_snapshot(fresh_database)

    assert second == first
    assert [row[0] for row in first["schema_migrations"]] == every_version
    assert {"events", "markets", "outcomes", "odds_history", "ledger", "schema_migrations"} <= set(
        first["tables"]
    )
    charset = await query(
        fresh_database,
        "SELECT default_character_set_name FROM information_schema.schemata"
        " WHERE schema_name = %s",
        (fresh_database.database,),
    )
    assert charset == [("utf8mb4",)]


async def test_concurrent_migration_runs_apply_each_file_once(
    fresh_database: MySQLSettings,
) -> None:
    results = await asyncio.gather(*(apply_migrations(fresh_database) for _ in range(3)))

    every_version = [m.version for m in discover(DEFAULT_MIGRATIONS_DIR)]
    assert sorted(results) == [[], [], every_version]


async def test_changed_checksum_of_an_applied_migration_is_refused(
    fresh_database: MySQLSettings, tmp_path: Path
) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE IF NOT EXISTS first (a INT);\n")
    assert await apply_migrations(fresh_database, tmp_path) == [1]
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE IF NOT EXISTS first (a BIGINT);\n")
    (tmp_path / "0002_second.sql").write_text("CREATE TABLE IF NOT EXISTS second (b INT);\n")

    with pytest.raises(ChecksumMismatchError, match=r"0001_first\.sql"):
        await apply_migrations(fresh_database, tmp_path)
    # Refused before anything ran: the new migration was not applied either.
    assert [row[0] for row in await query(fresh_database, "SHOW TABLES")] == [
        "first", "schema_migrations"
    ]

    # The CLI, pointed at the folder by the environment, refuses with a clear message.
    env = {
        **os.environ,
        "SPORTSFEED_MYSQL_HOST": fresh_database.host,
        "SPORTSFEED_MYSQL_PORT": str(fresh_database.port),
        "SPORTSFEED_MYSQL_USER": fresh_database.user,
        "SPORTSFEED_MYSQL_PASSWORD": fresh_database.password.get_secret_value(),
        "SPORTSFEED_MYSQL_DATABASE": fresh_database.database,
        "SPORTSFEED_MYSQL_MIGRATIONS_DIR": str(tmp_path),
    }
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.storage.migrate",
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(cli.communicate(), timeout=60)
    assert cli.returncode == 1
    assert "0001_first.sql" in stderr.decode()
    assert "changed since it was applied" in stderr.decode()


# --- MySQL: types ---------------------------------------------------------------------


async def test_row_round_trips_with_decimal_price_and_utc_microseconds(
    mysql_settings: MySQLSettings,
) -> None:
    start = datetime(2026, 3, 29, 0, 30, 0, 1, tzinfo=UTC)  # the night Europe changes clocks
    provider_ts = datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=UTC)
    async with create_pool(mysql_settings) as pool:
        await ping(pool)
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT @@session.time_zone")
            assert await cur.fetchone() == ("+00:00",)
            await cur.execute(
                "INSERT INTO events (id, sport, competition_id, home_id, away_id, start_time,"
                " status, provider, last_provider_ts, version)"
                " VALUES (%s, 'football', 'sr:tournament:17', 'sr:competitor:1',"
                " 'sr:competitor:2', %s, 'not_started', 'betgenius', %s, 1)",
                ("sr:match:1", to_db_datetime(start), to_db_datetime(provider_ts)),
            )
            await cur.execute(
                "INSERT INTO markets (event_id, market_key, market_type, status, provider,"
                " provider_ts) VALUES (%s, %s, 'totals', 'active', 'betgenius', %s)",
                ("sr:match:1", "totals|total=2.5", to_db_datetime(provider_ts)),
            )
            await cur.executemany(
                "INSERT INTO outcomes (event_id, market_key, outcome_id, price, active)"
                " VALUES (%s, %s, %s, %s, %s)",
                [
                    ("sr:match:1", "totals|total=2.5", "over", Decimal("1.0010"), True),
                    ("sr:match:1", "totals|total=2.5", "under", Decimal("999.9999"), True),
                    ("sr:match:1", "totals|total=2.5", "exact", None, False),
                ],
            )
            await cur.execute(
                "INSERT INTO odds_history (event_id, market_key, outcome_id, price, active,"
                " market_status, provider_ts, message_id)"
                " VALUES (%s, %s, 'over', %s, TRUE, 'active', %s, 'm-1')",
                ("sr:match:1", "totals|total=2.5", Decimal("1.001"), to_db_datetime(provider_ts)),
            )
            await conn.commit()

        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT start_time, last_provider_ts, UNIX_TIMESTAMP(last_provider_ts), version"
                " FROM events WHERE id = 'sr:match:1'"
            )
            start_back, ts_back, epoch, version = await cur.fetchone()
            await cur.execute(
                "SELECT outcome_id, price, active FROM outcomes ORDER BY outcome_id"
            )
            outcomes = await cur.fetchall()
            await cur.execute("SELECT price, provider_ts, recorded_at FROM odds_history")
            history_price, history_ts, recorded_at = await cur.fetchone()
            await conn.commit()

    assert from_db_datetime(start_back) == start
    assert from_db_datetime(ts_back) == provider_ts
    # The server reads the stored digits as UTC, so SQL-side time arithmetic agrees too.
    since_epoch = provider_ts - datetime(1970, 1, 1, tzinfo=UTC)
    assert epoch == since_epoch // timedelta(seconds=1) + Decimal(since_epoch.microseconds) / 10**6
    assert version == 1
    assert outcomes == (
        ("exact", None, 0),
        ("over", Decimal("1.0010"), 1),
        ("under", Decimal("999.9999"), 1),
    )
    assert all(isinstance(price, Decimal) for _, price, _ in outcomes if price is not None)
    assert history_price == Decimal("1.001")
    assert from_db_datetime(history_ts) == provider_ts
    # The column default is UTC "now", not the server's local time.
    assert abs((from_db_datetime(recorded_at) - datetime.now(UTC)).total_seconds()) < 60


async def test_ledger_primary_key_detects_a_duplicate_message_id(
    mysql_settings: MySQLSettings,
) -> None:
    now = to_db_datetime(datetime.now(UTC))
    insert = (
        "INSERT INTO ledger (message_id, provider, sport, event_id, kind, provider_ts,"
        " received_at, processed_at, disposition, kafka_partition, kafka_offset)"
        " VALUES (%s, 'betgenius', 'tennis', 'sr:match:9', 'live', %s, %s, %s, 'applied', 0, %s)"
    )
    async with create_pool(mysql_settings) as pool, pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(insert, ("msg-A", now, now, now, 1))
        await cur.execute(insert, ("msg-a", now, now, now, 2))  # ids are case-sensitive
        await conn.commit()
        with pytest.raises(aiomysql.IntegrityError) as duplicate:
            await cur.execute(insert, ("msg-A", now, now, now, 3))
        await conn.rollback()
        await cur.execute("SELECT message_id, kafka_offset FROM ledger ORDER BY kafka_offset")
        rows = await cur.fetchall()
    assert duplicate.value.args[0] == 1062  # ER_DUP_ENTRY
    assert rows == (("msg-A", 1), ("msg-a", 2))


async def test_unknown_enum_value_is_refused_not_stored_as_empty(
    mysql_settings: MySQLSettings,
) -> None:
    now = to_db_datetime(datetime.now(UTC))
    async with create_pool(mysql_settings) as pool, pool.acquire() as conn, conn.cursor() as cur:
        with pytest.raises(aiomysql.DataError):
            await cur.execute(
                "INSERT INTO markets (event_id, market_key, market_type, status, provider,"
                " provider_ts) VALUES ('e', '1x2', '1x2', 'open', 'p', %s)",
                (now,),
            )
        with pytest.raises(aiomysql.OperationalError) as not_json:
            await cur.execute(
                "INSERT INTO live_state (event_id, status, periods, provider_ts)"
                " VALUES ('e', 'live', 'not json', %s)",
                (now,),
            )
        await conn.rollback()
        await cur.execute("SELECT COUNT(*) FROM markets")
        assert await cur.fetchone() == (0,)
    # The CHECK constraint keeps JSON columns valid: MariaDB 4025, MySQL 8 3819.
    assert not_json.value.args[0] in {4025, 3819}


# --- Redis ----------------------------------------------------------------------------


async def test_redis_answers_ping_and_keeps_a_value_under_the_fresh_prefix(
    redis_settings: RedisSettings,
) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_settings.url)
    try:
        assert await client.ping() is True
        key = f"{redis_settings.key_prefix}:probe"
        await client.set(key, "1.875", ex=60)
        assert await client.get(key) == b"1.875"
        assert await client.exists(f"{redis_settings.key_prefix}:other") == 0
    finally:
        await client.aclose()


async def test_more_concurrent_readers_than_connections_wait_for_one(
    redis_settings: RedisSettings,
) -> None:
    """A subscribe storm (1,000 WebSocket clients at once) queues for Redis, never fails."""
    import asyncio

    from shared.cache import open_cache

    small = redis_settings.model_copy(update={"max_connections": 2})
    async with open_cache(small) as cache:
        keys = [f"{small.key_prefix}:storm:{i}" for i in range(5)]
        await cache.client.mset({k: str(i) for i, k in enumerate(keys)})
        results = await asyncio.gather(*(cache.client.mget(keys) for _ in range(50)))
    assert all(r == [b"0", b"1", b"2", b"3", b"4"] for r in results)
