"""After the commit: applied deltas to ``<prefix>.<sport>.updates``, rejects to ``rejected``.

Deltas are keyed by event id, so one event's deltas stay in version order on one
partition. Sends are not awaited one by one (that would put a broker round trip on
every batch); failures of earlier sends are counted when the next batch publishes,
and :meth:`Publisher.flush` waits for everything on shutdown. A lost delta is visible
to clients as a version gap, after which they fetch a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer

from shared.codec import RejectedRecord, encode_rejected
from shared.enums import Sport
from shared.live import EventDelta
from shared.settings import KafkaSettings
from shared.topics import Topics

log = logging.getLogger(__name__)


class Publisher:
    """Publishes one sport's deltas and rejected records."""

    def __init__(self, producer: AIOKafkaProducer, topics: Topics, sport: Sport) -> None:
        self._producer = producer
        self._updates = topics.updates(sport)
        self._rejected = topics.rejected
        self._pending: list[asyncio.Future[object]] = []
        self.failures = 0

    async def publish(
        self, deltas: Sequence[EventDelta], rejected: Sequence[RejectedRecord] = ()
    ) -> None:
        """Queue the deltas (in order) and rejected records for sending."""
        self._reap()
        send = self._producer.send
        for delta in deltas:
            self._pending.append(await send(
                self._updates,
                value=delta.model_dump_json(exclude_none=True).encode(),
                key=delta.event_id.encode(),
            ))
        for record in rejected:
            self._pending.append(await send(
                self._rejected,
                value=encode_rejected(record),
                key=(record.event_id or "").encode() or None,
            ))

    def _reap(self) -> None:
        still: list[asyncio.Future[object]] = []
        for future in self._pending:
            if not future.done():
                still.append(future)
            elif future.cancelled() or future.exception() is not None:
                self.failures += 1
                exc = None if future.cancelled() else future.exception()
                log.error("publishing an update failed: %r", exc)
        self._pending = still

    async def flush(self) -> None:
        """Wait until everything queued is acknowledged (or failed)."""
        await self._producer.flush()
        self._reap()


@asynccontextmanager
async def open_publisher(
    settings: KafkaSettings, sport: Sport, *, topics: Topics | None = None
) -> AsyncIterator[Publisher]:
    """A started publisher; flushed and stopped on exit."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        compression_type=None,
    )
    await producer.start()
    publisher = Publisher(producer, topics or Topics(settings.topic_prefix), sport)
    try:
        yield publisher
    finally:
        try:
            await publisher.flush()
        finally:
            await producer.stop()
