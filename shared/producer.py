"""What every Kafka producer of the platform shares: which send errors need a new producer.

Producers are idempotent (``enable_idempotence=True``, ``acks=all``). After some
failures an idempotent producer never recovers by itself: its sequence numbers are out
of step with the broker (seen here after a broker restart under load: aiokafka#1017),
or its producer id is unknown or fenced. Every later send fails the same way; the only
cure is a new producer, i.e. a new producer id. Ingestion and the processors both
replace their producer when a send fails with one of these.
"""

from __future__ import annotations

from aiokafka import errors

FATAL_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    errors.OutOfOrderSequenceNumber, errors.UnknownProducerId,
    errors.InvalidProducerEpoch, errors.ProducerFenced,
)


def needs_new_producer(failure: BaseException | None) -> bool:
    """True when ``failure`` leaves an idempotent producer unusable."""
    return isinstance(failure, FATAL_PRODUCER_ERRORS)
