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
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.fail is not None:
            future.set_exception(self.fail)
        else:
            future.set_result(None)
        return future


def publisher_with(first: FakeProducer, *later: FakeProducer) -> tuple[Publisher, list[FakeProducer]]:
    made: list[FakeProducer] = []
    queue = list(later)

    def factory() -> Any:
        made.append(queue.pop(0))
        return made[-1]

    return Publisher(first, TOPICS, Sport.FOOTBALL, factory=factory), made  # type: ignore[arg-type]


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
