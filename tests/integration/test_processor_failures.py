"""Failures lose nothing: SIGKILL mid-stream, SIGTERM, MariaDB and Redis outages (through
a proxy, so the shared services stay up), and two workers sharing one sport."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.cache import LiveCache, open_cache
from shared.enums import EventStatus, Sport
from shared.model import FeedMessage
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.processors import (
    Db,
    TcpProxy,
    WorkerProcess,
    database,
    produce,
    wait_until,
)
from tests.support.samples import TOTALS, Messages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
Stack = tuple[KafkaSettings, MySQLSettings, RedisSettings]
# Small batches and a slow Kafka commit: many MySQL commits ahead of the Kafka offsets,
# so a crash always leaves records to replay.
SMALL_BATCHES = {
    "SPORTSFEED_PROCESSOR_BATCH_MAX": "40",
    "SPORTSFEED_PROCESSOR_BATCH_WITHIN_S": "0",
    "SPORTSFEED_PROCESSOR_COMMIT_INTERVAL_S": "2",
    "SPORTSFEED_PROCESSOR_RETRY_MAX_S": "0.5",
    "SPORTSFEED_PROCESSOR_REPAIR_INTERVAL_S": "0.5",
}


@pytest.fixture
def stack(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> Stack:
    return kafka_settings, mysql_settings, redis_settings


@pytest.fixture
async def db(mysql_settings: MySQLSettings) -> AsyncIterator[Db]:
    async with database(mysql_settings) as conn:
        yield conn


@pytest.fixture
async def cache(redis_settings: RedisSettings) -> AsyncIterator[LiveCache]:
    async with open_cache(redis_settings) as c:
        yield c


def feed(events: int, count: int, seed: int = 3) -> list[FeedMessage]:
    """Fixtures, then a mix of odds, scores and bet stops over the events, in order."""
    rng = random.Random(seed)
    m = Messages()
    out = [m.fixture(f"ev{i}") for i in range(events)]
    goals = dict.fromkeys(range(events), 0)
    while len(out) < count:
        e = rng.randrange(events)
        roll = rng.random()
        if roll < 0.8:
            home = str(round(rng.uniform(1.2, 5), 2))
            out.append(m.odds(f"ev{e}", {"1x2": {"home": home, "draw": "3.3", "away": "2.9"},
                                         TOTALS[Sport.FOOTBALL]: None}))
        elif roll < 0.93:
            goals[e] += rng.random() < 0.3
            out.append(m.live(f"ev{e}", EventStatus.LIVE, periods=[("1h", goals[e], 0)]))
        else:
            out.append(m.bet_stop(f"ev{e}"))
    return out


async def ledger_total(db: Db) -> int:
    return int(await db.scalar("SELECT COUNT(*) FROM ledger"))


async def assert_exactly_once(db: Db, messages: list[FeedMessage]) -> None:
    """One ledger row per message, no duplicates, no doubled history, versions = applied."""
    assert await ledger_total(db) == len(messages)
    assert await db.scalar("SELECT COUNT(DISTINCT message_id) FROM ledger") == len(messages)
    assert await db.scalar("SELECT COUNT(*) FROM ledger_duplicates") == 0
    assert await db.rows(
        "SELECT disposition, COUNT(*) FROM ledger GROUP BY disposition") == [("applied", len(messages))]
    assert await db.rows(
        "SELECT message_id, market_key, outcome_id FROM odds_history"
        " GROUP BY message_id, market_key, outcome_id HAVING COUNT(*) > 1") == []
    versions = await db.rows(
        "SELECT e.id, e.version, (SELECT COUNT(*) FROM ledger l WHERE l.event_id = e.id"
        " AND l.disposition = 'applied') FROM events e")
    assert versions
    assert all(v == applied for _, v, applied in versions), versions


async def assert_redis_matches_mysql(db: Db, cache: LiveCache) -> None:
    versions = dict(await db.rows("SELECT id, version FROM events"))

    async def caught_up() -> bool:
        snaps = await cache.read_many(sorted(versions))
        return all(s is not None and s.version == versions[s.event_id] for s in snaps)

    await wait_until(caught_up, 30, what="redis snapshots at the MySQL versions")


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M)
    return float(found[1]) if found else 0.0


def metric_sum(text: str, name: str) -> float:
    """The sum of every series of a metric (all partitions, say)."""
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M))


async def test_sigkill_mid_stream_loses_nothing_and_applies_nothing_twice(
    stack: Stack, tmp_path: Path, db: Db, cache: LiveCache,
) -> None:
    kafka, mysql, redis = stack
    messages = feed(events=40, count=3000)
    await produce(kafka, messages)
    first = WorkerProcess(Sport.FOOTBALL, kafka, mysql, redis, tmp_path / "first.log",
                          extra_env=SMALL_BATCHES).start()
    second = WorkerProcess(Sport.FOOTBALL, kafka, mysql, redis, tmp_path / "second.log",
                           extra_env=SMALL_BATCHES)
    try:
        await first.wait_ready()
        await wait_until(lambda: _more_than(db, 1000), 60, every=0.05, what="a third applied")
        first.kill()
        at_kill = await ledger_total(db)
        assert at_kill < len(messages), "the worker finished before it could be killed"
        second.start()
        await second.wait_ready()
        await wait_until(lambda: _more_than(db, len(messages) - 1), 120, what="all applied")
        await asyncio.sleep(1)  # anything applied twice would show up now
        await assert_exactly_once(db, messages)
        text = (await second.get("/metrics"))[1]
        # The restarted worker saw records the killed one had committed: the ledger
        # recognised them, and they had no second effect.
        assert metric(text, "sportsfeed_processor_replays_total") > 0
        await assert_redis_matches_mysql(db, cache)
        assert second.terminate() == 0
    finally:
        first.ensure_stopped()
        second.ensure_stopped()


async def _more_than(db: Db, n: int) -> bool:
    return await ledger_total(db) > n


async def test_sigterm_finishes_the_batch_commits_and_exits_zero(
    stack: Stack, tmp_path: Path, db: Db,
) -> None:
    kafka, mysql, redis = stack
    # Enough that the worker cannot drain them all between the signal and its exit.
    messages = feed(events=30, count=8000, seed=5)
    await produce(kafka, messages)
    first = WorkerProcess(Sport.FOOTBALL, kafka, mysql, redis, tmp_path / "first.log",
                          extra_env=SMALL_BATCHES).start()
    second = WorkerProcess(Sport.FOOTBALL, kafka, mysql, redis, tmp_path / "second.log",
                           extra_env=SMALL_BATCHES)
    try:
        await first.wait_ready()
        await wait_until(lambda: _more_than(db, 500), 60, every=0.05, what="some applied")
        assert await asyncio.to_thread(first.terminate, 60) == 0
        assert await ledger_total(db) < len(messages), "stopped after the last message"
        second.start()
        await second.wait_ready()
        await wait_until(lambda: _more_than(db, len(messages) - 1), 120, what="all applied")
        await assert_exactly_once(db, messages)
        # The drain committed the offsets of everything applied: nothing to replay.
        assert metric((await second.get("/metrics"))[1], "sportsfeed_processor_replays_total") == 0
        assert second.terminate() == 0
    finally:
        first.ensure_stopped()
        second.ensure_stopped()


async def test_mysql_outage_stops_intake_and_resumes_without_loss(
    stack: Stack, tmp_path: Path, db: Db, cache: LiveCache,
) -> None:
    kafka, mysql, redis = stack
    proxy = await TcpProxy(mysql.host, mysql.port).start()
    behind_proxy = mysql.model_copy(update={"port": proxy.port})
    worker = WorkerProcess(Sport.FOOTBALL, kafka, behind_proxy, redis, tmp_path / "w.log",
                           extra_env={**SMALL_BATCHES, "SPORTSFEED_PROCESSOR_MAX_LAG_S": "1"}).start()
    messages = feed(events=20, count=1200, seed=9)
    try:
        await worker.wait_ready()
        await produce(kafka, messages[:400])
        await wait_until(lambda: _more_than(db, 399), 60, what="first part applied")
        proxy.cut()
        await produce(kafka, messages[400:])
        await asyncio.sleep(3)
        during = await ledger_total(db)
        status, body = await worker.get("/readyz")
        assert status == 503
        ready = json.loads(body)
        assert ready["mysql"].startswith("unreachable")
        assert ready["lag"].startswith("behind: partition"), ready
        # Every record not applied counts, whether fetched already or still in Kafka.
        text = (await worker.get("/metrics"))[1]
        assert metric_sum(text, "sportsfeed_processor_lag_records") == 800
        assert metric_sum(text, "sportsfeed_processor_lag_seconds") > 1
        await asyncio.sleep(2)
        assert await ledger_total(db) == during == 400  # nothing taken while MySQL is away
        proxy.restore()
        await wait_until(lambda: _more_than(db, len(messages) - 1), 120, what="all applied")
        await assert_exactly_once(db, messages)
        await assert_redis_matches_mysql(db, cache)
        text = (await worker.get("/metrics"))[1]
        assert metric(text, "sportsfeed_processor_mysql_retries_total") > 0
        assert metric_sum(text, "sportsfeed_processor_lag_records") == 0
        assert (await worker.get("/readyz"))[0] == 200
        assert worker.terminate() == 0
    finally:
        worker.ensure_stopped()
        await proxy.stop()


async def test_redis_outage_keeps_applying_and_repairs_snapshots(
    stack: Stack, tmp_path: Path, db: Db, cache: LiveCache,
) -> None:
    kafka, mysql, redis = stack
    proxy = await TcpProxy("127.0.0.1", int(redis.url.rsplit(":", 1)[1].split("/")[0])).start()
    behind_proxy = redis.model_copy(update={"url": f"redis://127.0.0.1:{proxy.port}/0"})
    worker = WorkerProcess(Sport.FOOTBALL, kafka, mysql, behind_proxy, tmp_path / "w.log",
                           extra_env=SMALL_BATCHES).start()
    messages = feed(events=20, count=900, seed=13)
    try:
        await worker.wait_ready()
        await produce(kafka, messages[:300])
        await wait_until(lambda: _more_than(db, 299), 60, what="first part applied")
        await assert_redis_matches_mysql(db, cache)
        proxy.cut()
        await produce(kafka, messages[300:])
        # MySQL keeps going without Redis.
        await wait_until(lambda: _more_than(db, len(messages) - 1), 120, what="all applied")
        stale = [s for s in await cache.read_many([f"ev{i}" for i in range(20)])
                 if s is not None and s.version < int(await db.scalar(
                     "SELECT version FROM events WHERE id = %s", (s.event_id,)))]
        assert stale, "Redis was cut off, so some snapshots must be behind"
        text = (await worker.get("/metrics"))[1]
        assert metric(text, "sportsfeed_processor_redis_dirty_events") > 0
        proxy.restore()
        await assert_redis_matches_mysql(db, cache)
        await assert_exactly_once(db, messages)
        assert worker.terminate() == 0
    finally:
        worker.ensure_stopped()
        await proxy.stop()


async def test_two_workers_of_one_sport_share_its_partitions(
    stack: Stack, tmp_path: Path, db: Db, cache: LiveCache,
) -> None:
    kafka, mysql, redis = stack
    workers = [
        WorkerProcess(Sport.FOOTBALL, kafka, mysql, redis, tmp_path / f"w{i}.log",
                      group=f"{kafka.topic_prefix}-shared", extra_env=SMALL_BATCHES)
        for i in range(2)
    ]
    try:
        for w in workers:
            w.start()
        for w in workers:
            await w.wait_ready(partitions=False)

        async def split() -> bool:
            owned = [json.loads((await w.get("/readyz"))[1])["partitions"] for w in workers]
            return all(owned) and sorted(owned[0] + owned[1]) == [0, 1]

        await wait_until(split, 60, what="one partition each")
        messages = feed(events=30, count=1500, seed=17)
        await produce(kafka, messages)
        await wait_until(lambda: _more_than(db, len(messages) - 1), 120, what="all applied")
        await assert_exactly_once(db, messages)
        await assert_redis_matches_mysql(db, cache)
        for w in workers:
            text = (await w.get("/metrics"))[1]
            applied = r'sportsfeed_processor_messages_total{disposition="applied",sport="football"}'
            assert metric(text, re.escape(applied)) > 0
        for w in workers:
            assert w.terminate() == 0
    finally:
        for w in workers:
            w.ensure_stopped()


async def test_rebalances_mid_stream_lose_nothing_and_apply_nothing_twice(
    stack: Stack, tmp_path: Path, db: Db, cache: LiveCache,
) -> None:
    """A second worker joins while the first is applying (its partitions are revoked
    mid-stream), then the first leaves by SIGTERM (a second rebalance), while messages
    keep coming: every message is applied exactly once, and Redis ends as MySQL."""
    kafka, mysql, redis = stack
    group = f"{kafka.topic_prefix}-shared"
    stream = feed(events=40, count=40_000, seed=23)
    first = WorkerProcess(Sport.FOOTBALL, kafka, mysql, redis, tmp_path / "first.log",
                          group=group, extra_env=SMALL_BATCHES).start()
    second = WorkerProcess(Sport.FOOTBALL, kafka, mysql, redis, tmp_path / "second.log",
                           group=group, extra_env=SMALL_BATCHES)
    enough = asyncio.Event()
    sent = 0

    async def trickle() -> None:
        # The stream goes on through both rebalances, however long the workers take to
        # start and rebalance on this machine: it ends when told, not after a fixed count.
        nonlocal sent
        while not enough.is_set() and sent < len(stream):
            await produce(kafka, stream[sent : sent + 250])
            sent = min(sent + 250, len(stream))
            await asyncio.sleep(0.25)

    producing = asyncio.create_task(trickle())
    try:
        await first.wait_ready()
        await wait_until(lambda: _more_than(db, 500), 60, every=0.05, what="some applied")
        second.start()
        await second.wait_ready(partitions=False)

        async def split() -> bool:
            owned = [json.loads((await w.get("/readyz"))[1])["partitions"] for w in (first, second)]
            return all(owned)

        await wait_until(split, 60, what="the second worker owning a partition")
        assert not producing.done(), "the stream ended before the rebalance"
        assert await asyncio.to_thread(first.terminate, 60) == 0
        assert not producing.done(), "the stream ended before the first worker left"
        enough.set()
        await producing
        messages = stream[:sent]
        await wait_until(lambda: _more_than(db, len(messages) - 1), 120, what="all applied")
        await assert_exactly_once(db, messages)
        await assert_redis_matches_mysql(db, cache)
        assert second.terminate() == 0
    finally:
        producing.cancel()
        first.ensure_stopped()
        second.ensure_stopped()
