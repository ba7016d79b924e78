"""A processor worker on the real Kafka, MariaDB and Redis: messages in, rows, snapshots
and deltas out. Each test gets fresh topics, a fresh database and a fresh Redis prefix,
and one ``python -m services.processors <sport>`` subprocess."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.cache import LiveCache, open_cache
from shared.codec import RejectedRecord
from shared.enums import EventStatus, MarketStatus, Sport
from shared.live import EventDelta, EventSnapshot, apply_delta, event_key, live_index_key
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.topics import Topics
from tests.support.processors import (
    REPO,
    Db,
    WorkerProcess,
    database,
    produce,
    read_topic,
    wait_until,
    worker_env,
)
from tests.support.samples import MAIN_MARKET, TOTALS, Messages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def stack(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> tuple[KafkaSettings, MySQLSettings, RedisSettings]:
    return kafka_settings, mysql_settings, redis_settings


async def start_worker(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], tmp_path: Path,
    sport: Sport = Sport.FOOTBALL, **env: str,
) -> WorkerProcess:
    kafka, mysql, redis = stack
    worker = WorkerProcess(sport, kafka, mysql, redis, tmp_path / f"{sport.value}.log",
                           extra_env=env).start()
    await worker.wait_ready()
    return worker


@pytest.fixture
async def worker(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], tmp_path: Path
) -> AsyncIterator[WorkerProcess]:
    w = await start_worker(stack, tmp_path)
    try:
        yield w
        assert w.terminate() == 0, w.tail()
    finally:
        w.ensure_stopped()


@pytest.fixture
async def db(mysql_settings: MySQLSettings) -> AsyncIterator[Db]:
    async with database(mysql_settings) as conn:
        yield conn


@pytest.fixture
async def cache(redis_settings: RedisSettings) -> AsyncIterator[LiveCache]:
    async with open_cache(redis_settings) as c:
        yield c


async def ledger_count(db: Db) -> int:
    return int(await db.scalar("SELECT COUNT(*) FROM ledger"))


async def settled(db: Db, n: int, within: float = 30.0) -> None:
    """Wait until the ledger (plus duplicates) accounts for ``n`` messages."""

    async def done() -> bool:
        total = await db.scalar(
            "SELECT (SELECT COUNT(*) FROM ledger) + (SELECT COUNT(*) FROM ledger_duplicates)")
        return int(total) >= n

    await wait_until(done, within, what=f"{n} messages in the ledger")


async def snapshot_version(cache: LiveCache, event_id: str, version: int) -> EventSnapshot:
    found: list[EventSnapshot] = []

    async def there() -> bool:
        snap = await cache.read(event_id)
        if snap is not None and snap.version >= version:
            found.append(snap)
            return True
        return False

    await wait_until(there, 20, what=f"snapshot of {event_id} at v{version}")
    return found[-1]


async def deltas(kafka: KafkaSettings, n: int, sport: Sport = Sport.FOOTBALL) -> list[EventDelta]:
    records = await read_topic(kafka, Topics(kafka.topic_prefix).updates(sport), n)
    return [EventDelta.model_validate_json(v) for _, v in records]


async def test_messages_become_rows_snapshot_and_updates(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess,
    db: Db, cache: LiveCache,
) -> None:
    kafka, _, redis = stack
    m = Messages()
    await produce(kafka, [
        m.fixture("e1"), m.live("e1", periods=[("1h", 1, 0)]),
        m.odds("e1", {"1x2": {"home": "1.5", "draw": "4", "away": "6.5"}, TOTALS[Sport.FOOTBALL]: None}),
    ])
    await settled(db, 3)
    assert await db.rows("SELECT disposition, COUNT(*) FROM ledger GROUP BY disposition") == [
        ("applied", 3)]
    assert await db.rows("SELECT id, status, version, home_id, competition_id FROM events") == [
        ("e1", "live", 3, "e1-h", "c-football")]
    assert await db.rows("SELECT home_score, away_score, period FROM live_state") == [(1, 0, "1h")]
    assert await db.rows("SELECT market_key, status FROM markets ORDER BY market_key") == [
        ("1x2", "active"), ("totals|total=2.5", "active")]
    prices = await db.rows(
        "SELECT outcome_id, price FROM outcomes WHERE market_key = '1x2' ORDER BY outcome_id")
    assert [(o, str(p)) for o, p in prices] == [
        ("away", "6.5000"), ("draw", "4.0000"), ("home", "1.5000")]
    assert await db.scalar("SELECT COUNT(*) FROM odds_history") == 5
    assert await db.rows("SELECT name FROM competitors ORDER BY id") == [("Away e1",), ("Home e1",)]

    snap = await snapshot_version(cache, "e1", 3)
    assert snap.status is EventStatus.LIVE
    assert [o.id for o in snap.markets["1x2"].outcomes] == ["home", "draw", "away"]
    assert await cache.live_ids(Sport.FOOTBALL) == ["e1"]
    assert await cache.event_ids(Sport.FOOTBALL) == ["e1"]

    published = await deltas(kafka, 3)
    assert [(d.event_id, d.version, d.kind.value) for d in published] == [
        ("e1", 1, "fixture"), ("e1", 2, "live"), ("e1", 3, "odds")]
    rebuilt = EventSnapshot(event_id="e1", sport=Sport.FOOTBALL, version=0)
    for delta in published:
        rebuilt = apply_delta(rebuilt, delta)
    assert rebuilt == snap
    assert await cache.client.exists(event_key(redis.key_prefix, "e1"))


async def test_delta_applied_to_snapshot_v_equals_snapshot_v_plus_one_in_redis(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess,
    db: Db, cache: LiveCache,
) -> None:
    kafka = stack[0]
    m = Messages()
    await produce(kafka, [m.fixture("e1"), m.odds("e1")])
    before = await snapshot_version(cache, "e1", 2)
    assert before.version == 2
    await produce(kafka, [m.odds("e1", {"1x2": {"home": "3", "draw": "3", "away": "2.2"}})])
    after = await snapshot_version(cache, "e1", 3)
    delta = (await deltas(kafka, 3))[2]
    assert delta.version == 3
    assert apply_delta(before, delta) == after
    # Byte for byte too: distribution may compare or forward the JSON as it is.
    stored = await cache.client.get(event_key(stack[2].key_prefix, "e1"))
    assert isinstance(stored, bytes)
    assert apply_delta(before, delta).model_dump_json(exclude_none=True) == stored.decode()


async def test_duplicate_stale_and_out_of_order_input(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess, db: Db,
) -> None:
    kafka = stack[0]
    m = Messages()
    fixture1, fixture2 = m.fixture("e1"), m.fixture("e2")
    odds1, live2 = m.odds("e1"), m.live("e2")
    older = m.odds("e2", at=live2.provider_ts - timedelta(seconds=1))
    same_time = m.odds("e2", at=live2.provider_ts)
    # Events interleaved; a re-sent id; an odds message older than what e2 has applied.
    await produce(kafka, [fixture1, fixture2, odds1, live2, odds1, older, same_time, fixture1])
    await settled(db, 8)
    rows = dict(await db.rows("SELECT message_id, disposition FROM ledger"))
    assert rows == {
        fixture1.message_id: "applied", fixture2.message_id: "applied",
        odds1.message_id: "applied", live2.message_id: "applied",
        older.message_id: "stale", same_time.message_id: "applied",
    }
    assert await db.rows(
        "SELECT message_id, COUNT(*) FROM ledger_duplicates GROUP BY message_id ORDER BY 1"
    ) == sorted([(odds1.message_id, 1), (fixture1.message_id, 1)])
    reason = await db.scalar("SELECT reason FROM ledger WHERE message_id = %s", (older.message_id,))
    assert "older than the event's last applied" in reason
    assert await db.rows("SELECT id, version FROM events ORDER BY id") == [("e1", 2), ("e2", 3)]


async def test_bet_stop_followed_by_odds(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess,
    db: Db, cache: LiveCache,
) -> None:
    kafka = stack[0]
    m = Messages()
    total = TOTALS[Sport.FOOTBALL]
    await produce(kafka, [m.fixture("e1"), m.odds("e1", {"1x2": None, total: None}),
                          m.odds("e1", {"btts": None}, status=MarketStatus.DEACTIVATED),
                          m.bet_stop("e1")])
    snap = await snapshot_version(cache, "e1", 4)
    assert {k: v.status.value for k, v in snap.markets.items()} == {
        "1x2": "suspended", total: "suspended", "btts": "deactivated"}
    assert snap.markets["1x2"].status_reason == "bet stop"
    await produce(kafka, [m.odds("e1", {"1x2": None})])
    snap = await snapshot_version(cache, "e1", 5)
    assert snap.markets["1x2"].status is MarketStatus.ACTIVE
    assert snap.markets[total].status is MarketStatus.SUSPENDED
    history = await db.rows(
        "SELECT market_status, COUNT(*) FROM odds_history WHERE market_key = '1x2'"
        " GROUP BY market_status ORDER BY 1")
    assert history == [("active", 6), ("suspended", 3)]


async def test_settlement_and_its_rollback(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess,
    db: Db, cache: LiveCache,
) -> None:
    kafka = stack[0]
    m = Messages()
    await produce(kafka, [m.fixture("e1"), m.odds("e1"), m.bet_stop("e1"),
                          m.settlement("e1", "1x2", "home")])
    await snapshot_version(cache, "e1", 4)
    assert await db.rows("SELECT outcome_id, result, rolled_back_at FROM settlements ORDER BY 1") == [
        ("away", "lost", None), ("draw", "lost", None), ("home", "won", None)]
    assert await db.scalar("SELECT status FROM markets") == "settled"
    refused = m.odds("e1")
    rollback = m.rollback("e1", "settlement", ["1x2"])
    await produce(kafka, [refused, rollback])
    snap = await snapshot_version(cache, "e1", 5)
    assert snap.markets["1x2"].status is MarketStatus.SUSPENDED  # as before the settlement
    assert await db.scalar("SELECT disposition FROM ledger WHERE message_id = %s",
                           (refused.message_id,)) == "rejected"
    rows = await db.rows("SELECT rolled_back_by, rolled_back_at IS NOT NULL FROM settlements")
    assert rows == [(rollback.message_id, 1)] * 3
    published = await deltas(kafka, 5)
    assert published[3].settlements[0].market_key == "1x2"
    assert published[4].rolled_back == ("1x2",)


async def test_rejections_reach_the_ledger_and_the_rejected_topic(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess, db: Db,
) -> None:
    kafka = stack[0]
    m = Messages()
    unknown = m.odds("ghost")
    partial = m.fixture("e7", complete=False, body={"status": "live"})
    bad = json.dumps({"message_id": "broken-1", "provider": "gen", "sport": "football",
                      "event_id": "e1", "kind": "odds", "body": {"markets": []}}).encode()
    await produce(kafka, [unknown, partial, (b"e1", bad), (b"x", b"\x00garbage")])
    await settled(db, 3)
    rows = dict(await db.rows("SELECT message_id, reason FROM ledger WHERE disposition = 'rejected'"))
    assert "unknown event ghost" in rows[unknown.message_id]
    assert "first fixture" in rows[partial.message_id]
    assert "invalid message" in rows["broken-1"]
    records = await read_topic(kafka, Topics(kafka.topic_prefix).rejected, 4)
    rejected = [RejectedRecord.model_validate_json(v) for _, v in records]
    assert {r.stage for r in rejected} == {"processor"}
    assert sorted(str(r.message_id) for r in rejected) == sorted(
        [unknown.message_id, partial.message_id, "broken-1", "None"])
    garbage = next(r for r in rejected if r.message_id is None)
    assert garbage.payload.endswith("garbage")


async def test_silent_provider_markets_are_suspended_until_fresh_odds(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], tmp_path: Path,
    db: Db, cache: LiveCache,
) -> None:
    kafka = stack[0]
    w = await start_worker(stack, tmp_path, SPORTSFEED_PROCESSOR_ALIVE_WINDOW_S="2",
                           SPORTSFEED_PROCESSOR_ALIVE_CHECK_INTERVAL_S="0.5")
    try:
        m = Messages(start=datetime.now(UTC) - timedelta(seconds=1))
        other = Messages(provider="other", prefix="o", start=datetime.now(UTC))
        await produce(kafka, [m.fixture("e1"), m.alive(), m.odds("e1"),
                              other.odds("e1", {TOTALS[Sport.FOOTBALL]: None})])
        await settled(db, 4)

        async def suspended() -> bool:
            snap = await cache.read("e1")
            return snap is not None and snap.markets["1x2"].status is MarketStatus.SUSPENDED

        await wait_until(suspended, 20, what="silence suspension")
        snap = await cache.read("e1")
        assert snap is not None
        assert snap.markets["1x2"].status_reason == "provider gen silent"
        assert snap.markets[TOTALS[Sport.FOOTBALL]].status is MarketStatus.ACTIVE  # never alive-tracked
        assert await db.scalar("SELECT suspended_at IS NOT NULL FROM provider_liveness") == 1
        assert await db.scalar(
            "SELECT COUNT(*) FROM odds_history WHERE message_id LIKE 'silence:gen:%'") == 3
        await produce(kafka, [m.alive(at=datetime.now(UTC)), m.odds("e1", at=datetime.now(UTC))])

        async def reopened() -> bool:
            snap = await cache.read("e1")
            return snap is not None and snap.markets["1x2"].status is MarketStatus.ACTIVE

        await wait_until(reopened, 20, what="reopened market")
        assert await db.scalar("SELECT suspended_at FROM provider_liveness") is None
        assert w.terminate() == 0
    finally:
        w.ensure_stopped()


async def test_rebuild_makes_redis_match_mysql(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess,
    cache: LiveCache,
) -> None:
    kafka, mysql, redis = stack
    m = Messages()
    await produce(kafka, [m.fixture("e1"), m.live("e1"), m.odds("e1"), m.fixture("e2")])
    expected = await snapshot_version(cache, "e1", 3)
    await snapshot_version(cache, "e2", 1)
    await cache.client.delete(event_key(redis.key_prefix, "e1"))
    await cache.client.zadd(live_index_key(redis.key_prefix, Sport.FOOTBALL), {"gone": 1})
    env = worker_env(kafka, mysql, redis, group="unused", web_port=1)
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "services.processors.rebuild", "--sport", "football"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rebuilt football: 2 events" in done.stdout
    assert await cache.read("e1") == expected
    assert await cache.live_ids(Sport.FOOTBALL) == ["e1"]
    assert sorted(await cache.event_ids(Sport.FOOTBALL)) == ["e1", "e2"]


async def test_health_readiness_and_metrics(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess, db: Db,
) -> None:
    m = Messages()
    await produce(stack[0], [m.fixture("e1"), m.odds("nope")])
    await settled(db, 2)
    assert (await worker.get("/healthz"))[0] == 200
    status, body = await worker.get("/readyz")
    assert status == 200
    ready = json.loads(body)
    assert (ready["mysql"], ready["redis"], ready["kafka"]) == ("ok", "ok", "ok")
    assert ready["partitions"] == [0, 1]

    async def counted() -> bool:
        text = (await worker.get("/metrics"))[1]
        return 'sportsfeed_processor_messages_total{disposition="rejected",sport="football"} 1.0' in text

    await wait_until(counted, 10, what="metrics")
    text = (await worker.get("/metrics"))[1]
    for name in ("sportsfeed_processor_batch_size_bucket", "sportsfeed_processor_apply_seconds_bucket",
                 "sportsfeed_processor_append_to_commit_seconds_bucket"):
        assert name in text


@pytest.mark.parametrize("sport", [Sport.BASKETBALL, Sport.TENNIS, Sport.ICE_HOCKEY])
async def test_every_sport_has_its_own_worker(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], tmp_path: Path,
    db: Db, cache: LiveCache, sport: Sport,
) -> None:
    kafka = stack[0]
    w = await start_worker(stack, tmp_path, sport)
    try:
        m = Messages(sport)
        await produce(kafka, [m.fixture("x1"), m.live("x1"), m.odds("x1"),
                              m.settlement("x1", MAIN_MARKET[sport], "home"),
                              Messages(Sport.FOOTBALL, prefix="f").fixture("f1")], sport=sport)
        await settled(db, 5)
        snap = await snapshot_version(cache, "x1", 4)
        assert snap.sport is sport
        assert snap.markets[MAIN_MARKET[sport]].status is MarketStatus.SETTLED
        reason = await db.scalar("SELECT reason FROM ledger WHERE event_id = 'f1'")
        assert reason == f"a football message on the {sport.value} feed"
        assert (await deltas(kafka, 4, sport))[-1].version == 4
        assert w.terminate() == 0
    finally:
        w.ensure_stopped()



async def test_records_compressed_with_any_codec_a_producer_may_choose_are_applied(
    stack: tuple[KafkaSettings, MySQLSettings, RedisSettings], worker: WorkerProcess, db: Db,
) -> None:
    """Ingestion offers gzip, lz4, snappy and zstd; a worker without a codec's library
    would crash on the first such record batch (seen on the dev stack with lz4)."""
    kafka = stack[0]
    msgs = Messages(Sport.FOOTBALL)
    await produce(kafka, [msgs.fixture("ev-codec")])
    codecs = ("gzip", "lz4", "snappy", "zstd")
    for n, codec in enumerate(codecs):
        prices = {"home": f"2.{n}0", "draw": "3.30", "away": "3.60"}
        await produce(kafka, [msgs.odds("ev-codec", {MAIN_MARKET[Sport.FOOTBALL]: prices})],
                      compression=codec)
    await settled(db, 1 + len(codecs))
    rows = await db.rows("SELECT disposition, COUNT(*) FROM ledger GROUP BY disposition")
    assert dict(rows) == {"applied": 1 + len(codecs)}
    assert worker.proc is not None
    assert worker.proc.poll() is None, worker.tail()
