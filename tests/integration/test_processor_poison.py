"""A database configured differently, a poison message, a worker that cannot progress.

The worker runs against a MariaDB of its own whose server ``sql_mode`` holds
``NO_BACKSLASH_ESCAPES`` and whose isolation level is ``READ COMMITTED`` (settings DBAs
use), with the shared Kafka and Redis:

- every connection pins its ``sql_mode`` and ``REPEATABLE READ``;

- text with backslashes and quotes still round-trips exactly (every connection pins its
  ``sql_mode``, so the batch SQL's escaping means what it says);
- a message the database refuses for its own data (here a trigger's ``SIGNAL``) is
  rejected with the database's reason and the partition goes on;
- a failure no message explains (a table gone) stalls the worker: ``/readyz`` and
  ``/metrics`` say so, and once the table is back the batch commits, nothing lost.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.storage.pool import SQL_MODE
from tests.support.processors import (
    Db,
    WorkerProcess,
    database,
    private_mariadb,
    produce,
    wait_until,
)
from tests.support.samples import Messages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TRICKY = "O'Brien \\ \"Rovers\" \\' XI"


@pytest.fixture
async def dba_mysql(tmp_path: Path) -> AsyncIterator[MySQLSettings]:
    async with private_mariadb(
        tmp_path / "mariadb",
        "sql_mode=NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"
        " transaction-isolation=READ-COMMITTED",
    ) as settings:
        yield settings


async def ledger(db: Db, message_id: str) -> tuple[str, str | None] | None:
    rows = await db.rows("SELECT disposition, reason FROM ledger WHERE message_id = %s",
                         (message_id,))
    return (rows[0][0], rows[0][1]) if rows else None


async def test_no_backslash_escapes_poison_message_and_a_stalled_worker(
    kafka_settings: KafkaSettings, dba_mysql: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    async with database(dba_mysql) as db:
        assert "NO_BACKSLASH_ESCAPES" in await db.scalar("SELECT @@GLOBAL.sql_mode")
        assert await db.scalar("SELECT @@GLOBAL.tx_isolation") == "READ-COMMITTED"
        # Every pool connection pins what the code relies on, whatever the server's default.
        assert await db.scalar("SELECT @@SESSION.sql_mode") == SQL_MODE
        assert await db.scalar("SELECT @@SESSION.tx_isolation") == "REPEATABLE-READ"
        await db.rows(
            "CREATE TRIGGER poison BEFORE INSERT ON competitors FOR EACH ROW"
            " IF NEW.name LIKE '%poison%' THEN"
            " SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poison name refused'; END IF")
        worker = WorkerProcess(Sport.FOOTBALL, kafka_settings, dba_mysql, redis_settings,
                               tmp_path / "football.log",
                               extra_env={"SPORTSFEED_PROCESSOR_RETRY_MAX_S": "0.5"}).start()
        try:
            await worker.wait_ready()
            m = Messages(Sport.FOOTBALL)
            tricky = m.fixture("e1", body={"home": {"id": "e1-h", "name": TRICKY}})
            poison = m.fixture("e2", body={"home": {"id": "e2-h", "name": "a poison name"}})
            after = [m.odds("e1"), m.fixture("e3")]
            await produce(kafka_settings, [tricky, poison, *after])

            async def all_decided() -> bool:
                return all([await ledger(db, x.message_id) for x in (tricky, poison, *after)])

            await wait_until(all_decided, 60, what="every message's disposition")
            assert await ledger(db, tricky.message_id) == ("applied", None)
            assert await db.scalar("SELECT name FROM competitors WHERE id = 'e1-h'") == TRICKY
            disposition, reason = await ledger(db, poison.message_id) or ("", "")
            assert disposition == "rejected"
            assert "poison name refused" in (reason or "")
            assert all([await ledger(db, x.message_id) == ("applied", None) for x in after])
            assert await db.scalar("SELECT COUNT(*) FROM events WHERE id = 'e2'") == 0

            # A table gone: no message explains it. The worker stalls and says so.
            await db.rows("RENAME TABLE odds_history TO odds_history_away")
            stuck = m.odds("e3")
            await produce(kafka_settings, [stuck])

            async def reports_stall() -> bool:
                status, body = await worker.get("/readyz")
                return status == 503 and "stalled for" in body and "1146" in body

            await wait_until(reports_stall, 30, what="/readyz reporting the stall")
            _, metrics = await worker.get("/metrics")
            [stalled] = re.findall(
                r'^sportsfeed_processor_stalled_seconds\{sport="football"\} (\S+)$', metrics, re.M)
            assert float(stalled) > 0
            assert await ledger(db, stuck.message_id) is None  # waiting, not rejected

            await db.rows("RENAME TABLE odds_history_away TO odds_history")

            async def recovered() -> bool:
                status, _ = await worker.get("/readyz")
                return status == 200 and await ledger(db, stuck.message_id) == ("applied", None)

            await wait_until(recovered, 30, what="the stalled batch committing")
        finally:
            worker.ensure_stopped()


@pytest.fixture
async def small_packet_mysql(tmp_path: Path) -> AsyncIterator[MySQLSettings]:
    # 1 MiB: the default of older servers, and what a DBA may still set.
    async with private_mariadb(tmp_path / "mariadb", "max_allowed_packet=1M") as settings:
        yield settings


async def test_batches_bigger_than_the_servers_max_allowed_packet_are_applied_whole(
    kafka_settings: KafkaSettings, small_packet_mysql: MySQLSettings,
    redis_settings: RedisSettings, tmp_path: Path,
) -> None:
    m = Messages(Sport.FOOTBALL)
    # Long names, two to four bytes a character in UTF-8: the batch's SQL is several MiB.
    names = ("Ωmega Ünïted ĐŽ 東京 " * 10)[:190]
    fixtures = [m.fixture(f"p{n}", body={"home": {"id": f"p{n}-h", "name": f"{names} {n}"},
                                        "away": {"id": f"p{n}-a", "name": f"{n} {names}"}})
                for n in range(3000)]
    # Sent before the worker starts: its first batches are as large as batch_max allows.
    await produce(kafka_settings, fixtures)
    worker = WorkerProcess(Sport.FOOTBALL, kafka_settings, small_packet_mysql, redis_settings,
                           tmp_path / "football.log",
                           extra_env={"SPORTSFEED_PROCESSOR_RETRY_MAX_S": "0.5"}).start()
    try:
        await worker.wait_ready(behind_ok=True)
        async with database(small_packet_mysql) as db:
            async def all_decided() -> bool:
                return int(await db.scalar("SELECT COUNT(*) FROM ledger")) >= len(fixtures)

            await wait_until(all_decided, 180, what="every message's disposition")
            rows = await db.rows("SELECT disposition, COUNT(*) FROM ledger GROUP BY disposition")
            assert dict(rows) == {"applied": len(fixtures)}
            assert await db.scalar("SELECT name FROM competitors WHERE id = 'p2999-h'") \
                == f"{names} 2999"
        # Never a packet the server refuses (it drops the connection; the old way cut
        # the batch in halves until they fitted).
        server_log = (tmp_path / "mariadb" / "logs" / "mariadb.log").read_text()
        assert "max_allowed_packet" not in server_log
        _, metrics = await worker.get("/metrics")
        assert re.search(r'^sportsfeed_processor_storage_rejections_total\{sport="football"\} 0\.0$',
                         metrics, re.M), "no message may be rejected for the batch's size"
    finally:
        worker.ensure_stopped()
