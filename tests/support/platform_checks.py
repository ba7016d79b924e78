"""What the fault tests check: the run's end, the audit, MySQL, Redis, a WebSocket client.

Companion of ``tests/e2e/support.py`` (which starts the stack and the processes): here
are the waits (mid-stream, partitions), the generator's audit (in-process and through
``python -m feedgen audit``), the direct MySQL checks that nothing was applied twice,
and :class:`WsFollower`, a trading UI following whole sports over WebSocket.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from feedgen.audit import AuditReport, format_report
from feedgen.ledger import audit_run
from feedgen.record import SendRecord, read_meta, read_records
from shared.enums import Sport
from shared.settings import MySQLSettings
from sportsfeed_client import FeedClient
from tests.support.client import Following
from tests.support.consumer_keys import TEST_KEY
from tests.support.platform import PROVIDER, REPO, Platform, Proc, Scope
from tests.support.processors import database

# --- waiting and checking ----------------------------------------------------------------------


async def wait_until(check: Callable[[], Awaitable[bool]], within: float, what: str,
                     every: float = 0.5) -> None:
    """Poll ``check`` until true; TimeoutError naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(every)
    raise TimeoutError(f"{what}: not reached in {within} s")


async def ledger_count(mysql: MySQLSettings) -> int:
    """Rows in the ledger now."""
    async with database(mysql) as db:
        return int(await db.scalar("SELECT COUNT(*) FROM ledger"))


async def mid_stream(mysql: MySQLSettings, generator: Proc, rows: int = 1500,
                     within: float = 60.0) -> int:
    """Wait until the ledger holds ``rows`` rows while the generator still runs."""
    count = 0

    async def enough() -> bool:
        nonlocal count
        if not generator.running():
            raise RuntimeError(f"the generator ended before mid-stream:\n{generator.tail()}")
        count = await ledger_count(mysql)
        return count >= rows

    await wait_until(enough, within, f"{rows} ledger rows")
    return count


async def probe_partitions(platform: Platform, ingestion: Proc, sports: list[Sport]) -> list[str]:
    """POST one message per partition of each sport's feed topic as the probe provider.

    Returns what was not accepted (empty: ingestion can write to every partition). The
    messages are bet stops of events that do not exist: the processors reject them
    (ledger rows of provider ``probe``), so they change nothing the run is audited on.
    """
    from aiokafka.partitioner import murmur2

    partitions = platform.scope.kafka.partitions
    headers = {"Authorization": f"Bearer {platform.probe_key}"}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    failures: list[str] = []
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for sport in sports:
            covered: set[int] = set()
            n = 0
            while len(covered) < partitions:
                n += 1
                event_id = f"probe-{n}"
                partition = (murmur2(event_id.encode()) & 0x7FFFFFFF) % partitions
                if partition in covered:
                    continue
                covered.add(partition)
                doc: dict[str, Any] = {"message_id": f"probe-{uuid.uuid4().hex}", "sport": sport.value,
                       "event_id": event_id, "kind": "bet_stop", "provider_ts": now, "body": {}}
                try:
                    async with http.post(f"http://127.0.0.1:{ingestion.port}/v1/feed/json",
                                         json=doc, headers=headers) as response:
                        if response.status != 202:
                            failures.append(f"{sport.value}[{partition}]: {response.status} "
                                            f"{(await response.text())[:160]}")
                except (aiohttp.ClientError, TimeoutError) as exc:
                    failures.append(f"{sport.value}[{partition}]: {exc!r}")
    return failures


@dataclass
class Outcome:
    """What a run ended with: the audit and the checks made directly in MySQL."""

    report: AuditReport
    records: list[SendRecord]
    meta: dict[str, Any]
    cli_output: str
    extra_deliveries: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def http(self) -> dict[str, int]:
        """Answers the generator got, by HTTP status."""
        return {str(k): int(v) for k, v in self.meta.get("summary", {}).get("http_status", {}).items()}


async def finish_and_audit(platform: Platform, generator: Proc, run_id: str, *,
                           run_within: float = 150.0, audit_wait: float = 120.0) -> Outcome:
    """Wait for the run, then the audit (in-process and ``python -m feedgen audit``)."""
    code = await generator.wait_exit(run_within)
    assert code == 0, f"feedgen run exited {code}:\n{generator.tail()}"
    run_dir = platform.workdir / "feedgen" / run_id
    records = list(read_records(run_dir))
    report = await audit_run(records, platform.scope.mysql, wait=audit_wait)
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedgen", "audit", "--run", run_id, "--wait", "30",
        "--data-dir", str(platform.workdir / "feedgen"), env=platform.scope.env(), cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    async with asyncio.timeout(90):
        output, _ = await cli.communicate()
    text = output.decode(errors="replace")
    assert cli.returncode == 0, text
    assert "audit: OK" in text, text
    outcome = Outcome(report, records, read_meta(run_dir), text)
    print(format_report(report))  # shown with -s: the numbers behind the assertions
    return outcome


def assert_accounted(outcome: Outcome, *, allow_extra_deliveries: bool = False) -> None:
    """Nothing lost, nothing unexpected, every send answered, the ledger identities hold."""
    c, text = outcome.report.counts, format_report(outcome.report)
    assert outcome.report.ok, text
    assert c["lost"] == 0, text
    assert c["unexpected"] == 0, text
    assert c["unacknowledged"] == 0, text
    assert c["sent"] == c["accepted"] + c["refused"], text
    assert c["applied"] > 500, text
    assert c["duplicate"] > 0, text  # the dup fault was exercised
    assert c["refused"] == sum(1 for r in outcome.records if r.expect == "refused"), text
    assert c["refused"] > 0, text  # and the malformed one
    # A request that timed out may still have reached Kafka (at-least-once): its retry
    # is then a second delivery, which the ledger counts as a duplicate, never applies.
    outcome.extra_deliveries = c["ledger_rows"] + c["duplicate"] - c["accepted"]
    assert outcome.extra_deliveries >= 0, text
    if not allow_extra_deliveries:
        assert outcome.extra_deliveries == 0, text


async def assert_applied_once(scope: Scope, records: list[SendRecord]) -> None:
    """In MySQL: one ledger row per distinct accepted id, no odds history row written twice."""
    accepted = {r.message_id for r in records if r.outcome == "accepted"}
    async with database(scope.mysql) as db:
        rows = await db.rows("SELECT message_id FROM ledger WHERE provider = %s", (PROVIDER,))
        # With the event id: one provider-silence sweep (``silence:<provider>:<time>``)
        # suspends the markets of many events under one message id.
        doubled = await db.rows(
            "SELECT event_id, message_id, market_key, outcome_id, COUNT(*) FROM odds_history "
            "GROUP BY event_id, message_id, market_key, outcome_id HAVING COUNT(*) > 1 LIMIT 10")
    ids = [str(r[0]) for r in rows]
    assert len(ids) == len(set(ids)) == len(accepted), (len(ids), len(set(ids)), len(accepted))
    assert set(ids) == accepted, sorted(set(ids) ^ accepted)[:10]
    assert doubled == [], doubled


async def mysql_versions(scope: Scope, sport: Sport | None = None) -> dict[str, int]:
    """Every event's version in MySQL (of one sport, or all)."""
    sql, args = "SELECT id, version FROM events", list[str]()
    if sport is not None:
        sql, args = sql + " WHERE sport = %s", [sport.value]
    async with database(scope.mysql) as db:
        return {str(e): int(v) for e, v in await db.rows(sql, args)}


def summary(name: str, began: float, outcome: Outcome, **extra: Any) -> str:
    """One line per test for the log: how long it took and what the audit counted."""
    c = outcome.report.counts
    figures = {"s": round(time.monotonic() - began, 1), "sent": c["sent"],
               "accepted": c["accepted"], "applied": c["applied"], "duplicate": c["duplicate"],
               "stale": c["stale"], "refused": c["refused"], "http": outcome.http, **extra}
    return f"{name}: {json.dumps(figures)}"


# --- a trading UI over WebSocket -----------------------------------------------------------------


class WsFollower:
    """A trading UI following whole sports with the Python client (``sportsfeed_client``):
    snapshots, deltas by version, resync on a gap, reconnect and resume."""

    def __init__(self, url: str, sports: list[Sport]) -> None:
        self.url = url
        self.client = FeedClient(url, token=TEST_KEY, reconnect_initial_s=0.2, reconnect_max_s=2.0)
        self._run = Following(self.client, sports=sports)

    @property
    def versions(self) -> dict[str, int]:
        """The version held of each event."""
        return self.client.versions

    @property
    def subscribed(self) -> asyncio.Event:
        """Set once the current connection's subscription is acknowledged."""
        return self.client.subscribed

    @property
    def counts(self) -> dict[str, int]:
        """Snapshots, deltas, gaps and connections so far."""
        st = self.client.stats
        return {"snapshots": st.snapshots, "deltas": st.deltas, "gaps": st.gaps,
                "connects": st.connects}

    def start(self) -> WsFollower:
        """Connect and follow in the background."""
        self._run.start()
        return self

    async def stop(self) -> None:
        """Disconnect."""
        await self._run.stop()
