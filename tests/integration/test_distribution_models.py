"""Model prices through distribution on the real stack: WebSocket model frames, REST predictions."""

from __future__ import annotations

import asyncio

import pytest

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    api_session,
    delta,
    get_json,
    market,
    publish,
    publish_models,
    publisher,
    running_service,
    seed_models,
    seed_mysql,
    seed_redis,
    service_settings,
    snapshot,
    ws_client,
)
from tests.support.distribution_fakes import model_prices

pytestmark = pytest.mark.integration


async def test_a_subscription_with_model_prices_gets_model_frames_and_others_do_not(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-1", version=3,
                                               markets=[market("1x2", "2.1", "3.4", "3.6")])])
    await seed_models(redis_settings, [model_prices("ev-1", 3, home=0.45)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings)
    async with running_service(settings) as service, ws_client(service.ws_url) as fair, \
            ws_client(service.ws_url) as plain, publisher(kafka_settings) as producer:
        await fair.send(type="subscribe", sports=["football"], markets=["1x2"], model=True)
        ack = await fair.recv_until("subscribed")
        assert ack["model"] is True
        first = await fair.recv_until("model")
        assert (first["event_id"], first["event_version"]) == ("ev-1", 3)
        assert [m["market_key"] for m in first["markets"]] == ["1x2"]  # the market filter
        assert first["markets"][0]["outcomes"][0] == {
            "id": "home", "probability": 0.45, "fair_price": "2.22", "price": "2.11"}
        await plain.send(type="subscribe", event_ids=["ev-1"])
        await plain.recv_until("snapshot")

        await publish_models(producer, kafka_settings, [model_prices("ev-1", 4, home=0.6)])
        moved = await fair.recv_until("model", event_version=4)
        assert moved["markets"][0]["outcomes"][0]["probability"] == 0.6
        assert moved["model"] == "football:prior"
        await publish(producer, kafka_settings, [delta("ev-1", 4, market("1x2", "1.7", "3.8", "5"))])
        await plain.recv_until("delta", version=4)
        await asyncio.sleep(0.3)
        assert not [m for m in plain.seen if m["type"] == "model"]


async def test_prediction_and_batch_say_ok_unknown_event_or_no_model(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-1", version=3), snapshot("ev-2", version=1)])
    await seed_mysql(mysql_settings, [snapshot("ev-db", version=1)])  # known to MySQL only
    await seed_models(redis_settings, [model_prices("ev-1", 3, home=0.45)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings,
                                prediction_batch_max=5)
    async with running_service(settings) as service, api_session() as http:
        status, body = await get_json(http, f"{service.rest_url}/v1/events/ev-1/prediction")
        assert status == 200
        assert body["model"] == "football:prior"
        assert body["training_size"] == 0
        assert body["event_version"] == 3
        assert body["computed_at"].endswith("Z")
        assert body["expected"]["home"] == 1.4
        assert body["markets"][1] == {
            "market_key": "totals|total=2.5", "type": "totals", "specifiers": {"total": "2.5"},
            "outcomes": [{"id": "over", "probability": 0.55, "fair_price": "1.82", "price": "1.73"},
                         {"id": "under", "probability": 0.45, "fair_price": "2.22", "price": "2.11"}]}
        for event_id, error in (("ev-2", "no_prediction"), ("ev-db", "no_prediction"),
                                ("nope", "not_found")):
            status, body = await get_json(http, f"{service.rest_url}/v1/events/{event_id}/prediction")
            assert (status, body["error"]) == (404, error), event_id
        status, body = await get_json(http, f"{service.rest_url}/v1/events/bad%20id/prediction")
        assert (status, body["parameter"]) == (400, "id")

        url = f"{service.rest_url}/v1/predictions/batch"
        async with http.post(url, json={"event_ids": ["ev-1", "ev-2", "nope", "ev-db", "ev-1"]}) as r:
            assert r.status == 200
            answers = (await r.json())["predictions"]
        assert [(a["event_id"], a["status"]) for a in answers] == [
            ("ev-1", "ok"), ("ev-2", "no_model"), ("nope", "unknown_event"), ("ev-db", "no_model")]
        assert answers[0]["prediction"]["event_version"] == 3
        assert answers[1]["prediction"] is None
        for payload, parameter in ((b"[1", "body"), (b"[]", "body"), (b'{"ids": []}', "ids"),
                                   (b"{}", "event_ids"), (b'{"event_ids": "ev-1"}', "event_ids"),
                                   (b'{"event_ids": []}', "event_ids"),
                                   (b'{"event_ids": ["a","b","c","d","e","f"]}', "event_ids"),
                                   (b'{"event_ids": ["ok", 7]}', "event_ids.1"),
                                   (b'{"event_ids": ["ok", "no spaces"]}', "event_ids.1")):
            async with http.post(url, data=payload) as r:
                assert r.status == 400, payload
                assert (await r.json())["parameter"] == parameter, payload
