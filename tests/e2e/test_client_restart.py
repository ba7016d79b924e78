"""The Python client follows a live feed across a restart of distribution without a gap.

The real path on fresh topics, database and Redis prefix of the local stack: the feed
generator posts football matches to ingestion, a processor applies them to MySQL and
Redis and publishes deltas, distribution serves them; ``sportsfeed_client`` follows the
sport. Mid-stream distribution is killed (SIGKILL: no goodbye to its clients) and
started again on the same ports; the client reconnects and resumes. When the feed has
been applied, every event the client holds is at MySQL's version and equal to Redis's
snapshot, and it holds every event that is still going on.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.cache import open_cache
from shared.enums import FINAL_EVENT_STATUSES, Sport
from tests.support.client import following
from tests.support.platform import Load, Platform, Scope
from tests.support.platform_checks import ledger_count, mysql_versions, wait_until
from tests.support.processors import database

pytestmark = pytest.mark.e2e


async def ongoing(scope: Scope) -> set[str]:
    """Events MySQL has that have not ended (a sport subscription must hold them)."""
    final = [s.value for s in FINAL_EVENT_STATUSES]
    async with database(scope.mysql) as db:
        marks = ", ".join(["%s"] * len(final))
        rows = await db.rows(f"SELECT id FROM events WHERE status NOT IN ({marks})", final)
    return {str(r[0]) for r in rows}


async def test_client_follows_a_live_feed_across_a_distribution_restart_without_a_gap(
    local_platform: Platform,
) -> None:
    platform = local_platform
    began = time.monotonic()
    platform.ingestion()
    platform.processor(Sport.FOOTBALL)
    distribution = platform.distribution()
    await platform.wait_ready()
    url = f"ws://127.0.0.1:{distribution.ws_port}/"
    async with following(url, sports=[Sport.FOOTBALL]) as run:
        await run.until(lambda c: c.subscribed.is_set(), what="the subscription")
        generator = platform.generator(
            Load(matches=8, rate=120, duration=30, sports="football", faults=""), "restart")
        await run.until(lambda c: c.stats.deltas >= 150, within=60, what="150 deltas applied")
        distribution.kill()
        await asyncio.sleep(2)  # deltas published while nobody serves them
        distribution.start()
        await distribution.wait_ready(60)
        await run.until(lambda c: c.stats.connects >= 2 and c.subscribed.is_set(), within=30,
                        what="a reconnect and a new subscription")
        assert await generator.wait_exit(120) == 0, generator.tail()

        rows = 0

        async def ledger_settled() -> bool:
            nonlocal rows
            now = await ledger_count(platform.scope.mysql)
            settled, rows = now == rows and now > 0, now
            return settled

        await wait_until(ledger_settled, 60, "the ledger to stop growing", 2)
        expected = await mysql_versions(platform.scope)
        must_hold = await ongoing(platform.scope)
        await run.until(
            lambda c: must_hold <= c.versions.keys()
            and all(expected.get(e) == v for e, v in c.versions.items()),
            within=30, what="every event at MySQL's version")

        async with open_cache(platform.scope.redis) as cache:
            held = run.client.book.states
            in_redis = await cache.read_many(list(held))
        for event_id, snapshot in zip(held, in_redis, strict=True):
            assert snapshot is not None, event_id
            state = held[event_id]
            assert (state.version, state.status, state.live, state.markets) == (
                snapshot.version, snapshot.status, snapshot.live, snapshot.markets), event_id
        stats = run.client.stats
        assert stats.connects >= 2, stats
        print(f"client across a distribution restart: {len(held)} events, {len(expected)} in "
              f"MySQL, {stats} in {time.monotonic() - began:.0f} s")
