"""Kafka, MariaDB and Redis stopped and restarted under a live generator run.

The dependency is stopped with ``infra/local/stack.sh stop <name>`` on the private
stack (``tests/e2e/support.py``; the shared local stack is never touched) once the
ledger shows the run is mid-stream, kept away for several seconds, and started again.
Each test ends with the generator's audit and direct checks in MySQL; the Redis test
also compares Redis with MySQL and with what the rebuild command produces; the Kafka and
Redis tests check that a WebSocket client ends holding every event at MySQL's version.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.cache import open_cache
from shared.enums import FINAL_EVENT_STATUSES, Sport
from shared.settings import RedisSettings
from tests.support.platform import (
    REPO,
    Load,
    Platform,
    PrivateStack,
    Scope,
    shared_private_stack,
)
from tests.support.platform_checks import (
    WsFollower,
    assert_accounted,
    assert_applied_once,
    finish_and_audit,
    mid_stream,
    mysql_versions,
    probe_partitions,
    summary,
    wait_until,
)
from tests.support.processors import database

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

OUTAGE_S = 8.0  # longer than a few generator retries, well within its 12


@pytest.fixture(scope="session")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    """The session's private Kafka, MariaDB and Redis (never the shared local stack)."""
    with shared_private_stack(tmp_path_factory.getbasetemp() / "private-stack-logs") as stack:
        yield stack


@pytest.fixture
async def platform(private_stack: PrivateStack, tmp_path: Path) -> AsyncIterator[Platform]:
    """Fresh topics, database and Redis prefix; every process killed, every dependency
    running again at teardown (a failed test must not leave the next one without one)."""
    scope = await private_stack.fresh(partitions=4).create()
    platform = Platform(scope, tmp_path)
    try:
        yield platform
    finally:
        platform.close()
        for name in ("kafka", "mariadb", "redis"):
            await private_stack.service("start", name)


async def outage(stack: PrivateStack, name: str,
                 during: Awaitable[None] | None = None) -> dict[str, float]:
    """Stop ``name``, run ``during`` (a coroutine) while it is away, start it again."""
    began = time.monotonic()
    timings = {"stop_s": await stack.service("stop", name)}
    if during is not None:
        await during
    await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)))
    timings["start_s"] = await stack.service("start", name)
    timings["outage_s"] = time.monotonic() - began
    return {k: round(v, 1) for k, v in timings.items()}


async def test_kafka_restart_ingestion_answers_503_generator_retries_nothing_accepted_lost(
    platform: Platform, private_stack: PrivateStack,
) -> None:
    began = time.monotonic()
    sports = [Sport.FOOTBALL, Sport.TENNIS]
    ingestion = platform.ingestion()
    for sport in sports:
        platform.processor(sport)
    distribution = platform.distribution()
    await platform.wait_ready()
    # Deltas cross the broker too (processors publish, distribution consumes): a
    # trading UI must end the run holding every event at MySQL's version.
    follower = WsFollower(f"ws://127.0.0.1:{distribution.ws_port}/", sports).start()
    try:
        generator = platform.generator(Load(sports="football,tennis", seed=21), "kafka")
        await mid_stream(platform.scope.mysql, generator)

        async def ingestion_refuses() -> bool:
            status, _ = await ingestion.get("/readyz")
            return status == 503

        timings = await outage(private_stack, "kafka",
                               wait_until(ingestion_refuses, OUTAGE_S, "ingestion /readyz 503"))
        assert generator.running(), "the outage must hit while the generator still sends"
        await ingestion.wait_ready(60)
        # Every partition of both topics takes messages again soon after the restart:
        # fail here, with ingestion's own answers, rather than wait out the generator.
        failures: list[str] = []

        async def every_partition_accepts() -> bool:
            failures[:] = await probe_partitions(platform, ingestion, sports)
            return not failures

        with contextlib.suppress(TimeoutError):
            await wait_until(every_partition_accepts, 30, "ingestion accepting on every partition", 2)
        if failures:
            pytest.fail(f"30 s after the broker restart ingestion still refuses: {failures}")

        outcome = await finish_and_audit(platform, generator, "kafka")
        # POSTs during the outage were answered 503 and sent again.
        assert outcome.http.get("503", 0) > 0, outcome.http
        assert outcome.meta["summary"]["retries"] > 0, outcome.meta["summary"]
        assert_accounted(outcome, allow_extra_deliveries=True)
        await assert_applied_once(platform.scope, outcome.records)
        expected = await mysql_versions(platform.scope)

        async def in_step() -> bool:
            return follower.versions == expected

        await wait_until(in_step, 30, "the WebSocket client at MySQL's versions")
    finally:
        await follower.stop()
    print(summary("kafka", began, outcome, extra_deliveries=outcome.extra_deliveries,
                  ws=follower.counts, **timings))


async def test_mariadb_restart_processors_wait_and_catch_up_nothing_lost(
    platform: Platform, private_stack: PrivateStack,
) -> None:
    began = time.monotonic()
    platform.ingestion()
    football = platform.processor(Sport.FOOTBALL)
    platform.processor(Sport.ICE_HOCKEY)
    await platform.wait_ready()
    generator = platform.generator(Load(sports="football,ice_hockey", seed=31), "mariadb")
    await mid_stream(platform.scope.mysql, generator)

    async def worker_sees_mysql_down() -> bool:
        status, body = await football.get("/readyz")
        return status == 503 and body["mysql"] != "ok"

    timings = await outage(private_stack, "mariadb",
                           wait_until(worker_sees_mysql_down, OUTAGE_S, "worker /readyz mysql down"))
    assert generator.running(), "the outage must hit while the generator still sends"

    outcome = await finish_and_audit(platform, generator, "mariadb")
    assert_accounted(outcome)
    await assert_applied_once(platform.scope, outcome.records)
    print(summary("mariadb", began, outcome, **timings))


async def redis_snapshots(redis: RedisSettings, sports: list[Sport]) -> dict[str, dict[str, Any]]:
    """Every snapshot of the sports in Redis, as JSON, without ``updated_at`` (a write time)."""
    found: dict[str, dict[str, Any]] = {}
    async with open_cache(redis) as cache:
        for sport in sports:
            ids = await cache.event_ids(sport)
            for event_id, snap in zip(ids, await cache.read_many(ids), strict=True):
                assert snap is not None, f"{event_id} indexed without a snapshot"
                found[event_id] = snap.model_dump(mode="json", exclude={"updated_at"})
    return found


async def rebuild(scope: Scope, prefix: str) -> str:
    """``python -m services.processors.rebuild`` into the Redis prefix ``prefix``."""
    env = {**scope.env(), "SPORTSFEED_REDIS_KEY_PREFIX": prefix}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.processors.rebuild", env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    async with asyncio.timeout(60):
        out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_redis_restart_snapshots_rebuilt_and_websocket_client_resynchronised(
    platform: Platform, private_stack: PrivateStack,
) -> None:
    began = time.monotonic()
    sports = [Sport.FOOTBALL, Sport.BASKETBALL]
    scope = platform.scope
    platform.ingestion()
    for sport in sports:
        platform.processor(sport)
    distribution = platform.distribution()
    await platform.wait_ready()
    url = f"ws://127.0.0.1:{distribution.ws_port}/"
    follower = WsFollower(url, sports).start()
    late: WsFollower | None = None
    try:
        async with asyncio.timeout(20):
            await follower.subscribed.wait()
        generator = platform.generator(Load(sports="football,basketball", seed=41), "redis")
        await mid_stream(scope.mysql, generator)
        # Redis keeps nothing on disk here: it comes back empty, and the rebuild
        # command (the documented recovery) refills it from MySQL.
        timings = await outage(private_stack, "redis")
        # How much came back by itself (only events the workers touched since): shown,
        # not asserted, since the workers race this read.
        timings["events_before_rebuild"] = len(await redis_snapshots(scope.redis, sports))
        rebuilt = await rebuild(scope, scope.redis.key_prefix)
        assert generator.running(), "the outage must hit while the generator still sends"
        late = WsFollower(url, sports).start()  # a client arriving after the outage

        outcome = await finish_and_audit(platform, generator, "redis")
        assert_accounted(outcome)
        await assert_applied_once(scope, outcome.records)

        mysql = {s: await mysql_versions(scope, s) for s in sports}
        expected = {e: v for versions in mysql.values() for e, v in versions.items()}
        assert len(expected) >= 8, expected

        async def redis_matches_mysql() -> bool:
            snaps = await redis_snapshots(scope.redis, sports)
            return {e: s["version"] for e, s in snaps.items()} == expected

        await wait_until(redis_matches_mysql, 30, "Redis versions equal to MySQL's")

        # What the rebuild command makes of MySQL now, in a prefix of its own, is what
        # the live prefix holds: same events, same versions, same markets and scores.
        reference = f"{scope.redis.key_prefix}-rebuilt"
        output = await rebuild(scope, reference)
        for sport in sports:
            assert f"rebuilt {sport.value}: {len(mysql[sport])} events" in output, output
        live = await redis_snapshots(scope.redis, sports)
        again = await redis_snapshots(RedisSettings(url=scope.redis.url, key_prefix=reference),
                                      sports)
        assert live == again

        # The early client followed every event from its first update; the late one
        # is not sent events already closed when it subscribed (docs/websocket.md).
        closed = await final_events(scope)
        for name, client, must_hold in (("early", follower, set(expected)),
                                        ("late", late, set(expected) - closed)):
            async def in_step(client: WsFollower = client, must_hold: set[str] = must_hold) -> bool:
                held = client.versions
                return must_hold <= held.keys() and all(expected.get(e) == v for e, v in held.items())

            try:
                await wait_until(in_step, 30, "the WebSocket client at MySQL's versions")
            except TimeoutError:
                held = client.versions
                wrong = {e: (v, expected.get(e)) for e, v in held.items() if expected.get(e) != v}
                raise AssertionError(
                    f"the {name} client is not at MySQL's versions after 30 s: missing "
                    f"{sorted(must_hold - held.keys())}, held/MySQL {wrong}, closed {sorted(closed)},"
                    f" counts {client.counts}, closes {client.client.stats.closes}") from None
    finally:
        await follower.stop()
        if late is not None:
            await late.stop()
    assert late is not None
    print(summary("redis", began, outcome, ws=follower.counts, ws_late=late.counts,
                  rebuild=rebuilt.strip().replace("\n", "; "), **timings))


async def final_events(scope: Scope) -> set[str]:
    """Events closed, cancelled or abandoned in MySQL."""
    statuses = tuple(s.value for s in FINAL_EVENT_STATUSES)
    async with database(scope.mysql) as db:
        rows = await db.rows("SELECT id FROM events WHERE status IN (%s, %s, %s)", statuses)
    return {str(r[0]) for r in rows}
