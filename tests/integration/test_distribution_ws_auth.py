"""Consumer keys on the WebSocket against the real stack: where a key is presented, scopes,
sports outside the key, limits per key, the time to present one, and a revoked key."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from services.distribution.keys import KeyConfigError
from services.distribution.service import DistributionService
from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    TEST_KEY,
    TEST_KEYS,
    WsClient,
    api_session,
    delta,
    get_json,
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

FOOTBALL_KEY = "football-ws-key-0123456789"
REST_KEY = "rest-no-ws-key-0123456789"
SMALL_KEY = "small-limits-key-0123456789"
KEYS = ",".join([
    TEST_KEYS,
    f"fbws:{FOOTBALL_KEY}:ws|rest|football",
    f"restonly:{REST_KEY}:rest",
    f"small:{SMALL_KEY}:ws|predictions:connections=2|subscriptions=3",
])
MAIN = {Sport.FOOTBALL: "1x2", Sport.ICE_HOCKEY: "1x2", Sport.BASKETBALL: "moneyline",
        Sport.TENNIS: "moneyline"}


def main_market(sport: Sport, home: str) -> Any:
    """The sport's main market with the home price ``home``."""
    return market("1x2", home, "3.4", "3.6") if MAIN[sport] == "1x2" else market("moneyline", home, "2.6")


async def closed_with(client: WsClient, within: float = 10) -> tuple[int | None, str | None]:
    """Read until the server closes; its close code and reason."""
    with pytest.raises(ConnectionClosed):
        await client.recv_until("never", within=within)
    return client.conn.close_code, client.conn.close_reason


@pytest.fixture
async def service(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> Any:
    """A live event of each sport, and four keys."""
    await seed_redis(redis_settings, [snapshot(f"{s.value}-1", s, markets=[main_market(s, "2.1")])
                                      for s in Sport])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings,
                                api_keys=SecretStr(KEYS), ws_auth_timeout_s=1.0)
    async with running_service(settings) as running:
        yield running


async def test_a_key_is_taken_from_the_header_the_query_or_the_first_message(
    service: DistributionService,
) -> None:
    url = service.ws_url
    async with ws_client(url) as client:  # Authorization: Bearer in the handshake
        assert client.seen[0]["key"] == "tests"
        assert client.seen[0]["token_required"] is False
        await client.send(type="subscribe", event_ids=["football-1"])
        assert (await client.recv_until("snapshot"))["version"] == 1
    async with ws_client(url + f"?token={TEST_KEY}", key=None) as client:
        await client.send(type="subscribe", event_ids=["football-1"])
        assert (await client.recv_until("snapshot"))["version"] == 1
    async with ws_client(url, key=None) as client:
        assert client.seen[0]["token_required"] is True
        await client.send(type="auth", token=FOOTBALL_KEY)
        ack = await client.recv_until("authenticated")
        assert (ack["key"], ack["scopes"]) == ("fbws", ["rest", "ws", "football"])
    async with ws_client(url, key=None) as client:
        await client.send(type="subscribe", event_ids=["football-1"], token=TEST_KEY)
        assert (await client.recv_until("snapshot"))["version"] == 1


async def test_no_key_a_wrong_one_or_one_without_ws_is_refused(service: DistributionService) -> None:
    url = service.ws_url
    async with ws_client(url, key=None) as client:
        await client.send(type="subscribe", event_ids=["football-1"])
        assert await closed_with(client) == (4001, "a consumer key is required: send auth with your key")
    async with ws_client(url, key=None) as client:
        await client.send(type="auth", token="not-a-configured-key-000")
        assert await closed_with(client) == (4001, "invalid consumer key")
    async with ws_client(url, key=None) as client:
        await client.send(type="auth", token=REST_KEY)
        assert await closed_with(client) == (4003, "key 'restonly' does not allow the ws surface")
    async with ws_client(url, key=None) as client:  # says nothing: closed after the timeout
        assert await closed_with(client) == (4001, "no consumer key within 1 s")
    for headers, status in (({"Authorization": "Bearer wrong-key-0000000000"}, 401),
                            ({"Authorization": f"Bearer {REST_KEY}"}, 403)):
        with pytest.raises(InvalidStatus) as refused:
            async with asyncio.timeout(5), connect(url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == status
    with pytest.raises(InvalidStatus) as refused:
        async with asyncio.timeout(5), connect(url + "?token=wrong-key-0000000000"):
            pass
    assert refused.value.response.status_code == 401


async def test_a_football_key_subscribing_to_every_sport_receives_football_alone(
    service: DistributionService, kafka_settings: KafkaSettings,
) -> None:
    async with ws_client(service.ws_url, key=FOOTBALL_KEY) as client, \
            publisher(kafka_settings) as producer:
        await client.send(type="subscribe", sports=[s.value for s in Sport], model=True)
        refused = await client.recv_until("error", field="sports")
        assert (refused["code"], refused["sports"]) == ("forbidden", ["basketball", "ice_hockey", "tennis"])
        no_model = await client.recv_until("error", field="model")
        assert no_model["scope"] == "predictions"
        ack = await client.recv_until("subscribed")
        assert (ack["sports"], ack["model"]) == (["football"], False)
        assert (await client.recv_until("snapshot"))["event_id"] == "football-1"
        # By id, too: an event of another sport is refused when its snapshot would go out.
        await client.send(type="subscribe", id="one", event_ids=["tennis-1"])
        forbidden = await client.recv_until("error", event_id="tennis-1")
        assert (forbidden["code"], forbidden["sport"]) == ("forbidden", "tennis")
        others = [delta(f"{s.value}-1", 2, main_market(s, "2.3"), sport=s)
                  for s in Sport if s is not Sport.FOOTBALL]
        await publish(producer, kafka_settings, others)
        await asyncio.sleep(1.0)
        await publish(producer, kafka_settings, [delta("football-1", 2, main_market(Sport.FOOTBALL, "2.2"))])
        assert (await client.recv_until("delta"))["event_id"] == "football-1"
        await publish(producer, kafka_settings, [
            delta(f"{s.value}-1", 3, main_market(s, "2.4"), sport=s) for s in Sport])
        assert (await client.recv_until("delta"))["version"] == 3
        await asyncio.sleep(1.0)
        await client.send(type="heartbeat")
        await client.recv_until("heartbeat", echo=None)
    events = {m["event_id"] for m in client.seen if m["type"] in ("snapshot", "delta", "model")}
    assert events == {"football-1"}


async def test_connections_and_subscriptions_are_limited_per_key_others_unaffected(
    service: DistributionService,
) -> None:
    url = service.ws_url
    async with ws_client(url, key=SMALL_KEY) as first, ws_client(url, key=SMALL_KEY) as second:
        # The third is closed before its welcome, after the key's refusal pause (0.25 s).
        loop = asyncio.get_running_loop()
        async with connect(url, additional_headers={"Authorization": f"Bearer {SMALL_KEY}"}) as third:
            began = loop.time()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(third.recv(), 10)
            assert loop.time() - began >= 0.2
            assert (third.close_code, third.close_reason) == (
                4029, "key 'small' has 2 connections open, its limit")
        async with ws_client(url) as other:  # another key: not counted against small's
            await other.send(type="subscribe", sports=[s.value for s in Sport])
            assert (await other.recv_until("subscribed"))["sports"]
        await first.send(type="subscribe", sports=["football", "tennis"])
        await first.recv_until("subscribed")
        await second.send(type="subscribe", event_ids=["basketball-1"])
        await second.recv_until("subscribed")
        await second.send(type="subscribe", id="more", event_ids=["ice_hockey-1"])
        limit = await second.recv_until("error", code="limit")
        assert limit["limit"] == 3
        assert "would make 4" in limit["message"]
        # The connection stays, and what it had still works.
        await second.send(type="resync")
        assert (await second.recv_until("snapshot"))["event_id"] == "basketball-1"
    # Both closed (once the server has seen them go): the key may connect again.
    await asyncio.sleep(0.5)
    async with ws_client(url, key=SMALL_KEY) as again:
        await again.send(type="subscribe", sports=["football", "tennis", "basketball"])
        assert (await again.recv_until("subscribed"))["sports"] == ["basketball", "football", "tennis"]


async def test_a_revoked_key_is_refused_and_its_sockets_closed_while_others_stay(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    await seed_redis(redis_settings, [snapshot("football-1", markets=[main_market(Sport.FOOTBALL, "2.1")])])
    keys = tmp_path / "consumer-keys"
    keys.write_text(f"# name key scopes\nalpha {FOOTBALL_KEY} all\nbeta {SMALL_KEY} ws,rest\n"
                    f"gamma {REST_KEY} ws,rest\n")
    settings = service_settings(kafka_settings, mysql_settings, redis_settings, api_keys=None,
                                api_keys_file=keys)
    async with running_service(settings) as service, \
            ws_client(service.ws_url, key=FOOTBALL_KEY) as alpha, \
            ws_client(service.ws_url, key=SMALL_KEY) as beta, \
            ws_client(service.ws_url, key=REST_KEY) as gamma:
        for client in (alpha, beta, gamma):
            await client.send(type="subscribe", event_ids=["football-1"])
            await client.recv_until("snapshot")
        # alpha goes; gamma loses ws; beta's limits change, its scopes do not.
        keys.write_text(f"beta {SMALL_KEY} ws,rest connections=5\ngamma {REST_KEY} rest\n")
        assert service.reload_keys()
        assert await closed_with(alpha) == (4001, "key revoked")
        assert await closed_with(gamma) == (4003, "the key's scopes changed: reconnect")
        await beta.send(type="heartbeat", ts="still")
        assert (await beta.recv_until("heartbeat", echo="still"))["type"] == "heartbeat"
        async with api_session(FOOTBALL_KEY) as http:
            assert (await get_json(http, service.rest_url + "/v1/events"))[0] == 401
        async with api_session(SMALL_KEY) as http:
            assert (await get_json(http, service.rest_url + "/v1/events"))[0] == 200
        # A broken file changes nothing: the keys in force stay.
        keys.write_text("beta short rest\n")
        assert not service.reload_keys()
        async with api_session(SMALL_KEY) as http:
            assert (await get_json(http, service.rest_url + "/v1/events"))[0] == 200


async def test_with_the_check_off_anyone_reads_and_without_keys_the_service_will_not_start(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(KeyConfigError, match="no consumer keys configured"):
        DistributionService(service_settings(kafka_settings, mysql_settings, redis_settings,
                                             api_keys=None))
    await seed_redis(redis_settings, [snapshot("ev-o", version=2)])
    settings = service_settings(kafka_settings, mysql_settings, redis_settings, auth="off",
                                api_keys=None)
    with caplog.at_level("WARNING", logger="services.distribution.access"):
        async with running_service(settings) as service, ws_client(service.ws_url, key=None) as client:
            assert client.seen[0]["token_required"] is False
            await client.send(type="subscribe", event_ids=["ev-o"])
            assert (await client.recv_until("snapshot"))["version"] == 2
            async with api_session(None) as http:
                status, body = await get_json(http, service.rest_url + "/v1/access/key")
            assert (status, body["name"], body["auth"], body["limits"]) == (200, "anonymous", "off", None)
    assert "CONSUMER KEY CHECK IS OFF" in caplog.text
