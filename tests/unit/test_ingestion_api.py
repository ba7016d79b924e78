"""The ingestion HTTP API with a fake producer: status codes, bodies, rejected records."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from services.ingestion.ratelimit import RateLimiter, RateSpec
from shared.codec import decode_message
from tests.support.ingestion_client import (
    ACME_KEY,
    AUTH,
    BETA_KEY,
    JSON_HEADERS,
    harness,
)
from tests.support.ingestion_fakes import FakeProducer, odds_message

REJECTED = "unit.rejected"
FOOTBALL = "unit.football.feed"


def _bad_price(message_id: str) -> dict[str, Any]:
    msg = odds_message(message_id)
    msg["body"]["markets"][0]["outcomes"][0]["price"] = "0.5"
    return msg


async def test_single_message_is_202_only_with_kafka_position() -> None:
    async with harness() as h:
        response = await h.post_json(odds_message("m-1"))
        body = await response.json()
    assert response.status == 202
    assert body["refused"] == []
    [item] = body["accepted"]
    assert item["message_id"] == "m-1"
    assert item["event_id"] == "ev-1"
    assert item["kind"] == "odds"
    assert item["topic"] == FOOTBALL
    assert isinstance(item["partition"], int)
    assert item["offset"] == 0
    [(topic, key, value)] = h.producer.sent
    assert (topic, key) == (FOOTBALL, b"ev-1")
    sent = decode_message(value or b"")
    assert sent.provider == "acme"  # the provider comes from the key, not the payload
    assert sent.message_id == "m-1"


async def test_batch_with_a_bad_message_is_202_listing_the_refusal() -> None:
    batch = {"messages": [odds_message("m-1"), _bad_price("m-2"), odds_message("m-3")]}
    async with harness() as h:
        response = await h.post_json(batch)
        body = await response.json()
        await asyncio.sleep(0.01)
        rejected = [json.loads(v) for v in h.producer.sent_to(REJECTED)]
    assert response.status == 202
    assert [a["message_id"] for a in body["accepted"]] == ["m-1", "m-3"]
    [refused] = body["refused"]
    assert refused["index"] == 1
    assert refused["message_id"] == "m-2"
    assert refused["field"].startswith("messages[1].body.markets[0]")
    assert "price" in refused["reason"]
    [record] = rejected
    assert record["stage"] == "ingestion"
    assert record["provider"] == "acme"
    assert record["format"] == "json"
    assert record["message_id"] == "m-2"
    assert record["field"] == refused["field"]
    # The record carries the refused message's own text, not the whole batch.
    assert json.loads(record["payload"]) == batch["messages"][1]


async def test_batch_with_no_good_message_is_422() -> None:
    async with harness() as h:
        response = await h.post_json({"messages": [_bad_price("m-1"), 7]})
        body = await response.json()
    assert response.status == 422
    assert body["accepted"] == []
    assert [r["index"] for r in body["refused"]] == [0, 1]
    assert h.producer.sent_to(FOOTBALL) == []


async def test_malformed_json_is_400_with_reason_and_a_rejected_record() -> None:
    async with harness() as h:
        response = await h.client.post("/v1/feed/json", data=b"{nope", headers=JSON_HEADERS)
        body = await response.json()
        await asyncio.sleep(0.01)
        [record] = [json.loads(v) for v in h.producer.sent_to(REJECTED)]
    assert response.status == 400
    assert body["error"].startswith("malformed JSON")
    assert set(body) >= {"error", "field", "line"}
    assert record["reason"] == body["error"]
    assert record["payload"] == "{nope"
    assert record["provider"] == "acme"


async def test_an_adapter_crash_is_400_never_500() -> None:
    async with harness() as h:
        response = await h.client.post(
            "/v1/feed/xml", data=b"<boom/>", headers={**AUTH, "Content-Type": "application/xml"}
        )
        body = await response.json()
    assert response.status == 400
    assert "KeyError" in body["error"]


async def test_empty_batch_is_400() -> None:
    async with harness() as h:
        response = await h.post_json({"messages": []})
    assert response.status == 400


async def test_declared_length_over_the_limit_is_413_before_reading() -> None:
    async with harness(max_body_bytes=2048) as h:
        response = await h.client.post(
            "/v1/feed/json", data=b"x" * 4096, headers=JSON_HEADERS
        )
        body = await response.json()
    assert response.status == 413
    assert body["field"] == "Content-Length"
    assert h.producer.sent == []


async def test_chunked_body_over_the_limit_is_413() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * 1024

    async with harness(max_body_bytes=2048) as h:
        response = await h.client.post("/v1/feed/json", data=chunks(), headers=JSON_HEADERS)
    assert response.status == 413


async def test_wrong_content_type_is_415() -> None:
    async with harness() as h:
        response = await h.client.post(
            "/v1/feed/json", data=b"{}", headers={**AUTH, "Content-Type": "text/plain"}
        )
        xml = await h.client.post(
            "/v1/feed/xml", data=b"<a/>", headers={**AUTH, "Content-Type": "application/json"}
        )
    assert response.status == 415
    assert xml.status == 415


async def test_missing_or_malformed_token_is_401_with_challenge() -> None:
    async with harness() as h:
        missing = await h.client.post("/v1/feed/json", json=odds_message())
        basic = await h.client.post(
            "/v1/feed/json", json=odds_message(), headers={"Authorization": "Basic abc"}
        )
    assert missing.status == 401
    assert basic.status == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")


async def test_unknown_key_or_key_not_allowed_for_the_route_is_403() -> None:
    async with harness() as h:
        unknown = await h.client.post(
            "/v1/feed/json", json=odds_message(),
            headers={"Authorization": "Bearer not-a-real-key-0123456789"},
        )
        beta_json = await h.client.post(
            "/v1/feed/json", json=odds_message(), headers={"Authorization": f"Bearer {BETA_KEY}"}
        )
        beta_error = (await beta_json.json())["error"]
    assert unknown.status == 403
    assert beta_json.status == 403
    assert beta_error == "API key not allowed for this format"


async def test_over_the_rate_limit_is_429_with_retry_after() -> None:
    limiter = RateLimiter(RateSpec(rate=1.0, burst=3))
    batch = {"messages": [odds_message(f"m-{i}") for i in range(3)]}
    async with harness(limiter=limiter) as h:
        first = await h.post_json(batch)
        second = await h.post_json(odds_message("m-9"))
        body = await second.json()
    assert first.status == 202  # three messages cost the whole burst of three
    assert second.status == 429
    assert int(second.headers["Retry-After"]) >= 1
    assert body["error"] == "rate limit exceeded"


async def test_kafka_never_connected_is_503_with_retry_after_and_nothing_claimed() -> None:
    producer = FakeProducer(reachable=False)
    async with harness(producer=producer, wait_ready=False) as h:
        response = await h.post_json({"messages": [odds_message("m-1"), odds_message("m-2")]})
        body = await response.json()
        ready = await h.client.get("/readyz")
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert body["accepted"] == []
    assert [f["message_id"] for f in body["failed"]] == ["m-1", "m-2"]
    assert all(f["retryable"] for f in body["failed"])
    assert ready.status == 503


async def test_partly_acknowledged_batch_claims_exactly_what_kafka_acknowledged() -> None:
    producer = FakeProducer(behaviour=lambda i, topic: "fail" if i == 1 else "ack")
    batch = {"messages": [odds_message(f"m-{i}") for i in range(3)]}
    async with harness(producer=producer) as h:
        response = await h.post_json(batch)
        body = await response.json()
    assert response.status == 503
    assert "Retry-After" in response.headers
    assert [a["message_id"] for a in body["accepted"]] == ["m-0", "m-2"]
    assert [f["message_id"] for f in body["failed"]] == ["m-1"]
    assert "fake broker said no" in body["error"]


async def test_acknowledgement_timeout_is_503_claiming_nothing_unacknowledged() -> None:
    producer = FakeProducer(behaviour=lambda i, topic: "hang" if i == 0 else "ack")
    async with harness(producer=producer, publish_timeout_s=0.1) as h:
        response = await h.post_json({"messages": [odds_message("m-0"), odds_message("m-1")]})
        body = await response.json()
    assert response.status == 503
    assert [a["message_id"] for a in body["accepted"]] == ["m-1"]
    assert [f["message_id"] for f in body["failed"]] == ["m-0"]


async def test_acks_are_awaited_together_not_one_by_one() -> None:
    """The fake acks nothing until every record of the batch was handed over."""
    count = 50
    producer = FakeProducer(behaviour=lambda i, topic: "hang")

    async with harness(producer=producer, publish_timeout_s=1.0) as h:
        original_send = producer.send
        pending: list[asyncio.Future[Any]] = []

        async def send(topic: str, value: bytes | None = None, key: bytes | None = None) -> Any:
            fut = await original_send(topic, value, key)
            pending.append(fut)
            if len(pending) == count:  # only now resolve them all
                for n, f in enumerate(pending):
                    f.set_result(type("M", (), {"partition": 0, "offset": n})())
            return fut

        producer.send = send  # type: ignore[method-assign]
        response = await h.post_json({"messages": [odds_message(f"m-{i}") for i in range(count)]})
        accepted = (await response.json())["accepted"]
    assert response.status == 202
    assert len(accepted) == count


async def test_uof_sport_comes_from_the_routing_key() -> None:
    msg = odds_message("u-1")
    headers = {**AUTH, "Content-Type": "application/xml"}
    async with harness() as h:
        by_header = await h.client.post(
            "/v1/feed/uof", data=json.dumps(msg).encode(),
            headers={**headers, "X-UOF-Routing-Key": "hi.-.live.odds_change.1.sr:match.1.-"},
        )
        by_query = await h.client.post(
            "/v1/feed/uof?sport_id=sr:sport:1", data=json.dumps(msg).encode(), headers=headers
        )
        missing = await h.client.post("/v1/feed/uof", data=b"{}", headers=headers)
        bad = await h.client.post(
            "/v1/feed/uof", data=b"{}", headers={**headers, "X-UOF-Sport": "sr:sport:999"}
        )
        bad_field = (await bad.json())["field"]
        await asyncio.sleep(0.01)
        rejected = [json.loads(v)["reason"] for v in h.producer.sent_to(REJECTED)]
        header_topic = (await by_header.json())["accepted"][0]["topic"]
    assert by_header.status == 202
    assert header_topic == FOOTBALL
    assert by_query.status == 202
    assert missing.status == 400
    assert bad.status == 400
    assert bad_field == "X-UOF-Sport"
    assert len(rejected) == 2  # an unroutable UOF payload is recorded too
    assert rejected[0].startswith("UOF needs its sport")


async def test_healthz_is_alive_even_when_kafka_is_not() -> None:
    async with harness(producer=FakeProducer(reachable=False), wait_ready=False) as h:
        response = await h.client.get("/healthz")
    assert response.status == 200


async def test_readyz_turns_503_when_metadata_goes_stale() -> None:
    producer = FakeProducer()
    async with harness(
        producer=producer, readiness_interval_s=0.02, readiness_max_age_s=0.1
    ) as h:
        assert (await h.client.get("/readyz")).status == 200
        producer.reachable = False
        await asyncio.sleep(0.5)
        stale = await h.client.get("/readyz")
        refused = await h.post_json(odds_message())
        producer.reachable = True
        assert await h.ctx.publisher.wait_ready(2.0)
        again = await h.client.get("/readyz")
        reason = (await stale.json())["reason"]
    assert stale.status == 503
    assert "stale" in reason
    assert refused.status == 503
    assert again.status == 200


async def test_a_closing_service_answers_503_to_new_requests() -> None:
    async with harness() as h:
        h.ctx.closing = True
        response = await h.post_json(odds_message())
        health = await h.client.get("/healthz")
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert health.status == 200


async def test_shutdown_flushes_and_stops_the_producer() -> None:
    async with harness() as h:
        producer = h.producer
    assert producer.flushed
    assert producer.stopped


async def test_unknown_route_is_404_not_5xx() -> None:
    async with harness() as h:
        response = await h.client.post("/v1/feed/csv", data=b"x", headers=AUTH)
    assert response.status == 404


async def test_key_in_authorization_header_is_the_whole_credential() -> None:
    async with harness() as h:
        padded = await h.client.post(
            "/v1/feed/json", json=odds_message(), headers={"Authorization": f"bearer  {ACME_KEY}"}
        )
    assert padded.status == 202


async def test_a_send_that_raises_midway_reports_the_rest_as_failed() -> None:
    producer = FakeProducer()
    original = producer.send

    async def send(topic: str, value: bytes | None = None, key: bytes | None = None) -> Any:
        if len(producer.sent) == 1:
            raise RuntimeError("accumulator closed")
        return await original(topic, value, key)

    producer.send = send  # type: ignore[method-assign]
    async with harness(producer=producer) as h:
        response = await h.post_json({"messages": [odds_message(f"m-{i}") for i in range(3)]})
        body = await response.json()
    assert response.status == 503
    assert [a["message_id"] for a in body["accepted"]] == ["m-0"]
    assert [f["message_id"] for f in body["failed"]] == ["m-1", "m-2"]
    assert "accumulator closed" in body["error"]


async def test_a_missing_topic_keeps_the_service_unready_and_says_which() -> None:
    producer = FakeProducer(missing_topics=frozenset({"unit.tennis.feed"}))
    async with harness(producer=producer, wait_ready=False) as h:
        await asyncio.sleep(0.05)
        response = await h.client.get("/readyz")
        body = await response.json()
        posted = await h.post_json(odds_message())
    assert response.status == 503
    assert "unit.tennis.feed" in body["reason"]
    assert posted.status == 503
