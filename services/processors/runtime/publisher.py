"""After the commit: applied deltas to ``<prefix>.<sport>.updates``, rejects to ``rejected``.

Deltas are keyed by event id, so one event's deltas stay in version order on one
partition (the producer's own partitioner picks it, as for a keyed send). A batch's
deltas go out as one record batch per partition (``send_batch``): a send per delta cost
more CPU than building the deltas. Sends are not awaited one by one (that would put a
broker round trip on every batch); failures of earlier sends are counted when the next
batch publishes, and :meth:`Publisher.flush` waits for everything on shutdown. A lost delta is visible
to clients as a version gap, after which they fetch a fresh snapshot.

A send that failed with an error after which an idempotent producer never recovers
(:data:`shared.producer.FATAL_PRODUCER_ERRORS`, e.g. after a broker restart under load)
makes the next :meth:`Publisher.publish` replace the producer before it sends anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from shared.codec import RejectedRecord, encode_rejected
from shared.enums import Sport
from shared.live import EventDelta
from shared.producer import Sends
from shared.settings import KafkaSettings
from shared.topics import Topics


class Publisher:
    """Publishes one sport's deltas and rejected records."""

    def __init__(
        self, producer: AIOKafkaProducer, topics: Topics, sport: Sport, *,
        factory: Callable[[], AIOKafkaProducer] | None = None, stop_timeout_s: float = 5.0,
    ) -> None:
        self._sends = Sends(producer, factory, what="an update", stop_timeout_s=stop_timeout_s)
        self._updates = topics.updates(sport)
        self._rejected = topics.rejected
        self._partitioner = DefaultPartitioner()

    @property
    def failures(self) -> int:
        """Sends that failed so far."""
        return self._sends.failures

    @property
    def replacements(self) -> int:
        """Producers replaced after falling out of step with the broker."""
        return self._sends.replacements

    async def publish(
        self, deltas: Sequence[EventDelta], rejected: Sequence[RejectedRecord] = ()
    ) -> None:
        """Queue the deltas (in order) and rejected records for sending."""
        self._sends.reap()
        producer = await self._sends.producer()
        if deltas:
            await self._send_deltas(producer, deltas)
        for record in rejected:
            self._sends.track(await producer.send(
                self._rejected,
                value=encode_rejected(record),
                key=(record.event_id or "").encode() or None,
            ))

    async def _send_deltas(self, producer: AIOKafkaProducer, deltas: Sequence[EventDelta]) -> None:
        """The deltas as record batches, one open batch per partition, in order."""
        partitions = sorted(await producer.partitions_for(self._updates))
        choose = self._partitioner
        track = self._sends.track
        batches: dict[int, BatchBuilder] = {}
        for delta in deltas:
            key = delta.event_id.encode()
            value = delta.model_dump_json(exclude_none=True).encode()
            partition = choose(key, partitions, partitions)
            batch = batches.get(partition)
            if batch is None:
                batch = batches[partition] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:
                # Full: send it and start the next one of this partition.
                track(await producer.send_batch(batch, self._updates, partition=partition))
                batch = batches[partition] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"a delta of {delta.event_id} does not fit a record batch")
        for partition, batch in batches.items():
            track(await producer.send_batch(batch, self._updates, partition=partition))

    async def flush(self) -> None:
        """Wait until everything queued is acknowledged (or failed)."""
        await self._sends.flush()

    async def close(self) -> None:
        """Flush, then stop the producer in use."""
        await self._sends.close()


@asynccontextmanager
async def open_publisher(
    settings: KafkaSettings, sport: Sport, *, topics: Topics | None = None
) -> AsyncIterator[Publisher]:
    """A started publisher; flushed and stopped on exit."""
    def factory() -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap,
            acks="all",
            enable_idempotence=True,
            # A batch's deltas are put in record batches by hand (one per partition, sent
            # together): a linger would only hold each of them back.
            linger_ms=0,
            max_batch_size=256 * 1024,
            compression_type=None,
        )

    producer = factory()
    await producer.start()
    publisher = Publisher(producer, topics or Topics(settings.topic_prefix), sport,
                          factory=factory)
    try:
        yield publisher
    finally:
        await publisher.close()
