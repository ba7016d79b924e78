"""The whole platform under the feed generator's faults: nothing is lost, all as planned.

Ingestion and the four processors run as subprocesses on fresh topics, a fresh
database and a fresh Redis prefix; a bounded generator run (20 matches, 30 s,
300 messages/s, duplicates, reordering and broken messages in all three formats)
posts to ingestion; then the audit reconciles the run's record with the ledger.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from feedgen.audit import format_report
from feedgen.ledger import audit_run
from feedgen.record import read_records
from feedgen.runner import execute, prepare
from feedgen.settings import RunOptions
from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PROVIDER = "feedgen"


def _env(kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings) -> dict[str, str]:
    return {
        **os.environ,
        "SPORTSFEED_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SPORTSFEED_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "SPORTSFEED_KAFKA_PARTITIONS": str(kafka.partitions),
        "SPORTSFEED_MYSQL_HOST": mysql.host,
        "SPORTSFEED_MYSQL_PORT": str(mysql.port),
        "SPORTSFEED_MYSQL_USER": mysql.user,
        "SPORTSFEED_MYSQL_PASSWORD": mysql.password.get_secret_value(),
        "SPORTSFEED_MYSQL_DATABASE": mysql.database,
        "SPORTSFEED_REDIS_URL": redis.url,
        "SPORTSFEED_REDIS_KEY_PREFIX": redis.key_prefix,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "feed-generator")]),
    }


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # Started once, before the test's traffic: a blocking spawn costs nothing here.
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", *args], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


async def _wait_ready(url: str, proc: subprocess.Popen[bytes], within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before ready")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {within} s")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
async def platform(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings,
    redis_settings: RedisSettings, tmp_path: Path,
) -> AsyncIterator[tuple[str, str]]:
    """Ingestion and the four processors; yields (ingestion URL, API key)."""
    key = secrets.token_urlsafe(24)
    env = _env(kafka_settings, mysql_settings, redis_settings)
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        ingestion_env = {**env, "SPORTSFEED_INGESTION_API_KEYS": f"{PROVIDER}:{key}",
                         "SPORTSFEED_INGESTION_PORT": str(port)}
        procs.append(_spawn(["services.ingestion"], ingestion_env, logs / "ingestion.log"))
        ready = [(f"http://127.0.0.1:{port}/readyz", procs[0])]
        group = f"feedgen-e2e-{uuid.uuid4().hex[:8]}"
        for sport in Sport:
            web = free_port()
            worker_env = {**env, "SPORTSFEED_PROCESSOR_WEB_PORT": str(web),
                          "SPORTSFEED_PROCESSOR_WEB_HOST": "127.0.0.1",
                          "SPORTSFEED_PROCESSOR_GROUP_ID": f"{group}-{sport.value}",
                          "SPORTSFEED_PROCESSOR_DATA_DIR": str(tmp_path / f"faust-{sport.value}"),
                          "SPORTSFEED_PROCESSOR_LOG_LEVEL": "warning"}
            procs.append(_spawn(["services.processors", sport.value], worker_env,
                                logs / f"{sport.value}.log"))
            ready.append((f"http://127.0.0.1:{web}/readyz", procs[-1]))
        for url, proc in ready:
            await _wait_ready(url, proc)
        yield f"http://127.0.0.1:{port}", key
    finally:
        _stop(procs)


async def test_generator_run_with_faults_is_fully_accounted_for(
    platform: tuple[str, str], mysql_settings: MySQLSettings, tmp_path: Path,
) -> None:
    url, key = platform
    opts = RunOptions(
        matches=20, rate=300, duration=30, formats="json,xml,uof",
        faults="dup=0.01,reorder=0.01,malformed=0.005", seed=7, url=url,
        api_key=SecretStr(key), provider=PROVIDER, data_dir=tmp_path / "feedgen",
        run_id="e2e",
    )
    run = await execute(prepare(opts), progress=None)
    assert run.state == "finished", run.error
    records = list(read_records(opts.data_dir / "e2e"))
    faults = {(r.fault or "").split(":")[0] for r in records}
    assert {"dup", "reorder", "malformed"} <= faults, faults
    assert {r.format for r in records} == {"json", "xml", "uof"}

    report = await audit_run(records, mysql_settings, wait=120)

    text = format_report(report)
    print(text)  # shown with -s: the numbers behind the assertions
    assert report.ok, text
    counts = report.counts
    assert counts["unacknowledged"] == 0, text
    assert counts["lost"] == 0, text
    assert counts["unexpected"] == 0, text
    assert counts["sent"] == counts["accepted"] + counts["refused"], text
    assert counts["accepted"] == counts["ledger_rows"] + counts["duplicate"], text
    assert counts["applied"] > 1000, text
    assert counts["stale"] > 0, text
    assert counts["duplicate"] > 0, text
    assert counts["refused"] == sum(1 for r in records if r.expect == "refused"), text
    assert counts["rejected"] == 0, text

    # The command line agrees, and says so with its exit status.
    env = {**os.environ, "SPORTSFEED_MYSQL_HOST": mysql_settings.host,
           "SPORTSFEED_MYSQL_PORT": str(mysql_settings.port),
           "SPORTSFEED_MYSQL_USER": mysql_settings.user,
           "SPORTSFEED_MYSQL_PASSWORD": mysql_settings.password.get_secret_value(),
           "SPORTSFEED_MYSQL_DATABASE": mysql_settings.database,
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "feed-generator")])}
    audit = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedgen", "audit", "--run", "e2e", "--wait", "30",
        "--data-dir", str(opts.data_dir), env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await audit.communicate()
    assert audit.returncode == 0, output.decode()
    assert b"audit: OK" in output
