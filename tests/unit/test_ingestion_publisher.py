"""The publisher replaces an idempotent producer that fell out of step with the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition

from services.ingestion.metrics import IngestionMetrics
from services.ingestion.publisher import CachingPartitioner, DirectSend, KafkaPublisher
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


class _Cluster:
    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return {0, 1, 2, 3, 4, 5} if topic == "known" else None


class _Accumulator:
    def __init__(self) -> None:
        self.added: list[tuple[TopicPartition, bytes, bytes, float]] = []

    async def add_message(self, tp: TopicPartition, key: bytes, value: bytes,
                          timeout: float) -> asyncio.Future[None]:  # noqa: ASYNC109
        self.added.append((tp, key, value, timeout))
        return asyncio.get_running_loop().create_future()


class _Producer:
    """The private parts of AIOKafkaProducer that DirectSend uses, and send() for the rest."""

    def __init__(self) -> None:
        self._message_accumulator = _Accumulator()
        self._request_timeout_ms = 10_000
        self._max_request_size = 1000
        self.client = type("Client", (), {"cluster": _Cluster()})()
        self.sent: list[str] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        self.sent.append(topic)
        return asyncio.get_running_loop().create_future()


async def test_a_real_producer_has_what_direct_send_uses() -> None:
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")  # never started
    assert DirectSend.supports(producer)
    send = DirectSend(producer, CachingPartitioner())
    assert send._sync
    assert send._can_send_now


async def test_send_now_ends_the_linger_of_every_waiting_batch_and_wakes_the_sender() -> None:
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", linger_ms=1000)
    send = DirectSend(producer, CachingPartitioner())
    send._partitions["t"] = (TopicPartition("t", 0), TopicPartition("t", 1))
    for key in (b"ev-1", b"ev-2", b"ev-3", b"ev-4"):
        assert send.now("t", b"v", key) is not None
    acc = producer._message_accumulator
    batches = [b for queue in acc._batches.values() for b in queue]
    assert len(batches) == 2
    assert all(b.remaining_linger() for b in batches)  # both would wait out the 1 s
    acc._waiter_future = asyncio.get_running_loop().create_future()  # the sender asleep
    assert send.send_now()
    assert all(b.remaining_linger() is None for b in batches)  # ready at the next drain
    assert acc._waiter_future.done()  # and the sender woken to drain them
    # Still open: a record handed over before the sender takes them joins its batch
    # (a closed one would make it wait until the batch was sent).
    assert send.now("t", b"v", b"ev-1") is not None
    assert sum(b.record_count for b in batches) == 5
    assert sum(len(q) for q in acc._batches.values()) == 2
    assert not DirectSend(_Producer(), CachingPartitioner()).send_now()  # not aiokafka's


async def test_direct_send_picks_kafkas_partition_and_falls_back_for_the_unusual() -> None:
    producer = _Producer()
    send = DirectSend(producer, CachingPartitioner())
    keys = [b"ev-1", b"ev-2", b"sr:match:77", b"x" * 40]
    for key in keys:
        await send("known", b"v", key)
    chosen = [tp.partition for tp, *_ in producer._message_accumulator.added]
    expected = [DefaultPartitioner()(k, [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]) for k in keys]
    assert chosen == expected
    assert producer._message_accumulator.added[0][3] == 10.0
    await send("unknown", b"v", b"k")  # not in the metadata yet: the producer's own send
    await send("known", b"v" * 2000, b"k")  # too large: send() raises the size error
    assert producer.sent == ["unknown", "known"]


async def test_direct_send_now_appends_to_the_partitions_batch_or_declines() -> None:
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", max_batch_size=1024,
                                max_request_size=2000)
    send = DirectSend(producer, CachingPartitioner())
    assert send.now("t", b"v", b"ev-1") is None  # topic not in the metadata: the await path
    tps = (TopicPartition("t", 0), TopicPartition("t", 1))
    send._partitions["t"] = tps
    tp = tps[DefaultPartitioner()(b"ev-1", [0, 1], [0, 1])]
    first = send.now("t", b"v" * 100, b"ev-1")
    assert isinstance(first, asyncio.Future)
    batches = producer._message_accumulator._batches[tp]
    assert len(batches) == 1
    assert batches[0].record_count == 1
    assert send.now("t", b"v" * 1800, b"ev-1") is None  # near the size limit: send() checks
    assert batches[0].record_count == 1
    futures = [send.now("t", b"v" * 100, b"ev-1") for _ in range(20)]
    assert None in futures  # the batch filled up: the caller awaits, as add_message would
    full = futures.index(None)
    assert full > 0
    assert batches[0].record_count == 1 + full
    producer._message_accumulator._closed = True
    assert send.now("t", b"v", b"ev-1") is None  # closing: add_message raises ProducerClosed
    assert DirectSend(_Producer(), CachingPartitioner()).now("known", b"v", b"k") is None
