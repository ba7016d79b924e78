"""A group of ingestion workers on one port: one rate limit per provider, one sum of metrics.

The rate limit is checked twice: the shared buckets alone, charged by several processes
as fast as they can (the bound must hold exactly, whatever the process count), and the
real service run as a supervisor with three workers, loaded over fresh connections so
that the kernel spreads them over the workers.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import secrets
import signal
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.ingestion.ratelimit import RateSpec
from services.ingestion.sharedlimit import SharedBuckets
from shared.settings import KafkaSettings
from tests.support.ingestion import odds_doc
from tests.support.ingestion_process import (
    children,
    cpu_ticks,
    service,
    wait_group_ready,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

RATE, BURST = 2000.0, 100


def _charge(path: str, seconds: float, cost: int,
            out: multiprocessing.Queue[tuple[int, float, float]]) -> None:
    buckets = SharedBuckets.open(Path(path), ["acme", "beta"], RateSpec(RATE, BURST))
    admitted = 0
    first = last = 0.0
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        if buckets.take("acme", cost) == 0.0:
            admitted += cost
            first, last = first or now, now
    out.put((admitted, first, last))
    buckets.close()


@pytest.mark.parametrize("processes", [1, 4])
def test_shared_buckets_hold_one_providers_rate_whatever_the_process_count(
    tmp_path: Path, processes: int,
) -> None:
    path = SharedBuckets.create(tmp_path / "ratelimit.bin", ["acme", "beta"])
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    workers = [spawn.Process(target=_charge, args=(str(path), 1.5, 3, out))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    admitted = sum(r[0] for r in results)
    window = max(r[2] for r in results) - min(r[1] for r in results if r[1])
    allowed = BURST + RATE * window
    # Never more than one bucket allows (plus one charge in flight at the edge), and
    # the processes, all charging flat out, get nearly all of it.
    assert admitted <= allowed + 3, (admitted, allowed)
    assert admitted >= 0.9 * allowed, (admitted, allowed)
    # The other provider's bucket was not touched.
    beta = SharedBuckets.open(path, ["acme", "beta"], RateSpec(RATE, BURST))
    assert beta.take("beta", BURST) == 0.0
    beta.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items()
               if n == name and all(dict(ls).get(k) == x for k, x in labels.items()))


async def test_three_workers_limit_a_provider_once_and_one_scrape_shows_their_sum(
    kafka_settings: KafkaSettings, tmp_path: Path,
) -> None:
    key, port = secrets.token_urlsafe(24), free_port()
    url = f"http://127.0.0.1:{port}"
    rate, burst = 100, 40
    env = {"SPORTSFEED_INGESTION_WORKERS": "3", "SPORTSFEED_INGESTION_DATA_DIR": str(tmp_path),
           "SPORTSFEED_INGESTION_RATE_LIMIT_PER_SECOND": str(rate),
           "SPORTSFEED_INGESTION_RATE_LIMIT_BURST": str(burst)}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    statuses: list[int] = []
    with service(kafka_settings, key, port, **env) as proc:
        await wait_group_ready(url, proc)
        workers = children(proc.pid)
        assert len(workers) == 3
        ticks_before = {pid: cpu_ticks(pid) for pid in workers}
        # A new connection per request (force_close), so the kernel spreads them over
        # the three listening sockets.
        connector = aiohttp.TCPConnector(force_close=True, limit=24)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post(n: int) -> None:
                body = json.dumps(odds_doc(f"w-{n}", f"ev-{n % 50}")).encode()
                async with session.post(f"{url}/v1/feed/json", data=body,
                                        headers=headers) as response:
                    await response.read()
                    statuses.append(response.status)

            started = time.monotonic()
            sent = 0
            while time.monotonic() - started < 3.0:
                await asyncio.gather(*(post(sent + i) for i in range(24)))
                sent += 24
            elapsed = time.monotonic() - started
            scrapes = []
            for _ in range(6):  # any worker may answer: each shows the same sum
                async with session.get(f"{url}/metrics") as response:
                    scrapes.append(_samples(await response.text()))
        busy = [pid for pid in workers if cpu_ticks(pid) - ticks_before[pid] > 0]
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 60)
    accepted, limited = statuses.count(202), statuses.count(429)
    assert accepted + limited == len(statuses), sorted(set(statuses))
    assert len(busy) >= 2, "the load did not reach more than one worker"
    # One bucket for the provider across the three workers: burst + rate * t, not 3x.
    assert accepted <= burst + rate * elapsed + 1, (accepted, elapsed)
    assert accepted >= 0.8 * (burst + rate * elapsed), (accepted, elapsed)
    assert limited > 0
    for samples in scrapes:
        assert _total(samples, "sportsfeed_ingestion_messages_accepted_total") == accepted
        assert _total(samples, "sportsfeed_ingestion_messages_refused_total",
                      reason_class="rate_limit") == limited
        assert _total(samples, "sportsfeed_ingestion_messages_received_total") == len(statuses)
        assert _total(samples, "sportsfeed_ingestion_request_seconds_count",
                      route="feed_json") == len(statuses)
        assert _total(samples, "sportsfeed_ingestion_kafka_ready") == 1
    assert code == 0
    assert not (tmp_path / "run" / f"ingestion-{port}").exists()  # the run cleaned up
