"""``python -m services.ingestion`` as a subprocess on the real Kafka, for integration tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import aiohttp

from shared.settings import KafkaSettings

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def service(kafka: KafkaSettings, key: str, port: int, **env: str
            ) -> Iterator[subprocess.Popen[bytes]]:
    """The service as a subprocess (its whole group, if it runs one); killed if left running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.ingestion"], cwd=REPO,
        env={**os.environ, "SPORTSFEED_INGESTION_PORT": str(port),
             "SPORTSFEED_INGESTION_API_KEYS": f"itest:{key}",
             "SPORTSFEED_KAFKA_BOOTSTRAP": kafka.bootstrap,
             "SPORTSFEED_KAFKA_TOPIC_PREFIX": kafka.topic_prefix, **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)  # the supervisor and its workers
            proc.wait()


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Poll ``/readyz`` until 200; fail with the service's output if it exits."""
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            assert proc.poll() is None, (proc.stdout.read() if proc.stdout else b"").decode()
            with suppress(aiohttp.ClientError):
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError("service never became ready")


async def wait_group_ready(url: str, proc: subprocess.Popen[bytes], probes: int = 30) -> None:
    """Ready everywhere: ``probes`` fresh connections in a row (which the kernel spreads
    over a group's workers) all answer ``/readyz`` with 200."""
    await wait_ready(url, proc)
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        good = 0
        for _ in range(600):
            async with session.get(f"{url}/readyz") as response:
                good = good + 1 if response.status == 200 else 0
            if good >= probes:
                return
            await asyncio.sleep(0.02)
    raise AssertionError("not every worker became ready")


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (a supervisor's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    found.append(int(entry.name))
    return found


def cpu_ticks(pid: int) -> int:
    """User + system clock ticks a process has used."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(stat[11]) + int(stat[12])
