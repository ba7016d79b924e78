"""The optional WebSocket token check: query parameter at connect, or the first message."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    running_service,
    seed_redis,
    service_settings,
    snapshot,
    ws_client,
)

pytestmark = pytest.mark.integration


async def test_tokens_are_checked_at_connect_or_on_the_first_message(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-t", version=1)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings,
                                ws_tokens=SecretStr("alpha, beta"))
    async with running_service(settings) as service:
        url = service.ws_url
        async with ws_client(url + "?token=beta") as client:
            await client.send(type="subscribe", event_ids=["ev-t"])
            assert (await client.recv_until("snapshot"))["version"] == 1

        async with ws_client(url) as client:
            await client.send(type="subscribe", event_ids=["ev-t"], token="alpha")
            assert (await client.recv_until("snapshot"))["version"] == 1

        async with ws_client(url) as client:
            await client.send(type="subscribe", event_ids=["ev-t"])
            with pytest.raises(ConnectionClosed):
                await client.recv_until("snapshot", within=5)
            assert client.conn.close_code == 4001

        with pytest.raises(InvalidStatus) as refused:
            async with asyncio.timeout(5), connect(url + "?token=wrong"):
                pass
        assert refused.value.response.status_code == 401


async def test_without_configured_tokens_anyone_may_subscribe(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-o", version=2)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, ws_client(service.ws_url) as client:
        welcome = client.seen[0]
        assert welcome["token_required"] is False
        await client.send(type="subscribe", event_ids=["ev-o"])
        assert (await client.recv_until("snapshot"))["version"] == 2
