"""``python -m services.ingestion`` as a process: SIGTERM drains in-flight requests, exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from shared.enums import Sport
from shared.settings import KafkaSettings
from shared.topics import Topics
from tests.support.ingestion import consume, odds_doc
from tests.support.ingestion_process import REPO, service, wait_ready
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


async def test_sigterm_finishes_the_in_flight_request_flushes_and_exits_0(
    kafka_settings: KafkaSettings,
) -> None:
    key, port = secrets.token_urlsafe(24), free_port()
    url = f"http://127.0.0.1:{port}"
    payload = json.dumps({"messages": [odds_doc(f"s-{i}", f"ev-{i}") for i in range(200)]})
    half = len(payload) // 2
    body_sent_half = asyncio.Event()
    finish_body = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield payload[:half].encode()
        body_sent_half.set()
        await finish_body.wait()
        yield payload[half:].encode()

    with service(kafka_settings, key, port) as proc:
        await wait_ready(url, proc)
        async with aiohttp.ClientSession() as session:
            in_flight = asyncio.create_task(session.post(
                f"{url}/v1/feed/json", data=slow_body(),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            ))
            await body_sent_half.wait()
            await asyncio.sleep(0.2)  # the handler is now reading the body
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            assert proc.poll() is None  # still draining the request in flight
            finish_body.set()
            response = await in_flight
            status, body = response.status, await response.json()
        code = await asyncio.to_thread(proc.wait, 30)
        log = (proc.stdout.read() if proc.stdout else b"").decode()
    assert status == 202, body
    assert len(body["accepted"]) == 200
    assert code == 0, log
    assert "ingestion stopped" in log
    records = await consume(kafka_settings, Topics(kafka_settings.topic_prefix).feed(
        Sport.FOOTBALL), 200)
    assert len({r.value for r in records}) == 200


async def test_new_requests_during_shutdown_are_refused_not_accepted(
    kafka_settings: KafkaSettings,
) -> None:
    key, port = secrets.token_urlsafe(24), free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with service(kafka_settings, key, port) as proc:
        await wait_ready(url, proc)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 30)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.post(f"{url}/v1/feed/json", json=odds_doc("late"), headers=headers)
    assert code == 0


def test_the_service_will_not_start_without_api_keys(kafka_settings: KafkaSettings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPORTSFEED_INGESTION_")}
    result = subprocess.run(
        [sys.executable, "-m", "services.ingestion"], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "SPORTSFEED_INGESTION_API_KEYS" in result.stderr
