"""Reading the platform's ledger for a run's message ids, until it has caught up.

``ledger`` holds the first delivery of each message id; ``ledger_duplicates`` one row
per later delivery (schema: ``infra/mysql/migrations/0004_ledger.sql``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence

from feedgen.audit import AuditReport, LedgerEntry, expected_ids, reconcile
from feedgen.record import SendRecord
from shared.settings import MySQLSettings
from shared.storage.pool import Pool, create_pool

CHUNK = 1000


async def _ledger(pool: Pool, ids: Sequence[str]) -> dict[str, LedgerEntry]:
    found: dict[str, LedgerEntry] = {}
    async with pool.acquire() as conn, conn.cursor() as cur:
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start:start + CHUNK])
            marks = ",".join(["%s"] * len(chunk))
            await cur.execute(
                f"SELECT message_id, disposition, reason FROM ledger WHERE message_id IN ({marks})",
                chunk,
            )
            for message_id, disposition, reason in await cur.fetchall():
                found[message_id] = LedgerEntry(disposition, reason)
        await conn.commit()  # end the read snapshot: the next poll must see new rows
    return found


async def _duplicates(pool: Pool, ids: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with pool.acquire() as conn, conn.cursor() as cur:
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start:start + CHUNK])
            marks = ",".join(["%s"] * len(chunk))
            await cur.execute(
                "SELECT message_id, COUNT(*) FROM ledger_duplicates "
                f"WHERE message_id IN ({marks}) GROUP BY message_id",
                chunk,
            )
            for message_id, n in await cur.fetchall():
                counts[message_id] = int(n)
        await conn.commit()
    return counts


async def audit_run(
    records: Sequence[SendRecord], settings: MySQLSettings, *, wait: float = 30.0,
    poll: float = 1.0,
) -> AuditReport:
    """Reconcile ``records`` with the ledger, polling until it caught up or ``wait`` ran out."""
    ids = expected_ids(records)
    accepted = Counter(r.message_id for r in records if r.outcome == "accepted")
    # While polling only ids accepted more than once need their duplicate rows counted.
    resent = [m for m in ids if accepted[m] > 1]
    ledger: dict[str, LedgerEntry] = {}
    deadline = time.monotonic() + wait
    async with create_pool(settings) as pool:
        while True:
            ledger.update(await _ledger(pool, [m for m in ids if m not in ledger]))
            duplicates = await _duplicates(pool, resent) if resent else {}
            report = reconcile(records, ledger, duplicates)
            if report.caught_up or time.monotonic() >= deadline:
                # One full count for the report: extra deliveries of any id show up too.
                return reconcile(records, ledger, await _duplicates(pool, ids))
            await asyncio.sleep(poll)
