"""Sending, retrying and recording against an in-process fake of ingestion and the ledger.

The fake answers like ingestion (its answers are built from the real adapters'
results) and keeps a ledger like the processors (first delivery applied, or stale
when older than the event's newest; later deliveries duplicates). A whole run is
then reconciled by the audit, and the control API drives one.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from feedgen.audit import LedgerEntry, format_report, reconcile
from feedgen.control import create_app
from feedgen.record import read_records
from feedgen.runner import execute, format_summary, prepare
from feedgen.sender import AuthRefused
from feedgen.settings import FeedgenSettings, RunOptions
from services.ingestion.adapters import AdapterError, parse_json, parse_uof, parse_xml
from services.ingestion.adapters.uof import sport_from_uof_routing
from shared.model import ALIVE_EVENT_ID, FeedMessage, utc_now

KEY = "unit-key-0123456789abcdef"


@dataclass
class FakePlatform:
    """Ingestion's answers plus the processors' ledger, in memory."""

    scripted: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    duplicates: Counter[str] = field(default_factory=Counter)
    newest: dict[str, Any] = field(default_factory=dict)

    def apply(self, message: FeedMessage) -> None:
        if message.message_id in self.ledger:
            self.duplicates[message.message_id] += 1
            return
        last = self.newest.get(message.event_id)
        if message.event_id != ALIVE_EVENT_ID and last is not None and message.provider_ts < last:
            self.ledger[message.message_id] = LedgerEntry("stale")
            return
        self.ledger[message.message_id] = LedgerEntry("applied")
        if message.event_id != ALIVE_EVENT_ID:
            self.newest[message.event_id] = message.provider_ts

    async def handle(self, request: web.Request) -> web.Response:
        fmt = request.match_info["fmt"]
        self.arrivals.append((time.monotonic(), len(self.arrivals)))
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"error": "unknown API key"}, status=403)
        if self.scripted:
            status, headers = self.scripted.pop(0)
            return web.json_response({"error": "scripted"}, status=status, headers=headers)
        raw = await request.read()
        kw: dict[str, Any] = {"provider": "feedgen", "received_at": utc_now()}
        try:
            if fmt == "json":
                result = parse_json(raw, **kw)
            elif fmt == "xml":
                result = parse_xml(raw, **kw)
            else:
                result = parse_uof(raw, sport=sport_from_uof_routing(request.query["sport_id"]),
                                   **kw)
        except AdapterError as exc:
            return web.json_response({"error": exc.refusal.reason}, status=400)
        refused = [{"index": r.index, "message_id": r.message_id, "reason": r.reason}
                   for r in result.refusals]
        if not result.messages:
            return web.json_response({"accepted": [], "refused": refused}, status=422)
        for message in result.messages:
            self.apply(message)
        accepted = [{"message_id": m.message_id} for m in result.messages]
        return web.json_response({"accepted": accepted, "refused": refused}, status=202)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakePlatform, str]]:
    platform = FakePlatform()
    app = web.Application()
    app.router.add_post("/v1/feed/{fmt}", platform.handle)
    server = TestServer(app)
    await server.start_server()
    try:
        yield platform, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def run_options(url: str, data_dir: Path, **values: Any) -> RunOptions:
    base: dict[str, Any] = {
        "matches": 4, "rate": 400, "duration": 4, "seed": 11, "url": url,
        "api_key": SecretStr(KEY), "data_dir": data_dir, "run_id": "unit",
        "faults": "dup=0.03,reorder=0.03,malformed=0.02", "drain": 20, "plan_process": False,
    }
    return RunOptions.model_validate({**base, **values})


async def test_a_faulty_run_is_fully_accounted_for(
    fake: tuple[FakePlatform, str], tmp_path: Path
) -> None:
    platform, url = fake
    # The plan is built in its own process here, as the command line does by default.
    opts = run_options(url, tmp_path, plan_process=True)
    run = await execute(prepare(opts), progress=None)
    assert run.state == "finished", run.error
    records = list(read_records(tmp_path / "unit"))
    report = reconcile(records, platform.ledger, platform.duplicates)
    assert report.ok, format_report(report)
    assert not report.findings, format_report(report)
    c = report.counts
    assert c["accepted"] == c["ledger_rows"] + c["duplicate"]
    assert c["stale"] > 0
    assert c["duplicate"] > 0
    assert c["refused"] > 0
    assert run.stats.sent == len(records) == c["sent"]
    assert "accepted" in format_summary(run)


async def test_sending_order_and_batching_do_not_change_what_is_sent(
    fake: tuple[FakePlatform, str], tmp_path: Path
) -> None:
    _, url = fake
    seen = []
    # UOF ids are content hashes that include provider times: fix their anchor.
    start_at = datetime.now(UTC).replace(microsecond=0)
    for n, (batch_size, workers) in enumerate(((100, 4), (1, 1))):
        opts = run_options(url, tmp_path / str(n), batch_size=batch_size, workers=workers,
                           rate=500, duration=2, start_at=start_at)
        await execute(prepare(opts), progress=None)
        seen.append(sorted((r.message_id, r.expect, r.fault or "")
                           for r in read_records(tmp_path / str(n) / "unit")))
    assert seen[0] == seen[1]


async def test_503_and_429_are_retried_after_retry_after(
    fake: tuple[FakePlatform, str], tmp_path: Path
) -> None:
    platform, url = fake
    platform.scripted = [(503, {"Retry-After": "1"}), (429, {"Retry-After": "1"})]
    opts = run_options(url, tmp_path, duration=1, faults="", workers=1, formats="json",
                       matches=1)
    run = await execute(prepare(opts), progress=None)
    assert run.stats.retries >= 2
    assert run.stats.unacknowledged == 0
    first, second, third = (t for t, _ in platform.arrivals[:3])
    assert second - first >= 0.9
    assert third - second >= 0.9
    assert all(r.outcome == "accepted" for r in read_records(tmp_path / "unit"))


async def test_retries_are_bounded(fake: tuple[FakePlatform, str], tmp_path: Path) -> None:
    platform, url = fake
    platform.scripted = [(503, {})] * 50
    opts = run_options(url, tmp_path, duration=0.5, faults="", workers=1, formats="json",
                       matches=1, max_retries=2, batch_size=1000)
    run = await execute(prepare(opts), progress=None)
    records = list(read_records(tmp_path / "unit"))
    assert records
    assert all(r.outcome == "unacknowledged" and r.attempts == 3 for r in records)
    assert run.stats.unacknowledged == len(records)


async def test_a_refused_key_stops_the_run(fake: tuple[FakePlatform, str], tmp_path: Path) -> None:
    _, url = fake
    opts = run_options(url, tmp_path, api_key=SecretStr("wrong-key-0123456789"))
    with pytest.raises(AuthRefused):
        await execute(prepare(opts), progress=None)


async def test_the_control_api_starts_watches_and_stops_a_run(
    fake: tuple[FakePlatform, str], tmp_path: Path
) -> None:
    _, url = fake
    settings = FeedgenSettings(api_key=SecretStr(KEY), url=url, data_dir=tmp_path)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        assert (await (await client.get("/healthz")).json()) == {"status": "ok"}
        bad = await client.post("/start", json={"matches": 0})
        assert bad.status == 400
        started = await client.post("/start", json={"matches": 2, "rate": 100, "duration": 30,
                                                    "seed": 5, "formats": "json,uof"})
        assert started.status == 202, await started.text()
        body = await started.json()
        assert body["seed"] == 5
        assert (await client.post("/start", json={})).status == 409
        await asyncio.sleep(1.5)
        status = await (await client.get("/status")).json()
        assert status["state"] == "running"
        assert status["run"]["seed"] == 5
        metrics = await (await client.get("/metrics")).text()
        assert "feedgen_sent_total" in metrics
        assert "feedgen_running 1.0" in metrics
        stopped = await client.post("/stop")
        assert (await stopped.json())["state"] == "stopped"
        assert (await client.post("/stop")).status == 409
        metrics = await (await client.get("/metrics")).text()
        assert "feedgen_running 0.0" in metrics
        # Request latency is a summary: quantiles, and a count and sum over all runs.
        assert "# TYPE feedgen_request_latency_seconds summary" in metrics
        assert 'feedgen_request_latency_seconds{quantile="0.99"}' in metrics
        values = dict(line.split() for line in metrics.splitlines()
                      if line.startswith(("feedgen_request_latency_seconds_count",
                                          "feedgen_requests_total")))
        assert values["feedgen_request_latency_seconds_count"] == values["feedgen_requests_total"]
        assert (tmp_path / body["run_id"] / "run.json").exists()
    finally:
        await client.close()
