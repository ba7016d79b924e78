"""After the commit: applied deltas to ``<prefix>.<sport>.updates``, rejects to ``rejected``.

Deltas are keyed by event id, so one event's deltas stay in version order on one
partition. Sends are not awaited one by one (that would put a broker round trip on
every batch); failures of earlier sends are counted when the next batch publishes,
and :meth:`Publisher.flush` waits for everything on shutdown. A lost delta is visible
to clients as a version gap, after which they fetch a fresh snapshot.

A send that failed with an error after which an idempotent producer never recovers
(:data:`shared.producer.FATAL_PRODUCER_ERRORS`, e.g. after a broker restart under load)
makes the next :meth:`Publisher.publish` replace the producer before it sends anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer

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
        send = (await self._sends.producer()).send
        track = self._sends.track
        for delta in deltas:
            track(await send(
                self._updates,
                value=delta.model_dump_json(exclude_none=True).encode(),
                key=delta.event_id.encode(),
            ))
        for record in rejected:
            track(await send(
                self._rejected,
                value=encode_rejected(record),
                key=(record.event_id or "").encode() or None,
            ))

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
            linger_ms=5,
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
