"""What every Kafka producer of the platform shares: which send errors need a new producer.

Producers are idempotent (``enable_idempotence=True``, ``acks=all``). After some
failures an idempotent producer never recovers by itself: its sequence numbers are out
of step with the broker (seen here after a broker restart under load: aiokafka#1017),
or its producer id is unknown or fenced. Every later send fails the same way; the only
cure is a new producer, i.e. a new producer id. Ingestion and the processors both
replace their producer when a send fails with one of these; the processors and
pricing keep their unawaited sends in :class:`Sends`, which does it for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer, errors

log = logging.getLogger(__name__)

FATAL_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    errors.OutOfOrderSequenceNumber, errors.UnknownProducerId,
    errors.InvalidProducerEpoch, errors.ProducerFenced,
)


def needs_new_producer(failure: BaseException | None) -> bool:
    """True when ``failure`` leaves an idempotent producer unusable."""
    return isinstance(failure, FATAL_PRODUCER_ERRORS)


class Sends:
    """Sends that are not awaited one by one, and the producer they go through.

    :meth:`producer` is the producer to send with: when an earlier send failed with an
    error in :data:`FATAL_PRODUCER_ERRORS` it is first replaced by a new one from
    ``factory`` (if the new one cannot start, the error propagates, the old one stays,
    and the next call tries again). :meth:`track` keeps each send's future;
    :meth:`reap` counts the failed ones (``failures``) and logs them as ``what``.
    """

    def __init__(self, producer: AIOKafkaProducer, factory: Callable[[], AIOKafkaProducer] | None,
                 *, what: str, stop_timeout_s: float = 5.0) -> None:
        self._producer = producer
        self._factory = factory
        self._what = what
        self._stop_timeout = stop_timeout_s
        self._pending: list[asyncio.Future[Any]] = []
        self._out_of_step: BaseException | None = None
        self.failures = 0
        self.replacements = 0

    def track(self, future: asyncio.Future[Any]) -> None:
        """Keep a send's future until it is done."""
        self._pending.append(future)

    def reap(self) -> int:
        """Drop the finished sends; returns how many of them failed."""
        still: list[asyncio.Future[Any]] = []
        failed = 0
        for future in self._pending:
            if not future.done():
                still.append(future)
            elif future.cancelled() or future.exception() is not None:
                failed += 1
                exc = None if future.cancelled() else future.exception()
                log.error("publishing %s failed: %r", self._what, exc)
                if needs_new_producer(exc) and self._factory is not None:
                    self._out_of_step = exc
        self._pending = still
        self.failures += failed
        return failed

    async def producer(self) -> AIOKafkaProducer:
        """The producer to send with (a new one if the last was out of step)."""
        if self._out_of_step is not None:
            await self._replace()
        return self._producer

    async def _replace(self) -> None:
        assert self._factory is not None
        log.warning("%s producer out of step (%r): replacing it", self._what, self._out_of_step)
        fresh = self._factory()
        try:
            await fresh.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await fresh.stop()
            raise
        old, self._producer = self._producer, fresh
        self._out_of_step = None
        self.replacements += 1
        try:
            await asyncio.wait_for(old.stop(), self._stop_timeout)
        except Exception as exc:  # its unsent records fail; consumers see the gap
            log.warning("stopping the replaced producer failed: %r", exc)

    async def flush(self) -> None:
        """Wait until everything sent is acknowledged (or failed)."""
        await self._producer.flush()
        self.reap()

    async def close(self) -> None:
        """Flush, then stop the producer in use."""
        try:
            await self.flush()
        finally:
            await self._producer.stop()
