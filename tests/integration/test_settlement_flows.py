"""UOF settlement flows end to end: UOF XML posted to ingestion, a football worker,
MySQL, REST ``/v1/settlements`` and the WebSocket delta, on the real Kafka, MariaDB and
Redis (fresh topics, database and prefix).

The protocol facts: a live-scouted settlement (certainty 1) is confirmed later
(certainty 2) with the same or corrected results; ``odds_change`` marks a market
settled (-3) before or after its results; one message settles many markets and one bad
market is refused alone; identical re-sends are duplicates; a rollback of what is not
in force says so. The same for ``bet_cancel`` and ``rollback_bet_cancel``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.distribution.service import DistributionService
from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    WsClient,
    api_session,
    get_json,
    running_service,
    service_settings,
    ws_client,
)
from tests.support.ingestion import Running, running
from tests.support.processors import Db, WorkerProcess, database, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

EVENT = "sr:match:70001"
T0 = 1767274200000  # epoch ms: 2026-01-01 13:30 UTC
TOTALS = "totals|total=2.5"


class Platform:
    """Ingestion, one football worker and distribution on the test's fresh stack."""

    def __init__(self, ingestion: Running, db: Db, service: DistributionService,
                 ws: WsClient, worker: WorkerProcess) -> None:
        self.ingestion = ingestion
        self.db = db
        self.service = service
        self.ws = ws
        self.worker = worker
        self.clock = T0

    async def uof(self, xml: str) -> dict[str, Any]:
        """POST one UOF document (football); it must be accepted."""
        status, _, body = await self.ingestion.post(
            "uof", xml.encode(), "application/xml", **{"X-UOF-Sport": "1"})
        assert status == 202, body
        return dict(body)

    def ts(self) -> int:
        """The next provider time (a minute later each message)."""
        self.clock += 60_000
        return self.clock

    async def settled(self, message_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """Wait for each message's ledger row; its (disposition, reason)."""
        wanted = tuple(message_ids)
        marks = ", ".join(["%s"] * len(wanted))

        async def all_there() -> bool:
            count: int = await self.db.scalar(
                f"SELECT COUNT(*) FROM ledger WHERE message_id IN ({marks})", wanted
            )
            return count == len(wanted)

        await wait_until(all_there, 60, what=f"ledger rows of {len(wanted)} messages")
        rows = await self.db.rows(
            f"SELECT message_id, disposition, reason FROM ledger WHERE message_id IN ({marks})",
            wanted)
        return {mid: (d, r) for mid, d, r in rows}

    async def rest_settlements(self) -> dict[str, Any]:
        async with api_session() as session:
            status, body = await get_json(
                session, f"{self.service.rest_url}/v1/settlements?event_id={EVENT}")
        assert status == 200, body
        return dict(body)

    async def rest_market(self, key: str) -> dict[str, Any]:
        async with api_session() as session:
            status, body = await get_json(session, f"{self.service.rest_url}/v1/events/{EVENT}")
        assert status == 200, body
        return next(m for m in body["markets"] if m["market_key"] == key)


@pytest.fixture
async def platform(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> AsyncIterator[Platform]:
    worker = WorkerProcess(Sport.FOOTBALL, kafka_settings, mysql_settings, redis_settings,
                           tmp_path / "football.log").start()
    try:
        await worker.wait_ready()
        settings = service_settings(kafka_settings, mysql_settings, redis_settings)
        async with running(kafka_settings) as ingestion, database(mysql_settings) as db, \
                running_service(settings) as service, ws_client(service.ws_url) as ws:
            await ws.send(type="subscribe", sports=["football"])
            await ws.recv_until("subscribed")
            p = Platform(ingestion, db, service, ws, worker)
            fixture = {"message_id": "fx-1", "sport": "football", "event_id": EVENT,
                       "kind": "fixture", "provider_ts": "2026-01-01T13:00:00Z", "body": {
                           "competition": {"id": "sr:tournament:17", "name": "Premier League"},
                           "start_time": "2026-01-01T13:30:00Z",
                           "home": {"id": "sr:competitor:1", "name": "Home"},
                           "away": {"id": "sr:competitor:2", "name": "Away"}}}
            status, _, body = await ingestion.post(
                "json", json.dumps(fixture).encode(), "application/json")
            assert status == 202, body
            await p.settled(["fx-1"])
            yield p
    finally:
        worker.ensure_stopped()


def odds_change(ts: int, markets: str) -> str:
    return (f'<odds_change event_id="{EVENT}" timestamp="{ts}" product="1">'
            f'<odds>{markets}</odds></odds_change>')


PRICED = """
<market id="1" status="1"><outcome id="1" odds="2.1"/><outcome id="2" odds="3.3"/>
  <outcome id="3" odds="3.6"/></market>
<market id="18" specifiers="total=2.5" status="1"><outcome id="12" odds="1.9"/>
  <outcome id="13" odds="1.95"/></market>
<market id="29" status="1"><outcome id="74" odds="1.8"/><outcome id="76" odds="2.0"/></market>
<market id="16" specifiers="hcp=-0.5" status="1"><outcome id="1714" odds="2.0"/>
  <outcome id="1715" odds="1.85"/></market>
"""


def one_x_two(winner: str) -> str:
    return "".join(f'<outcome id="{o}" result="{int(o == winner)}"/>' for o in ("1", "2", "3"))


def settlement(ts: int, certainty: int, markets: str) -> str:
    return (f'<bet_settlement certainty="{certainty}" product="1" event_id="{EVENT}" '
            f'timestamp="{ts}"><outcomes>{markets}</outcomes></bet_settlement>')


def ids(accepted: dict[str, Any]) -> list[str]:
    return [m["message_id"] for m in accepted["accepted"]]


async def deltas_for(ws: WsClient, message_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The WebSocket deltas of the given messages (others skipped)."""
    found: dict[str, dict[str, Any]] = {}
    while len(found) < len(message_ids):
        delta = await ws.recv_until("delta", within=30)
        if delta["message_id"] in message_ids:
            found[delta["message_id"]] = delta
    return found


async def test_uof_settlement_flows_end_to_end(platform: Platform) -> None:
    p = platform
    await p.settled(ids(await p.uof(odds_change(p.ts(), PRICED))))

    # 1. Live-scouted results of 1x2 and totals; "no more odds" for btts before its results.
    scouted = ids(await p.uof(settlement(p.ts(), 1, f"""
        <market id="1">{one_x_two("1")}</market>
        <market id="18" specifiers="total=2.5"><outcome id="12" result="1"/>
          <outcome id="13" result="0"/></market>""")))
    stopped = ids(await p.uof(odds_change(p.ts(), '<market id="29" status="-3"/>')))
    await p.settled(scouted + stopped)
    btts = await p.rest_market("btts")
    assert (btts["status"], btts["resolution"]) == ("settled", None)
    assert (await p.rest_market("1x2"))["resolution"] == "live_scouted"

    # 2. Confirmed: 1x2 the same, totals corrected, btts's results, and double chance,
    #    which the event never priced: refused alone, the rest applies.
    confirmed = ids(await p.uof(settlement(p.ts(), 2, f"""
        <market id="1">{one_x_two("1")}</market>
        <market id="18" specifiers="total=2.5"><outcome id="12" result="0"/>
          <outcome id="13" result="1"/></market>
        <market id="29"><outcome id="74" result="1"/><outcome id="76" result="0"/></market>
        <market id="10"><outcome id="9" result="1"/><outcome id="10" result="1"/>
          <outcome id="11" result="0"/></market>""")))
    # 3. "No more odds" for 1x2 after its results: accepted, results kept.
    late_stop = ids(await p.uof(odds_change(p.ts(), '<market id="1" status="-3"/>')))
    # 4. A rollback of a settlement that is not in force (the handicap never settled).
    bad_rollback = ids(await p.uof(
        f'<rollback_bet_settlement event_id="{EVENT}" product="1" timestamp="{p.ts()}">'
        '<market id="16" specifiers="hcp=-0.5"/></rollback_bet_settlement>'))
    ledger = await p.settled(confirmed + late_stop + bad_rollback)
    assert ledger[confirmed[0]][0] == "applied"
    assert "double_chance" in (ledger[confirmed[0]][1] or "")
    assert ledger[late_stop[0]] == ("applied", None)
    assert ledger[bad_rollback[0]][0] == "rejected"
    assert "has no settlement in force" in (ledger[bad_rollback[0]][1] or "")

    # MySQL: every row kept; in force only the newest results of each market.
    rest = await p.rest_settlements()
    in_force = {(s["market_key"], s["outcome_id"]): (s["result"], s["certainty"])
                for s in rest["settlements"] if s["in_force"]}
    assert in_force[("1x2", "home")] == ("won", "confirmed")
    assert in_force[(TOTALS, "over")] == ("lost", "confirmed")
    assert in_force[(TOTALS, "under")] == ("won", "confirmed")
    assert in_force[("btts", "yes")] == ("won", "confirmed")
    superseded = [s for s in rest["settlements"] if s["superseded_by"] == confirmed[0]]
    assert {(s["market_key"], s["certainty"]) for s in superseded} == {
        ("1x2", "live_scouted"), (TOTALS, "live_scouted")}
    assert all(s["superseded_at"] and not s["in_force"] for s in superseded)
    assert len(rest["settlements"]) == 2 * 3 + 2 * 2 + 2  # 1x2 twice, totals twice, btts
    refused = {(r["market_key"], r["message_id"], r["kind"]) for r in rest["refused"]}
    assert refused == {("double_chance", confirmed[0], "settlement"),
                       ("handicap|hcp=-0.5", bad_rollback[0], "rollback")}
    one_x_two_market = await p.rest_market("1x2")
    assert (one_x_two_market["status"], one_x_two_market["resolution"]) == ("settled", "confirmed")

    # WebSocket: the confirmation says what it confirmed, corrected and refused.
    deltas = await deltas_for(p.ws, scouted + confirmed)
    changes = {s["market_key"]: (s["certainty"], s["change"])
               for s in deltas[confirmed[0]]["settlements"]}
    assert changes == {"1x2": ("confirmed", "confirmed"), TOTALS: ("confirmed", "corrected"),
                       "btts": ("confirmed", "new")}
    assert [r["market_key"] for r in deltas[confirmed[0]]["refused"]] == ["double_chance"]
    assert {s["change"] for s in deltas[scouted[0]]["settlements"]} == {"new"}

    # The re-send of an identical document is counted as a duplicate, never applied twice.
    resend = ids(await p.uof(settlement(p.clock, 2, '<market id="29">'
                                        '<outcome id="74" result="1"/><outcome id="76" result="0"/>'
                                        "</market>")))
    resend_again = ids(await p.uof(settlement(p.clock, 2, '<market id="29">'
                                              '<outcome id="74" result="1"/>'
                                              '<outcome id="76" result="0"/></market>')))
    assert resend == resend_again

    async def counted() -> bool:
        count: int = await p.db.scalar("SELECT COUNT(*) FROM ledger_duplicates WHERE message_id = %s",
                                       (resend[0],))
        return count == 1

    await wait_until(counted, 30, what="the duplicate's row")
    assert await p.db.scalar(
        "SELECT COUNT(*) FROM settlements WHERE message_id = %s", (resend[0],)) == 0


async def test_uof_cancel_flows_end_to_end(platform: Platform) -> None:
    p = platform
    await p.settled(ids(await p.uof(odds_change(p.ts(), PRICED))))
    # odds_change "cancelled" (-4) before the bet_cancel; bet_cancel of a settled market.
    stop = ids(await p.uof(odds_change(p.ts(), '<market id="29" status="-4"/>')))
    results = ids(await p.uof(settlement(p.ts(), 2, f'<market id="1">{one_x_two("2")}</market>')))
    cancel = ids(await p.uof(
        f'<bet_cancel event_id="{EVENT}" product="1" timestamp="{p.ts()}">'
        '<market id="29" void_reason="12"/><market id="1" void_reason="12"/>'
        '<market id="18" specifiers="total=2.5" void_reason="12"/></bet_cancel>'))
    # bet_cancel then odds_change -4 for totals; rollback of a cancel not in force (1x2).
    late = ids(await p.uof(odds_change(p.ts(), '<market id="18" specifiers="total=2.5" status="-4"/>')))
    rollback = ids(await p.uof(
        f'<rollback_bet_cancel event_id="{EVENT}" product="1" timestamp="{p.ts()}">'
        '<market id="1"/><market id="29"/></rollback_bet_cancel>'))
    ledger = await p.settled(stop + results + cancel + late + rollback)
    assert ledger[cancel[0]][0] == "applied"
    assert "1x2" in (ledger[cancel[0]][1] or "")  # refused: it has results in force
    assert ledger[late[0]] == ("applied", None)
    assert ledger[rollback[0]][0] == "applied"
    assert "1x2" in (ledger[rollback[0]][1] or "")

    rest = await p.rest_settlements()
    cancellations = {c["market_key"]: c["in_force"] for c in rest["cancellations"]}
    assert cancellations == {"btts": False, TOTALS: True}
    assert {(r["market_key"], r["kind"]) for r in rest["refused"]} == {
        ("1x2", "cancel"), ("1x2", "rollback")}
    totals = await p.rest_market(TOTALS)
    assert (totals["status"], totals["resolution"]) == ("cancelled", "void")
    btts = await p.rest_market("btts")
    assert btts["resolution"] is None
    assert (await p.rest_market("1x2"))["resolution"] == "confirmed"
