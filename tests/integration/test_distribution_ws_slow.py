"""A client that stops reading is conflated, then disconnected with 4008, and slows nobody."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from datetime import datetime
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from services.distribution.ws.hub import Hub
from shared.live import EventDelta
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    AUTH,
    delta,
    market,
    publish,
    publisher,
    running_service,
    seed_redis,
    service_settings,
    snapshot,
    ws_client,
)

pytestmark = pytest.mark.integration

UPDATES = 300
# Twenty lines per delta (about 2 KB): the slow client's buffers fill within a second.
LINES = [f"totals|total={n}.5" for n in range(20)]


def big_delta(version: int) -> EventDelta:
    """A delta changing twenty markets."""
    price = f"1.{version % 90 + 10}"
    return delta("ev-slow", version, *(market(k, price, "1.9") for k in LINES))


async def wait_for_slow_verdict(hub: Hub) -> None:
    """Until the hub has marked (or dropped) a client as too slow."""
    for _ in range(100):
        if hub.stats.slow_disconnects or any(c.kill_reason for c in hub.clients):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no client was found too slow within 10 s")


async def read_until_closed(conn: ClientConnection) -> list[dict[str, Any]]:
    """Every message still coming, until the server closes the connection."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(15):
        try:
            while True:
                seen.append(orjson.loads(await conn.recv()))
        except ConnectionClosed:
            return seen


async def test_slow_client_is_conflated_then_closed_with_4008_while_fast_client_keeps_pace(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-slow", version=1)])
    settings = service_settings(
        kafka_settings, mysql_settings, redis_settings, queue_conflate_at=20, max_lag_s=1.5,
        write_buffer_high=16 * 1024, socket_sndbuf=8192, close_timeout_s=20,
    )
    async with running_service(settings) as service, publisher(kafka_settings) as producer:
        # The slow client: a tiny receive buffer, and it never reads after subscribing.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", service.ws_port))
        sock.setblocking(False)
        async with connect(service.ws_url, sock=sock, max_queue=1, open_timeout=10,
                           ping_interval=None, close_timeout=5, additional_headers=AUTH) as slow, \
                ws_client(service.ws_url) as fast:
            await slow.send(orjson.dumps({"type": "subscribe", "event_ids": ["ev-slow"]}).decode())
            await fast.send(type="subscribe", event_ids=["ev-slow"])
            await fast.recv_until("snapshot")
            await asyncio.sleep(0.3)  # the slow client's snapshot is on its way too

            latencies: list[float] = []
            versions: list[int] = []

            async def read_fast() -> None:
                while not versions or versions[-1] < UPDATES + 1:
                    message = await fast.recv(within=10)
                    if message["type"] == "delta":
                        sent = datetime.fromisoformat(message["applied_at"]).timestamp()
                        latencies.append(time.time() - sent)
                        # A merged delta covers from_version..version (on a loaded
                        # machine even the fast reader may be merged now and then).
                        start = message.get("from_version", message["version"])
                        versions.extend(range(start, message["version"] + 1))

            reader = asyncio.create_task(read_fast())
            for start in range(2, UPDATES + 2, 10):  # 10 deltas every 20 ms
                await publish(producer, kafka_settings, [big_delta(v) for v in range(start, start + 10)])
                await asyncio.sleep(0.02)
            await asyncio.wait_for(reader, 20)

            assert versions == list(range(2, UPDATES + 2))
            # Publisher, broker, server and both clients share this machine (and the
            # test's event loop): the bound is loose, but a fan-out that waited for the
            # slow socket would stall the fast client for the whole 1.5 s lag limit.
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            assert p99 < 0.5, f"fast client p99 {p99 * 1000:.0f} ms"
            assert latencies[-1] < 1.0, f"fast client max {latencies[-1] * 1000:.0f} ms"

            # Long enough for the server to give up on the slow one (lag > 1.5 s).
            hub = service.hub
            assert hub is not None
            await wait_for_slow_verdict(hub)

            # Now the slow client reads what reached it: deltas, a conflated one, the close.
            seen = await read_until_closed(slow)
            assert slow.close_code == 4008
            assert "slow" in (slow.close_reason or "")
            deltas = [m for m in seen if m["type"] == "delta"]
            assert any(m.get("conflated") for m in deltas)
            last = deltas[-1]
            assert last["conflated"] is True
            # What it got is still one version sequence: no gap before the merged delta.
            versions_seen = [(m.get("from_version", m["version"]), m["version"]) for m in deltas]
            for (_, previous), (first, _) in itertools.pairwise(versions_seen):
                assert first == previous + 1
