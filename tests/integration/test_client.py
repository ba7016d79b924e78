"""The Python client against the real distribution service (in-process, on the fresh
stack): snapshots and deltas applied, conflation, gaps resynced, model frames passed
through, tokens; and against a server that goes quiet."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from sportsfeed_client import AuthError, FeedClient
from tests.support.client import Following, following
from tests.support.consumer_keys import TEST_KEY
from tests.support.distribution import (
    delta,
    market,
    publish,
    publish_models,
    publisher,
    running_service,
    seed_models,
    seed_redis,
    service_settings,
    snapshot,
)
from tests.support.distribution_fakes import model_prices

pytestmark = pytest.mark.integration


async def test_follow_applies_snapshots_deltas_and_resyncs_a_gap_to_redis_state(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [
        snapshot("ev-a", version=3, markets=[market("1x2", "2.10", "3.40", "3.60")]),
        snapshot("ev-b", version=1, markets=[market("1x2", "1.50", "4.00", "6.00")]),
    ])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, \
            following(service.ws_url, sports=[Sport.FOOTBALL], markets=["1x2"]) as run, \
            publisher(kafka_settings) as producer:
        await run.until(lambda c: c.versions == {"ev-a": 3, "ev-b": 1}, what="the snapshots")
        await publish(producer, kafka_settings, [
            delta("ev-a", 4, market("1x2", "2.00", "3.40", "3.80")),
            delta("ev-a", 5, market("1x2", "1.95", "3.40", "3.90"),
                  market("totals|total=2.5", "1.90", "1.90")),
        ])
        await run.until(lambda c: c.versions.get("ev-a") == 5, what="ev-a at v5")
        state = run.client.state("ev-a")
        assert state is not None
        assert state.markets["1x2"].outcomes[0].price == Decimal("1.95")
        assert "totals|total=2.5" not in state.markets  # the market filter
        assert run.kinds("ev-a") == [("snapshot", 3), ("delta", 4), ("delta", 5)]

        # v2 of ev-b never reaches the topic: the client sees v3 as a gap and resyncs
        # to what Redis holds (which the processor wrote before publishing v3).
        await seed_redis(redis_settings, [
            snapshot("ev-b", version=3, markets=[market("1x2", "1.40", "4.50", "7.00")])])
        await publish(producer, kafka_settings, [
            delta("ev-b", 3, market("1x2", "1.40", "4.50", "7.00"))])
        await run.until(lambda c: c.versions.get("ev-b") == 3, what="ev-b resynced to v3")
        state_b = run.client.state("ev-b")
        assert state_b is not None
        assert state_b.markets["1x2"].outcomes[2].price == Decimal("7.00")


async def test_conflated_deltas_and_model_frames_reach_the_caller(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-c", version=1,
                                               markets=[market("1x2", "2.10", "3.40", "3.60")])])
    await seed_models(redis_settings, [model_prices("ev-c", 1)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, \
            following(service.ws_url, event_ids=["ev-c"], conflate_ms=400, model=True) as run, \
            publisher(kafka_settings) as producer:
        await run.until(lambda c: c.versions == {"ev-c": 1} and c.stats.models >= 1,
                        what="the snapshot and the stored model prices")
        await publish(producer, kafka_settings, [
            delta("ev-c", v, market("1x2", f"2.{v}0", "3.40", "3.60")) for v in range(2, 8)])
        await publish_models(producer, kafka_settings, [model_prices("ev-c", 7)])
        await run.until(lambda c: c.versions.get("ev-c") == 7 and c.stats.models >= 2,
                        what="ev-c at v7 and the new model prices")
        merged = [u for u in run.updates if u.kind == "delta" and u.conflated_from is not None]
        assert merged, [(u.kind, u.conflated_from) for u in run.updates]
        assert run.client.stats.gaps == 0
        state = run.client.state("ev-c")
        assert state is not None
        assert state.markets["1x2"].outcomes[0].price == Decimal("2.70")
        models = [u.model for u in run.updates if u.kind == "model" and u.model is not None]
        assert [m.event_version for m in models] == [1, 7]


async def test_a_token_is_sent_and_a_refused_one_ends_the_iteration(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-t", version=2)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service:
        async with following(service.ws_url, event_ids=["ev-t"], token=TEST_KEY) as run:
            await run.until(lambda c: c.versions == {"ev-t": 2}, what="the snapshot")
        refused = FeedClient(service.ws_url, token="wrong-key-of-sixteen-chars").follow(event_ids=["ev-t"])
        with pytest.raises(AuthError):
            await asyncio.wait_for(anext(refused), 10)


async def test_a_server_that_goes_quiet_is_left_and_the_client_reconnects() -> None:
    connections = 0

    async def quiet(conn: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await conn.send(orjson.dumps({"type": "welcome", "session": connections, "protocol": 1,
                                      "heartbeat_s": 0.2, "token_required": False}).decode())
        await conn.recv()  # the subscribe; then nothing, not even heartbeats
        await asyncio.sleep(30)

    async with serve(quiet, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = FeedClient(f"ws://127.0.0.1:{port}/", reconnect_initial_s=0.05)
        run = Following(client, sports=["football"]).start()
        try:
            await run.until(lambda c: c.stats.connects >= 2, within=10, what="a reconnect")
        finally:
            await run.stop()
        assert client.stats.silences >= 1
        assert connections >= 2


async def test_heartbeats_go_out_and_a_caller_busy_with_an_update_is_not_a_silent_server() -> None:
    heartbeats: list[float] = []

    async def chatty(conn: ServerConnection) -> None:
        await conn.send(orjson.dumps({"type": "welcome", "session": 1, "protocol": 1,
                                      "heartbeat_s": 0.2, "token_required": False}).decode())
        await conn.recv()  # the subscribe
        await conn.send(orjson.dumps({"type": "subscribed"}).decode())
        await conn.send(orjson.dumps({"type": "snapshot", "event_id": "ev-q", "sport": "football",
                                      "version": 1}).decode())

        async def beat() -> None:
            while True:
                await asyncio.sleep(0.2)
                await conn.send(orjson.dumps({"type": "heartbeat"}).decode())

        beating = asyncio.create_task(beat())
        try:
            async for raw in conn:
                if orjson.loads(raw).get("type") == "heartbeat":
                    heartbeats.append(asyncio.get_running_loop().time())
        finally:
            beating.cancel()

    async with serve(chatty, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = FeedClient(f"ws://127.0.0.1:{port}/", reconnect_initial_s=0.05)
        updates = client.follow(sports=["football"])
        first = await asyncio.wait_for(anext(updates), 10)
        assert first.kind == "snapshot"
        # Busy for five silent-heartbeat limits (3 x 0.2 s) before reading again.
        await asyncio.sleep(3.0)
        waiting = asyncio.ensure_future(anext(updates))
        await asyncio.sleep(1.0)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await updates.aclose()
    assert client.stats.silences == 0
    assert client.stats.connects == 1
    # One heartbeat every 0.2 s all along, the busy spell included.
    assert len(heartbeats) >= 15
