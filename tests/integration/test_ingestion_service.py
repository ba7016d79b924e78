"""The ingestion service against the real Kafka: what is POSTed is what lands on the topic."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from services.ingestion.adapters import parse_json, parse_uof, parse_xml
from shared.codec import decode_message
from shared.enums import Sport
from shared.model import FeedMessage, utc_now
from shared.settings import KafkaSettings
from tests.support.ingestion import PROVIDER, consume, odds_doc, running

pytestmark = pytest.mark.integration

LIVE_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<message id="x-1" sport="ice_hockey" event_id="demo:match:42" ts="2026-01-20T21:48:00Z">
  <live status="ended">
    <score home="3" away="2">
      <period name="p1" home="1" away="0"/><period name="p2" home="0" away="1"/>
      <period name="p3" home="1" away="1"/><period name="ot1" home="0" away="0"/>
      <period name="so" home="2" away="1"/>
    </score>
  </live>
</message>"""

UOF_ODDS = b"""<odds_change event_id="sr:match:77" timestamp="1760000000000" product="1">
<odds><market id="1" status="1"><outcome id="1" odds="2.10" active="1"/>
<outcome id="2" odds="3.30" active="1"/><outcome id="3" odds="3.60" active="1"/></market>
</odds></odds_change>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<message sport="football" event_id="&lol9;" ts="2026-01-20T21:48:00Z"><alive/></message>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE message [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<message sport="football" event_id="ev-1" ts="2026-01-20T21:48:00Z">
  <bet_stop reason="&xxe;"/>
</message>"""


def _same(landed: FeedMessage, made: FeedMessage) -> None:
    # received_at is the service's clock at receipt; everything else is the adapter's.
    assert landed.model_dump(exclude={"received_at"}) == made.model_dump(exclude={"received_at"})


async def test_posted_json_lands_on_each_sports_feed_topic_as_the_adapter_made_it(
    kafka_settings: KafkaSettings,
) -> None:
    payload = json.dumps({"messages": [
        odds_doc("j-1", "ev-1"), odds_doc("j-2", "ev-2", "basketball"), odds_doc("j-3", "ev-3"),
    ]}).encode()
    made = parse_json(payload, provider=PROVIDER, received_at=utc_now()).messages
    async with running(kafka_settings) as svc:
        status, _, body = await svc.post("json", payload, "application/json")
    assert status == 202, body
    assert [a["message_id"] for a in body["accepted"]] == ["j-1", "j-2", "j-3"]
    football = await consume(kafka_settings, svc.topics.feed(Sport.FOOTBALL), 2)
    basketball = await consume(kafka_settings, svc.topics.feed(Sport.BASKETBALL), 1)
    landed = {decode_message(r.value).message_id: (r, decode_message(r.value))
              for r in [*football, *basketball]}
    for expected, claim in zip(made, body["accepted"], strict=True):
        record, message = landed[expected.message_id]
        _same(message, expected)
        assert message.provider == PROVIDER
        assert record.key == expected.event_id.encode()
        assert (record.topic, record.partition, record.offset) == (
            claim["topic"], claim["partition"], claim["offset"])


async def test_a_request_alone_does_not_wait_out_the_linger(
    kafka_settings: KafkaSettings,
) -> None:
    # The linger lets concurrent requests share a batch; a request alone has no one to
    # share with. With a linger of 1 s, its acknowledgement must not take that second.
    async with running(kafka_settings, kafka_linger_ms=1000) as svc:
        took = []
        for n in range(3):
            payload = json.dumps({"messages": [odds_doc(f"l-{n}", f"ev-{n}")]}).encode()
            started = time.monotonic()
            status, _, body = await svc.post("json", payload, "application/json")
            took.append(time.monotonic() - started)
            assert status == 202, body
        assert svc.ctx.publisher.sent_at_once == 3
    assert max(took) < 0.9, took
    assert len(await consume(kafka_settings, svc.topics.feed(Sport.FOOTBALL), 3)) == 3


async def test_a_request_lingers_while_another_has_yet_to_hand_its_records_over(
    kafka_settings: KafkaSettings,
) -> None:
    # Another request is in flight, its body still coming: it may share the batch, so the
    # first one's records wait out the linger (1 s); the second, once alone, does not.
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"messages": ['
        await release.wait()
        yield json.dumps(odds_doc("s-2", "ev-2")).encode() + b"]}"

    async with running(kafka_settings, kafka_linger_ms=1000) as svc:
        second = asyncio.create_task(svc.client.post(
            "/v1/feed/json", data=slow_body(),
            headers={**svc.auth, "Content-Type": "application/json"}))
        async with asyncio.timeout(5):
            while svc.ctx.in_flight < 1:  # noqa: ASYNC110 - the app counts, it has no event
                await asyncio.sleep(0.01)
        payload = json.dumps({"messages": [odds_doc("s-1", "ev-1")]}).encode()
        started = time.monotonic()
        status, _, body = await svc.post("json", payload, "application/json")
        first_took = time.monotonic() - started
        assert status == 202, body
        release.set()
        started = time.monotonic()
        response = await second
        second_took = time.monotonic() - started
        assert response.status == 202, await response.text()
        assert svc.ctx.publisher.sent_at_once == 1
    assert first_took >= 0.9, first_took
    assert second_took < 0.9, second_took


async def test_posted_xml_lands_on_the_feed_topic_as_the_adapter_made_it(
    kafka_settings: KafkaSettings,
) -> None:
    [made] = parse_xml(LIVE_XML, provider=PROVIDER, received_at=utc_now()).messages
    async with running(kafka_settings) as svc:
        status, _, body = await svc.post("xml", LIVE_XML, "application/xml")
    assert status == 202, body
    [record] = await consume(kafka_settings, svc.topics.feed(Sport.ICE_HOCKEY), 1)
    landed = decode_message(record.value)
    _same(landed, made)
    assert landed.message_id == "x-1" == body["accepted"][0]["message_id"]


async def test_posted_uof_lands_on_the_routing_keys_sport_topic(
    kafka_settings: KafkaSettings,
) -> None:
    [made] = parse_uof(UOF_ODDS, provider=PROVIDER, received_at=utc_now(),
                       sport=Sport.FOOTBALL).messages
    async with running(kafka_settings) as svc:
        status, _, body = await svc.post(
            "uof", UOF_ODDS, "application/xml",
            **{"X-UOF-Routing-Key": "hi.-.live.odds_change.1.sr:match.77.-"},
        )
    assert status == 202, body
    [record] = await consume(kafka_settings, svc.topics.feed(Sport.FOOTBALL), 1)
    _same(decode_message(record.value), made)
    assert record.key == b"sr:match:77"


async def test_malformed_json_is_400_and_recorded_on_the_rejected_topic(
    kafka_settings: KafkaSettings,
) -> None:
    async with running(kafka_settings) as svc:
        status, _, body = await svc.post("json", b'{"messages": [', "application/json")
    assert status == 400
    assert "malformed JSON" in body["error"]
    [record] = await consume(kafka_settings, svc.topics.rejected, 1)
    rejected = json.loads(record.value)
    assert record.key == PROVIDER.encode()
    assert rejected["reason"] == body["error"]
    assert rejected["stage"] == "ingestion"
    assert rejected["format"] == "json"
    assert rejected["payload"] == '{"messages": ['


async def test_a_bad_message_is_refused_with_its_field_and_recorded_with_its_reason(
    kafka_settings: KafkaSettings,
) -> None:
    bad = odds_doc("bad-1", "ev-9")
    bad["body"]["markets"][0]["outcomes"][1]["price"] = "abc"
    payload = json.dumps({"messages": [odds_doc("good-1"), bad]}).encode()
    async with running(kafka_settings) as svc:
        status, _, body = await svc.post("json", payload, "application/json")
    assert status == 202
    [refused] = body["refused"]
    assert refused["message_id"] == "bad-1"
    assert refused["field"] == "messages[1].body.markets[0].outcomes[1].price"
    [record] = await consume(kafka_settings, svc.topics.rejected, 1)
    rejected = json.loads(record.value)
    assert rejected["reason"] == refused["reason"]
    assert rejected["field"] == refused["field"]
    assert rejected["message_id"] == "bad-1"
    assert rejected["event_id"] == "ev-9"
    assert json.loads(rejected["payload"]) == bad  # the message's own text, not the batch
    [landed] = await consume(kafka_settings, svc.topics.feed(Sport.FOOTBALL), 1)
    assert decode_message(landed.value).message_id == "good-1"


@pytest.mark.parametrize(("fmt", "payload"), [
    ("xml", BILLION_LAUGHS), ("uof", BILLION_LAUGHS), ("xml", XXE), ("uof", XXE),
])
async def test_billion_laughs_and_xxe_are_refused_through_http(
    kafka_settings: KafkaSettings, fmt: str, payload: bytes,
) -> None:
    async with running(kafka_settings) as svc:
        status, _, body = await svc.post(fmt, payload, "application/xml", **{"X-UOF-Sport": "1"})
        feed_empty = all(not m.samples for m in svc.ctx.metrics.accepted.collect())
    assert 400 <= status < 500
    assert "DOCTYPE" in body["error"]
    assert "root:" not in json.dumps(body)  # nothing of /etc/passwd came back
    assert feed_empty
    [record] = await consume(kafka_settings, svc.topics.rejected, 1)
    assert "DOCTYPE" in json.loads(record.value)["reason"]


async def test_kafka_unreachable_is_503_with_retry_after_and_nothing_claimed(
    kafka_settings: KafkaSettings,
) -> None:
    dead = kafka_settings.model_copy(update={"bootstrap": "127.0.0.1:1"})
    async with running(dead, wait=False) as svc:
        ready = await svc.client.get("/readyz")
        status, headers, body = await svc.post(
            "json", json.dumps({"messages": [odds_doc("k-1"), odds_doc("k-2")]}).encode(),
            "application/json",
        )
        health = await svc.client.get("/healthz")
    assert ready.status == 503
    assert health.status == 200
    assert status == 503
    assert int(headers["Retry-After"]) >= 1
    assert body["accepted"] == []
    assert {f["message_id"] for f in body["failed"]} == {"k-1", "k-2"}
