"""The processors' updates publisher replaces a producer that fell out of step with the broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError, OutOfOrderSequenceNumber

from services.processors.runtime.publisher import Publisher
from shared.enums import MessageKind, Sport
from shared.live import EventDelta
from shared.topics import Topics

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TOPICS = Topics("t")


def delta(version: int) -> EventDelta:
    return EventDelta(event_id="ev1", sport=Sport.FOOTBALL, version=version,
                      message_id=f"m{version}", kind=MessageKind.ODDS, provider="p",
                      provider_ts=NOW, applied_at=NOW)


class FakeProducer:
    """Records what was sent; each send's future fails with ``fail`` when that is set."""

    def __init__(self, fail: BaseException | None = None, start_error: BaseException | None = None):
        self.fail = fail
        self.start_error = start_error
        self.sent: list[tuple[str, bytes]] = []
        self.batches: list[tuple[int, list[bytes | None]]] = []
        self.started = self.stopped = False

    async def start(self) -> None:
        if self.start_error is not None:
            raise self.start_error
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def flush(self) -> None:
        return None

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[Any]:
        self.sent.append((topic, value))
        return self._future()

    def _future(self) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.fail is not None:
            future.set_exception(self.fail)
        else:
            future.set_result(None)
        return future

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def create_batch(self) -> FakeBatch:
        return FakeBatch()

    async def send_batch(self, batch: FakeBatch, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self.sent.extend((topic, value) for _, value in batch.records)
        self.batches.append((partition, [key for key, _ in batch.records]))
        return self._future()


class FakeBatch:
    """A record batch that holds two records (so tests see batches fill up)."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes | None, bytes]] = []

    def append(self, *, key: bytes | None, value: bytes, timestamp: int | None) -> object | None:
        if len(self.records) == 2:
            return None
        self.records.append((key, value))
        return object()


def publisher_with(first: FakeProducer, *later: FakeProducer) -> tuple[Publisher, list[FakeProducer]]:
    made: list[FakeProducer] = []
    queue = list(later)

    def factory() -> Any:
        made.append(queue.pop(0))
        return made[-1]

    return Publisher(first, TOPICS, Sport.FOOTBALL, factory=factory), made


async def test_an_out_of_step_producer_is_replaced_before_the_next_send() -> None:
    broken, fresh = FakeProducer(fail=OutOfOrderSequenceNumber()), FakeProducer()
    publisher, made = publisher_with(broken, fresh)
    await publisher.publish([delta(1)])
    await publisher.publish([delta(2)])
    assert made == [fresh]
    assert fresh.started
    assert broken.stopped
    assert [v for _, v in fresh.sent] == [delta(2).model_dump_json(exclude_none=True).encode()]
    assert publisher.failures == 1
    assert publisher.replacements == 1
    await publisher.publish([delta(3)])  # the new producer works: no further replacement
    assert publisher.replacements == 1
    assert len(fresh.sent) == 2


async def test_an_ordinary_send_failure_keeps_the_producer() -> None:
    slow, spare = FakeProducer(fail=KafkaTimeoutError()), FakeProducer()
    publisher, made = publisher_with(slow, spare)
    await publisher.publish([delta(1)])
    slow.fail = None
    await publisher.publish([delta(2)])
    assert made == []
    assert not slow.stopped
    assert publisher.failures == 1
    assert publisher.replacements == 0
    assert len(slow.sent) == 2


async def test_a_replacement_that_cannot_start_is_tried_again_at_the_next_publish() -> None:
    broken = FakeProducer(fail=OutOfOrderSequenceNumber())
    unreachable, fresh = FakeProducer(start_error=ConnectionError("kafka away")), FakeProducer()
    publisher, made = publisher_with(broken, unreachable, fresh)
    await publisher.publish([delta(1)])
    with pytest.raises(ConnectionError):
        await publisher.publish([delta(2)])
    assert not broken.stopped
    assert len(broken.sent) == 1
    await publisher.publish([delta(2)])
    assert made == [unreachable, fresh]
    assert broken.stopped
    assert len(fresh.sent) == 1
    await publisher.close()
    assert fresh.stopped


async def test_deltas_go_out_in_record_batches_keyed_and_in_order_per_event() -> None:
    producer = FakeProducer()
    publisher, _ = publisher_with(producer)
    deltas = [delta(v) for v in range(1, 6)]
    await publisher.publish(deltas)
    assert [EventDelta.model_validate_json(v).version for _, v in producer.sent] == [1, 2, 3, 4, 5]
    # One event: one partition, whose batches fill (two records each here) and go in order.
    assert {p for p, _ in producer.batches} == {next(iter(producer.batches))[0]}
    assert [len(keys) for _, keys in producer.batches] == [2, 2, 1]
    assert all(k == b"ev1" for _, keys in producer.batches for k in keys)
