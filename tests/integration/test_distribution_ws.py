"""The WebSocket push against the real Kafka, MySQL and Redis: snapshot, ordered deltas, resume."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.enums import Sport
from shared.live import MarketState
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
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

ONE_X_TWO = market("1x2", "2.1", "3.4", "3.6")


def home_at(version: int) -> MarketState:
    """The 1x2 market with the home price moved to ``2.<version>``."""
    return market("1x2", f"2.{version}", "3.4", "3.6")


async def test_subscribe_by_event_sends_snapshot_then_deltas_in_version_order(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-1", version=3, markets=[ONE_X_TWO])])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, ws_client(service.ws_url) as client, \
            publisher(kafka_settings) as producer:
        await client.send(type="subscribe", event_ids=["ev-1"])
        ack = await client.recv_until("subscribed")
        assert ack["event_ids"] == ["ev-1"]
        snap = await client.recv_until("snapshot")
        assert snap["event_id"] == "ev-1"
        assert snap["version"] == 3
        assert snap["markets"]["1x2"]["outcomes"][0]["price"] == "2.1"
        await publish(producer, kafka_settings, [
            delta("ev-1", v, home_at(v)) for v in range(4, 14)
        ])
        deltas = await client.collect("delta", 10)
        assert [d["version"] for d in deltas] == list(range(4, 14))
        assert deltas[-1]["markets"][0]["outcomes"][0]["price"] == "2.13"
        assert all("conflated" not in d for d in deltas)


async def test_an_idle_instance_long_polls_yet_delivers_the_next_delta_at_once(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    # The longest poll allowed: a fetch answered only when it expires would deliver the
    # delta 4 s after it was published (the poll began when the consumer was positioned,
    # 1 s before); the broker answers it at the first record instead.
    await seed_redis(redis_settings, [snapshot("ev-lp", version=1, markets=[ONE_X_TWO])])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings,
                                fetch_max_wait_ms=5000)
    async with running_service(settings) as service, ws_client(service.ws_url) as client, \
            publisher(kafka_settings) as producer:
        await client.send(type="subscribe", event_ids=["ev-lp"])
        await client.recv_until("snapshot")
        await asyncio.sleep(1.0)  # idle: the fetch in flight is a long poll
        published = time.monotonic()
        await publish(producer, kafka_settings, [delta("ev-lp", 2, home_at(2))])
        assert (await client.recv_until("delta"))["version"] == 2
        assert time.monotonic() - published < 2.5


async def test_sport_subscription_filters_markets_in_snapshots_and_deltas(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    markets = [ONE_X_TWO, market("totals|total=2.5", "1.9", "1.9")]
    await seed_redis(redis_settings, [
        snapshot("fb-1", markets=markets), snapshot("fb-2", version=2, markets=markets),
        snapshot("bb-1", Sport.BASKETBALL, markets=[market("moneyline", "1.5", "2.6")]),
    ])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, ws_client(service.ws_url) as client, \
            publisher(kafka_settings) as producer:
        await client.send(type="subscribe", sports=["football"], markets=["totals"])
        snaps = await client.collect("snapshot", 2)
        assert {s["event_id"] for s in snaps} == {"fb-1", "fb-2"}
        assert all(list(s["markets"]) == ["totals|total=2.5"] for s in snaps)
        await publish(producer, kafka_settings, [
            delta("bb-1", 2, market("moneyline", "1.4", "2.9"), sport=Sport.BASKETBALL),
            delta("fb-1", 2, market("1x2", "2.0", "3.4", "3.8"), market("totals|total=2.5", "1.8", "2.0")),
        ])
        got = await client.recv_until("delta")
        assert got["event_id"] == "fb-1"
        assert [m["market_key"] for m in got["markets"]] == ["totals|total=2.5"]


async def test_resume_replays_missed_deltas_in_order_when_retained(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-r", version=1, markets=[ONE_X_TWO])])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, publisher(kafka_settings) as producer:
        async with ws_client(service.ws_url) as client:
            await client.send(type="subscribe", event_ids=["ev-r"])
            await client.recv_until("snapshot")
            await publish(producer, kafka_settings, [delta("ev-r", v, home_at(v)) for v in (2, 3)])
            assert [d["version"] for d in await client.collect("delta", 2)] == [2, 3]
        # Disconnected: these are missed, then the client comes back at version 3.
        await publish(producer, kafka_settings, [delta("ev-r", v, home_at(v)) for v in range(4, 9)])
        await asyncio.sleep(0.5)  # let the instance consume them into its ring
        async with ws_client(service.ws_url) as client:
            await client.send(type="resume", events={"ev-r": 3})
            replayed = await client.collect("delta", 5)
            assert [d["version"] for d in replayed] == [4, 5, 6, 7, 8]
            assert not [m for m in client.seen if m["type"] == "snapshot"]
            await publish(producer, kafka_settings, [delta("ev-r", 9, market("1x2", "2.9", "3.4", "3.6"))])
            assert (await client.recv_until("delta"))["version"] == 9


async def test_resume_beyond_retention_gets_a_snapshot(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-s", version=1)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings, retained_deltas=4)
    async with running_service(settings) as service, publisher(kafka_settings) as producer:
        await publish(producer, kafka_settings, [delta("ev-s", v, ONE_X_TWO) for v in range(2, 12)])
        # The processor wrote the newest snapshot to Redis before publishing.
        await seed_redis(redis_settings, [snapshot("ev-s", version=11, markets=[ONE_X_TWO])])
        await asyncio.sleep(0.5)
        async with ws_client(service.ws_url) as client:
            await client.send(type="resume", events={"ev-s": 3})  # 4..7 are no longer retained
            snap = await client.recv_until("snapshot")
            assert snap["version"] == 11
            await publish(producer, kafka_settings, [delta("ev-s", 12, market("1x2", "2.2", "3.4", "3.6"))])
            assert (await client.recv_until("delta"))["version"] == 12


async def test_conflated_subscription_sends_latest_market_state_marked_conflated(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-c", version=1, markets=[ONE_X_TWO])])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, ws_client(service.ws_url) as client, \
            publisher(kafka_settings) as producer:
        await client.send(type="subscribe", event_ids=["ev-c"], conflate_ms=500)
        await client.recv_until("snapshot")
        await publish(producer, kafka_settings, [
            delta("ev-c", 2, market("1x2", "2.2", "3.4", "3.6")),
            delta("ev-c", 3, market("totals|total=2.5", "1.9", "1.9")),
            delta("ev-c", 4, market("1x2", "2.4", "3.3", "3.5")),
        ])
        merged = await client.recv_until("delta")
        assert merged["conflated"] is True
        assert merged["from_version"] == 2
        assert merged["version"] == 4
        by_key = {m["market_key"]: m for m in merged["markets"]}
        assert [o["price"] for o in by_key["1x2"]["outcomes"]] == ["2.4", "3.3", "3.5"]
        assert "totals|total=2.5" in by_key


async def test_gap_on_the_updates_topic_makes_the_server_send_a_fresh_snapshot(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-g", version=1)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, ws_client(service.ws_url) as client, \
            publisher(kafka_settings) as producer:
        await client.send(type="subscribe", event_ids=["ev-g"])
        assert (await client.recv_until("snapshot"))["version"] == 1
        await seed_redis(redis_settings, [snapshot("ev-g", version=4, score=(1, 0))])
        # Version 2 and 3 never reach the topic (a lost publish).
        await publish(producer, kafka_settings, [delta("ev-g", 4, ONE_X_TWO)])
        fresh = await client.recv_until("snapshot")
        assert fresh["version"] == 4
        assert fresh["live"]["score"]["home"] == 1
        await publish(producer, kafka_settings, [delta("ev-g", 5, market("1x2", "2.0", "3.4", "3.6"))])
        assert (await client.recv_until("delta"))["version"] == 5


async def test_resync_sends_fresh_snapshots_of_followed_events(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-x", version=1)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, ws_client(service.ws_url) as client:
        await client.send(type="subscribe", event_ids=["ev-x"])
        await client.recv_until("snapshot")
        await seed_redis(redis_settings, [snapshot("ev-x", version=7)])
        await client.send(type="resync", event_ids=["ev-x"])
        assert (await client.recv_until("snapshot"))["version"] == 7


async def test_heartbeats_flow_both_ways_and_bad_messages_name_the_field(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    settings = service_settings(kafka_settings, mysql_settings, redis_settings, heartbeat_s=0.5)
    async with running_service(settings) as service, ws_client(service.ws_url) as client:
        beat = await client.recv_until("heartbeat", within=3)
        assert beat["ts"].endswith("Z")
        await client.send(type="heartbeat", ts="client-1")
        assert (await client.recv_until("heartbeat", echo="client-1"))["ts"]
        await client.send(type="subscribe", sports=["curling"])
        error = await client.recv_until("error")
        assert error["code"] == "bad_request"
        assert error["field"].startswith("sports")
        await client.send(type="subscribe", event_ids=["ev-1"], conflate_ms=-5)
        assert (await client.recv_until("error"))["field"] == "conflate_ms"
        await client.conn.send("not json")
        assert (await client.recv_until("error"))["code"] == "bad_request"


async def test_two_instances_each_deliver_every_update_to_their_own_clients(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-2i", version=1)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as one, running_service(settings.model_copy(
        update={"consumer_group": settings.consumer_group + "-b"})) as two, \
            ws_client(one.ws_url) as a, ws_client(two.ws_url) as b, publisher(kafka_settings) as producer:
        for client in (a, b):
            await client.send(type="subscribe", event_ids=["ev-2i"])
            await client.recv_until("snapshot")
        await publish(producer, kafka_settings, [delta("ev-2i", 2, ONE_X_TWO)])
        assert (await a.recv_until("delta"))["version"] == 2
        assert (await b.recv_until("delta"))["version"] == 2
