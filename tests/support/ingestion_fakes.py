"""Fakes for the ingestion unit tests: a recording Kafka producer and tiny adapters.

The fake producer behaves like ``AIOKafkaProducer`` where the service looks: ``send``
returns a future resolved later with a record's partition and offset (or an error, or
never), and ``client.force_metadata_update`` says whether Kafka answered.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import ValidationError

from services.ingestion.adapters.base import (
    AdapterError,
    ParseResult,
    Refusal,
    refusal_from_validation,
)
from services.ingestion.context import Adapters
from shared.enums import Sport
from shared.model import FeedMessage

T0 = "2026-05-01T18:00:00Z"


class FakeMeta(NamedTuple):
    """What aiokafka's RecordMetadata offers the service."""

    topic: str
    partition: int
    offset: int


class _Cluster:
    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1}


class _Client:
    def __init__(self, producer: FakeProducer) -> None:
        self._producer = producer
        self.cluster = _Cluster()

    def force_metadata_update(self) -> asyncio.Future[bool]:
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        fut.set_result(self._producer.reachable)
        return fut


# Behaviour of one send: "ack", "fail" or "hang" (never resolved).
Behaviour = Callable[[int, str], str]


class FakeProducer:
    """Records every send; resolves futures on the next loop turn per ``behaviour``."""

    def __init__(
        self, *, reachable: bool = True, behaviour: Behaviour | None = None,
        missing_topics: frozenset[str] = frozenset(),
    ) -> None:
        self.reachable = reachable
        self.missing_topics = missing_topics
        self.behaviour = behaviour or (lambda index, topic: "ack")
        self.sent: list[tuple[str, bytes | None, bytes | None]] = []
        self.offsets: dict[tuple[str, int], int] = {}
        self.client = _Client(self)
        self.started = self.stopped = self.flushed = False

    async def start(self) -> None:
        if not self.reachable:
            raise ConnectionError("fake Kafka unreachable")
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def flush(self) -> None:
        self.flushed = True

    async def partitions_for(self, topic: str) -> set[int]:
        if topic in self.missing_topics:
            raise LookupError(f"UnknownTopicOrPartitionError: {topic}")
        return {0, 1}

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None
    ) -> asyncio.Future[FakeMeta]:
        index = len(self.sent)
        self.sent.append((topic, key, value))
        fut: asyncio.Future[FakeMeta] = asyncio.get_running_loop().create_future()
        what = self.behaviour(index, topic)
        partition = zlib.crc32(key or b"") % 2
        if what == "ack":
            offset = self.offsets.get((topic, partition), 0)
            self.offsets[(topic, partition)] = offset + 1
            asyncio.get_running_loop().call_soon(
                _settle, fut, FakeMeta(topic, partition, offset), None
            )
        elif what == "fail":
            asyncio.get_running_loop().call_soon(
                _settle, fut, None, RuntimeError("fake broker said no")
            )
        return fut

    def sent_to(self, topic: str) -> list[bytes]:
        """The values sent to one topic."""
        return [v or b"" for t, _, v in self.sent if t == topic]


def _settle(fut: asyncio.Future[FakeMeta], meta: FakeMeta | None, exc: Exception | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        assert meta is not None
        fut.set_result(meta)


def _messages_from(items: list[Any], provider: str, received_at: datetime) -> ParseResult:
    result = ParseResult()
    for index, item in enumerate(items):
        prefix = f"messages[{index}]"
        if not isinstance(item, dict):
            result.refusals.append(Refusal(reason=f"{prefix}: not an object", field=prefix,
                                           index=index))
            continue
        data = {**item, "provider": provider, "received_at": received_at}
        try:
            result.messages.append(FeedMessage.model_validate(data))
        except ValidationError as exc:
            mid = item.get("message_id")
            result.refusals.append(refusal_from_validation(
                exc, prefix=prefix, index=index, message_id=mid if isinstance(mid, str) else None,
            ))
    return result


def fake_parse_json(raw: bytes, *, provider: str, received_at: datetime) -> ParseResult:
    """``{"messages": [...]}`` or one message object, in the canonical shape."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise AdapterError(Refusal(reason=f"malformed JSON: {exc}")) from exc
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        return _messages_from(doc["messages"], provider, received_at)
    if isinstance(doc, dict):
        return _messages_from([doc], provider, received_at)
    raise AdapterError(Refusal(reason="JSON payload must be an object"))


def fake_parse_xml(raw: bytes, *, provider: str, received_at: datetime) -> ParseResult:
    """Only ``<boom/>`` (crashes, to prove crashes are 400s) or malformed."""
    if raw.strip() == b"<boom/>":
        raise KeyError("adapter bug")
    raise AdapterError(Refusal(reason="malformed XML", line=1))


def fake_parse_uof(
    raw: bytes, *, provider: str, received_at: datetime, sport: Sport
) -> ParseResult:
    """JSON again, with the sport forced from the routing key."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise AdapterError(Refusal(reason="malformed UOF")) from exc
    return _messages_from([{**doc, "sport": sport.value}], provider, received_at)


def fake_sport_from_routing(value: str) -> Sport:
    """``...sr:match...`` keys of sport 1 or 2; ``sr:sport:N`` ids."""
    ids = {"1": Sport.FOOTBALL, "2": Sport.BASKETBALL, "5": Sport.TENNIS, "4": Sport.ICE_HOCKEY}
    parts = value.replace("sr:sport:", "").split(".")
    for part in (parts[-2] if len(parts) > 2 else "", parts[0]):
        if part in ids:
            return ids[part]
    raise ValueError(f"no sport in routing key {value!r}")


def fake_adapters() -> Adapters:
    """The fake adapters, bundled for ``create_app``."""
    return Adapters(
        parse_json=fake_parse_json, parse_xml=fake_parse_xml, parse_uof=fake_parse_uof,
        sport_from_uof_routing=fake_sport_from_routing,
    )


def odds_message(message_id: str = "m-1", event_id: str = "ev-1", **extra: Any) -> dict[str, Any]:
    """A valid football odds message in the canonical JSON shape."""
    return {
        "message_id": message_id, "sport": "football", "event_id": event_id, "kind": "odds",
        "provider_ts": T0,
        "body": {"markets": [{"market_key": "1x2", "outcomes": [
            {"id": "home", "price": "2.10"}, {"id": "draw", "price": "3.40"},
            {"id": "away", "price": "3.60"},
        ]}]},
        **extra,
    }
