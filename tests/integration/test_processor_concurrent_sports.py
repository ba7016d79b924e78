"""Workers of different sports writing new events at the same time, on the real MariaDB.

Each sport's worker locks its batch's events (``SELECT ... FOR UPDATE``) before it decides
them. For events that do not exist yet, REPEATABLE READ (the server's default) makes that
a gap lock on the primary key; another sport's worker holding the same gap for its own
new ids, the two inserts then wait on each other and MariaDB kills one (error 1213): in
``bench_e2e`` every worker hit a deadlock or two in the fixtures' phase, each batch
retried after 0.2 s (readiness reporting the worker stalled meanwhile). Batch transactions run at
READ COMMITTED (no gap locks), so sports never block each other; a worker of the same
sport still waits on the event's row or its ledger row, as before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pymysql
import pytest

from services.processors.domain.incoming import decode_record
from services.processors.domain.sport_rules import stateful_rules
from services.processors.storage.store import Store
from shared.codec import encode_message
from shared.enums import Disposition, Sport
from shared.settings import MySQLSettings
from shared.storage.pool import Pool, create_pool
from tests.support.samples import Messages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SPORTS = (Sport.FOOTBALL, Sport.TENNIS, Sport.BASKETBALL)


@pytest.fixture
async def pools(mysql_settings: MySQLSettings) -> AsyncIterator[list[Pool]]:
    async with create_pool(mysql_settings) as a, create_pool(mysql_settings) as b, \
            create_pool(mysql_settings) as c:
        yield [a, b, c]


async def test_workers_of_different_sports_inserting_new_events_never_deadlock(
    pools: list[Pool],
) -> None:
    stores = [Store(pool, stateful_rules(sport)) for pool, sport in zip(pools, SPORTS, strict=True)]
    sources = [Messages(sport, prefix=f"m{sport.value}") for sport in SPORTS]
    offsets = [0] * len(SPORTS)
    deadlocks: list[str] = []
    per_batch, rounds = 12, 25

    async def batch(n: int, round_: int) -> None:
        # Ids of the sports interleave in the primary key: e.g. r03-ev007 (football),
        # r03-ev008 (tennis), ...: every sport's new ids fall in the others' gaps.
        items = []
        for i in range(per_batch):
            event_id = f"r{round_:02d}-ev{i * len(SPORTS) + n:03d}"
            items.append(decode_record(encode_message(sources[n].fixture(event_id)), 0,
                                       offsets[n], time.time()))
            offsets[n] += 1
        try:
            plan = await stores[n].apply(items, datetime.now(UTC))
        except pymysql.err.OperationalError as exc:
            if exc.args[0] in (1213, 1205):  # deadlock, lock wait timeout
                deadlocks.append(f"{SPORTS[n].value} round {round_}: {exc.args[1]}")
                return
            raise
        assert plan.counts[Disposition.APPLIED] == per_batch

    for round_ in range(rounds):
        await asyncio.gather(*(batch(n, round_) for n in range(len(SPORTS))))
    assert deadlocks == []
    async with pools[0].acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT sport, COUNT(*) FROM events GROUP BY sport")
        counts = dict(await cur.fetchall())
    assert counts == {s.value: per_batch * rounds for s in SPORTS}
