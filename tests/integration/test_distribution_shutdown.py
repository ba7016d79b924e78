"""``python -m services.distribution`` end to end: ready, serving, and SIGTERM closes cleanly."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    api_session,
    get_json,
    seed_mysql,
    seed_redis,
    service_env,
    snapshot,
    start_process,
    stop_process,
    ws_client,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


async def test_sigterm_closes_websockets_with_1001_and_exits_zero(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    snap = snapshot("ev-term", version=2)
    await seed_mysql(mysql_settings, [snap])
    await seed_redis(redis_settings, [snap])
    rest, ws = free_port(), free_port()
    env = service_env(kafka_settings, mysql_settings, redis_settings, rest, ws)
    process = await asyncio.to_thread(start_process, env, tmp_path / "service.log")
    try:
        async with api_session() as http:
            status, body = await get_json(http, f"http://127.0.0.1:{rest}/v1/events/ev-term")
            assert status == 200
            assert body["version"] == 2
        async with ws_client(f"ws://127.0.0.1:{ws}/") as client:
            await client.send(type="subscribe", event_ids=["ev-term"])
            await client.recv_until("snapshot")
            process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                await client.recv_until("never", within=15)
            assert client.conn.close_code == 1001
        code = await asyncio.to_thread(process.wait, 20)
        assert code == 0, (tmp_path / "service.log").read_text()[-2000:]
    finally:
        stop_process(process)
