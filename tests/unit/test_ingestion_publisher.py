"""The publisher replaces an idempotent producer that fell out of step with the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka.errors import OutOfOrderSequenceNumber

from services.ingestion.metrics import IngestionMetrics
from services.ingestion.publisher import KafkaPublisher
from tests.support.ingestion_client import make_settings
from tests.support.ingestion_fakes import FakeMeta, FakeProducer


class OutOfStepProducer(FakeProducer):
    """Every send fails as aiokafka's does after a broker restart under load."""

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None
    ) -> asyncio.Future[FakeMeta]:
        self.sent.append((topic, key, value))
        fut: asyncio.Future[FakeMeta] = asyncio.get_running_loop().create_future()
        fut.set_exception(OutOfOrderSequenceNumber())
        return fut


def _publisher(factory: Callable[[], FakeProducer]) -> KafkaPublisher:
    settings = make_settings(readiness_interval_s=0.05)
    return KafkaPublisher(settings, IngestionMetrics(), producer_factory=factory)


async def _ready(publisher: KafkaPublisher) -> None:
    assert await publisher.wait_ready(5.0), publisher.readiness()


async def test_out_of_order_sequence_gets_a_new_producer_and_publishing_resumes() -> None:
    made: list[FakeProducer] = []

    def factory() -> FakeProducer:
        made.append(OutOfStepProducer() if not made else FakeProducer())
        return made[-1]

    publisher = _publisher(factory)
    await publisher.start()
    try:
        await _ready(publisher)
        acks, error = await publisher.publish([("t", b"k", b"v")])
        assert acks == [None]
        assert error is not None
        assert "OutOfOrderSequenceNumber" in error
        await _ready(publisher)  # reconnected with a fresh producer
        acks, error = await publisher.publish([("t", b"k", b"v")])
        assert error is None
        assert acks[0] is not None
        assert len(made) == 2
        assert made[0].stopped
    finally:
        await publisher.stop()


async def test_an_ordinary_refusal_keeps_the_producer() -> None:
    made: list[FakeProducer] = []

    def factory() -> FakeProducer:
        made.append(FakeProducer(behaviour=lambda index, topic: "fail" if index == 0 else "ack"))
        return made[-1]

    publisher = _publisher(factory)
    await publisher.start()
    try:
        await _ready(publisher)
        _, error = await publisher.publish([("t", b"k", b"v")])
        assert error is not None
        acks, error = await publisher.publish([("t", b"k", b"v")])
        assert error is None
        assert acks[0] is not None
        assert len(made) == 1
    finally:
        await publisher.stop()
