"""Every service's ``/metrics`` passes ``promtool check metrics``, and a real Prometheus
(``infra/local/prometheus.sh``, private port and data folder) scrapes every one of them
with all targets up and the recording rules filled: what ``make up`` runs, on a fresh
scope of the local stack (topics, database, Redis prefix) with a feed moving.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from shared.enums import Sport
from tests.support.platform import Platform, Proc
from tests.support.ports import free_port
from tests.support.prometheus import query, running_prometheus

pytestmark = pytest.mark.e2e

SPORTS = [Sport.FOOTBALL, Sport.TENNIS]


async def metrics_of(proc: Proc) -> str:
    """The service's exposition text."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http, \
            http.get(f"http://127.0.0.1:{proc.port}/metrics") as response:
        assert response.status == 200, proc.name
        return await response.text()


def job_of(proc: Proc) -> str:
    """The scrape job of a service, as in infra/monitoring/prometheus.yml."""
    return "processor" if proc.name.startswith("processor") else proc.name


async def test_every_service_is_scraped_and_its_metrics_pass_promtool(
    local_platform: Platform, tmp_path: Path,
) -> None:
    platform = local_platform
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: infra/local/tools.sh test (Debian's prometheus)")
    prometheus_port = free_port()
    platform.ingestion()
    for sport in SPORTS:
        platform.processor(sport)
    distribution = platform.distribution(
        SPORTSFEED_DISTRIBUTION_PROMETHEUS_URL=f"http://127.0.0.1:{prometheus_port}")
    platform.pricing()
    platform.trading()
    control = platform.control()
    await platform.wait_ready(partitions=False)
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{control.port}/start",
            json={"matches": 4, "rate": 40, "duration": 40, "formats": "json,xml",
                  "sports": ",".join(s.value for s in SPORTS)}) as response:
        assert response.status == 202, await response.text()

    scraped = [p for p in platform.procs if p.port is not None]
    assert {job_of(p) for p in scraped} == {"ingestion", "processor", "distribution", "pricing",
                                            "trading", "feedgen"}
    await asyncio.sleep(5)  # a few requests and batches, so every series family shows
    for proc in scraped:
        text = await metrics_of(proc)
        checked = await asyncio.to_thread(
            subprocess.run, ["promtool", "check", "metrics"], input=text, text=True,
            capture_output=True, timeout=60, check=False)
        assert checked.returncode == 0, f"{proc.name}:\n{checked.stdout}{checked.stderr}"

    targets = [(job_of(p), f"127.0.0.1:{p.port}", p.name) for p in scraped]
    async with running_prometheus(targets, tmp_path / "prometheus", port=prometheus_port) as url:
        # Each recording rule fills on its own evaluation, and a rate needs two scrapes of
        # its counter: wait for all of them together, then say which one stayed empty.
        rules = ("provider:sportsfeed_ingestion_messages_accepted:rate1m > 0",
                 "sport:sportsfeed_processor_messages:rate1m",
                 "sport:sportsfeed_distribution_consumer_lag_seconds:max",
                 "job:sportsfeed_distribution_updates_consumed:rate1m")
        deadline = time.monotonic() + 90
        up: list[dict[str, object]] = []
        filled: dict[str, bool] = {}
        while time.monotonic() < deadline:
            up = await query(url, 'up{job!="prometheus"} == 1')
            filled = {expr: bool(await query(url, expr)) for expr in rules}
            if len(up) == len(targets) and all(filled.values()):
                break
            await asyncio.sleep(2)
        assert len(up) == len(targets), (up, [p.tail(5) for p in scraped])
        assert all(filled.values()), f"recording rules still empty: {filled}"
        status, body = await distribution.get("/v1/ops/targets")
        assert status == 200, body
        assert body["up"] == len(targets) + 1  # and Prometheus itself
