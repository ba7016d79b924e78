"""The one Kafka producer of an ingestion app, its readiness, and publishing with acks.

:class:`KafkaPublisher` owns a single idempotent ``AIOKafkaProducer`` (``acks=all``).
It connects in the background and keeps retrying, so the service starts (and answers
``/healthz``, ``/readyz`` 503 and ``POST`` 503) while Kafka is still away. A refresher
task keeps the producer's metadata fresh; ``/readyz`` is green only while it is.

:meth:`KafkaPublisher.publish` hands every record of a request to the producer first,
then waits for all acknowledgements together under one deadline, and reports per
record what Kafka acknowledged (partition, offset) and what it did not: the caller
never claims a record Kafka did not confirm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka.partitioner import murmur2
from aiokafka.structs import TopicPartition

from services.ingestion.metrics import IngestionMetrics
from services.ingestion.settings import IngestionSettings
from shared.producer import needs_new_producer
from shared.retry import Backoff

log = logging.getLogger(__name__)
# Reconnecting to Kafka: the shared backoff (shared/retry.py), 0.2 s doubling to 5 s.
RECONNECT_INITIAL_S, RECONNECT_MAX_S = 0.2, 5.0


# Where Kafka stored one record: (partition, offset). A plain tuple: a NamedTuple's
# constructor showed up in profiles at one per message.
Ack = tuple[int, int]


class KafkaUnavailable(Exception):
    """The producer is not connected, or its metadata is stale: nothing was sent."""


class ProducerLike(Protocol):
    """What the publisher needs of ``AIOKafkaProducer`` (tests inject a fake)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def flush(self) -> None: ...
    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None
    ) -> asyncio.Future[Any]: ...
    async def partitions_for(self, topic: str) -> set[int]: ...
    @property
    def client(self) -> Any: ...


ProducerFactory = Callable[[], ProducerLike]


class DirectSend:
    """``producer.send(topic, value, key)`` with aiokafka's per-record overhead taken out.

    ``AIOKafkaProducer.send`` builds three sets of partition ids, two lists, a
    ``TopicPartition`` and a debug log record for every record (a tenth of a
    single-message request's CPU in profiles). This does what it does for our records —
    no serializers, no transactions, keyed, murmur2 over the topic's partitions, the
    size check — with the partitions of each topic cached until the next metadata
    refresh (:meth:`forget`), and hands the record to the producer's accumulator,
    which returns the same future. Anything unusual (a topic not in the metadata yet,
    a record near the size limit) goes through ``producer.send`` itself. aiokafka is
    pinned, and ``tests/unit/test_ingestion_publisher.py`` checks the private parts
    this uses are there.
    """

    _OVERHEAD = 256  # a record's batch framing is well under this

    def __init__(self, producer: Any, partitioner: CachingPartitioner) -> None:
        self._producer = producer
        self._accumulator = producer._message_accumulator
        self._cluster = producer.client.cluster
        self._timeout = producer._request_timeout_ms / 1000
        self._max_size = producer._max_request_size - self._OVERHEAD
        self._partitioner = partitioner
        self._partitions: dict[str, tuple[TopicPartition, ...]] = {}
        # The accumulator's synchronous parts that now() uses (aiokafka's, not a fake's).
        self._sync = all(hasattr(self._accumulator, name) for name in (
            "_batches", "_append_batch", "create_builder", "_closed", "_exception"))
        # ... and what send_now() uses.
        self._can_send_now = all(hasattr(self._accumulator, name) for name in (
            "_batches", "_waiter_future"))

    @staticmethod
    def supports(producer: Any) -> bool:
        """True for an ``AIOKafkaProducer`` whose private parts are where this expects."""
        return all(hasattr(producer, name) for name in (
            "_message_accumulator", "_request_timeout_ms", "_max_request_size", "client"))

    def now(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[Any] | None:
        """Hand one record over without a coroutine when nothing could wait; else None.

        What ``AIOKafkaProducer``'s accumulator does in ``add_message`` when the
        partition's last batch has room (or there is none yet): append and return the
        record's future. None — a topic not in the metadata, a record near the size
        limit, a full batch, a closed or failed accumulator — means: ``await self(...)``,
        which takes the ordinary path (and waits or raises as it would).
        """
        partitions = self._partitions.get(topic)
        acc = self._accumulator
        if (partitions is None or not self._sync or len(value) + len(key) > self._max_size
                or acc._closed or acc._exception is not None):
            return None
        tp = partitions[self._partitioner.hashed(key) % len(partitions)]
        pending = acc._batches.get(tp)
        batch = pending[-1] if pending else acc._append_batch(acc.create_builder(), tp)
        future: asyncio.Future[Any] | None = batch.append(key, value, None, headers=[])
        return future

    def send_now(self) -> bool:
        """Let every batch that waits out its linger go at the sender's next turn.

        A batch is sent once its builder is closed or its linger has passed, and aiokafka
        keeps one produce request per broker in flight: batches ready while one is in
        flight go together when it returns. Ending each waiting batch's linger (its own
        ``_linger_time``) and waking the sender skips only the wait: the batches stay
        open, so records handed over before the sender takes them still join them.
        (Closing them instead, as ``flush_for_commit`` does, makes every later record for
        their partitions wait, one after another, until they are sent.) Returns False
        (nothing done) when the accumulator is not aiokafka's.
        """
        acc = self._accumulator
        if not self._can_send_now:
            return False
        for batches in acc._batches.values():
            for batch in batches:
                batch._linger_time = 0.0
        waiter = acc._waiter_future
        if not waiter.done():
            waiter.set_result(None)
        return True

    def forget(self) -> None:
        """Metadata was refreshed: look the partitions up again."""
        self._partitions = {}

    async def __call__(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[Any]:
        """Hand one record over; returns the future of its acknowledgement."""
        partitions = self._partitions.get(topic)
        if partitions is None:
            known = self._cluster.partitions_for_topic(topic)
            if not known:
                fallback: asyncio.Future[Any] = await self._producer.send(topic, value, key)
                return fallback
            partitions = self._partitions[topic] = tuple(
                TopicPartition(topic, p) for p in sorted(known))
        if len(value) + len(key) > self._max_size:
            checked: asyncio.Future[Any] = await self._producer.send(topic, value, key)
            return checked  # (or raised the size error)
        tp = partitions[self._partitioner.hashed(key) % len(partitions)]
        future: asyncio.Future[Any] = await self._accumulator.add_message(
            tp, key, value, self._timeout)
        return future


class CachingPartitioner:
    """Kafka's default murmur2 partitioner, memoised by key.

    aiokafka's murmur2 is pure Python and costs a few microseconds per record; event
    ids repeat constantly, so a bounded cache removes it from the hot path.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._cache: dict[bytes, int] = {}
        self._max = max_entries

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        """Pick the partition for ``key`` exactly as the Java client would."""
        if key is None:  # never happens here: every record is keyed
            return all_partitions[0]
        return all_partitions[self.hashed(key) % len(all_partitions)]

    def hashed(self, key: bytes) -> int:
        """murmur2 of ``key``, positive, as Kafka's default partitioner takes it."""
        hashed = self._cache.get(key)
        if hashed is None:
            if len(self._cache) >= self._max:
                self._cache.clear()
            hashed = self._cache[key] = murmur2(key) & 0x7FFFFFFF
        return hashed


def aiokafka_factory(settings: IngestionSettings) -> ProducerFactory:
    """Build real producers the way the settings say."""

    def make() -> ProducerLike:
        from aiokafka import AIOKafkaProducer

        producer: ProducerLike = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap,
            client_id="sportsfeed-ingestion",
            acks="all",
            enable_idempotence=True,
            linger_ms=settings.kafka_linger_ms,
            max_batch_size=settings.kafka_max_batch_bytes,
            max_request_size=max(settings.kafka_max_batch_bytes, settings.max_body_bytes * 2),
            request_timeout_ms=settings.kafka_request_timeout_ms,
            compression_type=settings.kafka_compression,
            partitioner=CachingPartitioner(),
        )
        return producer

    return make


@dataclass
class _State:
    producer: ProducerLike | None = None
    direct: DirectSend | None = None  # for a real AIOKafkaProducer
    refreshed_at: float = 0.0  # monotonic time of the last successful metadata refresh
    last_error: str = "not connected yet"


class KafkaPublisher:
    """One producer, connected in the background, with per-record acknowledgements."""

    def __init__(
        self, settings: IngestionSettings, metrics: IngestionMetrics,
        producer_factory: ProducerFactory | None = None, topics: Sequence[str] = (),
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._factory = producer_factory or aiokafka_factory(settings)
        self._topics = tuple(topics)  # checked on connect and by /readyz
        self._state = _State()
        self._task: asyncio.Task[None] | None = None
        self._pending_rejections = 0
        self._stopping = False
        self._reset = asyncio.Event()
        # publish() calls in progress, and (set by the app) how many requests are being
        # handled: those between the two have yet to hand their records over.
        self._publishing = 0
        self.requests_in_flight: Callable[[], int] = lambda: self._publishing
        self.sent_at_once = 0  # requests whose records went without the linger

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background; returns at once."""
        self._task = asyncio.create_task(self._run(), name="kafka-publisher")

    async def stop(self) -> None:
        """Flush what was handed to the producer, then close it."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        producer, self._state.producer = self._state.producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.flush(), self._settings.publish_timeout_s)
            except Exception as exc:  # closing anyway; say why
                log.warning("producer flush on shutdown failed: %r", exc)
            await producer.stop()

    async def _run(self) -> None:
        backoff = Backoff(RECONNECT_INITIAL_S, RECONNECT_MAX_S)
        while not self._stopping:
            producer = self._factory()
            try:
                await producer.start()
                for topic in self._topics:  # fail early on a topic nobody created
                    await producer.partitions_for(topic)
            except Exception as exc:  # any failure means: retry later
                self._state.last_error = f"connect failed: {exc!r}"
                wait = backoff.next()
                log.warning("Kafka not reachable (%s); retrying in %.1fs", exc, wait)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(wait)
                continue
            self._state.producer = producer
            self._state.direct = (DirectSend(producer, CachingPartitioner())
                                  if DirectSend.supports(producer) else None)
            self._mark_refreshed()
            backoff.reset()
            log.info("Kafka producer connected to %s", self._settings.kafka.bootstrap)
            await self._refresh_forever(producer)
            # A fatal send error asked for a new producer: close this one and reconnect.
            self._reset.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), self._settings.publish_timeout_s)

    def _replace_producer(self, producer: ProducerLike, failure: BaseException) -> None:
        """Stop using ``producer`` at once; ``_run`` builds a new one (new producer id)."""
        if self._state.producer is not producer:
            return  # already replaced by an earlier failure of the same request
        log.warning("Kafka producer out of step (%r): replacing it", failure)
        self._state.producer = None
        self._state.last_error = f"producer reset after {failure!r}"
        self._metrics.kafka_ready.set(0)
        self._reset.set()

    async def _refresh_forever(self, producer: ProducerLike) -> None:
        interval = self._settings.readiness_interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reset.wait(), interval)
            if self._reset.is_set():
                return
            try:
                fresh = await asyncio.wait_for(
                    producer.client.force_metadata_update(), max(interval, 1.0)
                )
            except Exception as exc:  # a failed refresh is just "not fresh"
                fresh, self._state.last_error = False, f"metadata refresh failed: {exc!r}"
            if fresh:
                if self._state.direct is not None:
                    self._state.direct.forget()
                missing = [t for t in self._topics
                           if not producer.client.cluster.partitions_for_topic(t)]
                if missing:
                    self._state.last_error = f"topics missing: {', '.join(missing)}"
                else:
                    self._mark_refreshed()
            elif not self._state.last_error.startswith("metadata refresh failed"):
                self._state.last_error = "metadata refresh failed"
            self._metrics.kafka_ready.set(1 if self.ready else 0)

    def _mark_refreshed(self) -> None:
        self._state.refreshed_at = time.monotonic()
        self._metrics.kafka_ready.set(1)

    # -- readiness ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Connected, with metadata refreshed within ``readiness_max_age_s``."""
        state = self._state
        return state.producer is not None and (
            time.monotonic() - state.refreshed_at < self._settings.readiness_max_age_s
        )

    async def wait_ready(self, within: float) -> bool:
        """Wait up to ``within`` seconds for readiness (tests and benchmarks use this)."""
        deadline = time.monotonic() + within
        while not self.ready and time.monotonic() < deadline:  # noqa: ASYNC110 - rare, short
            await asyncio.sleep(0.02)
        return self.ready

    def readiness(self) -> tuple[bool, str]:
        """Whether the publisher is ready, and why not."""
        if self.ready:
            return True, "ok"
        if self._state.producer is None:
            return False, self._state.last_error
        return False, f"metadata stale: {self._state.last_error}"

    # -- publishing ---------------------------------------------------------------------

    async def publish(
        self, records: Sequence[tuple[str, bytes, bytes]], deadline_s: float | None = None
    ) -> tuple[list[Ack | None], str | None]:
        """Send ``(topic, key, value)`` records; return per-record acks and an error text.

        Raises :class:`KafkaUnavailable` (nothing sent) when the producer is not ready.
        Otherwise every record is handed over before any ack is awaited, and the acks are
        awaited together under one deadline; a record whose ack failed or did not arrive
        in time is ``None`` and the error says why.
        """
        producer = self._state.producer
        if producer is None or not self.ready:
            raise KafkaUnavailable(self.readiness()[1])
        started = time.perf_counter()
        direct = self._state.direct
        send = direct or producer.send
        futures: list[asyncio.Future[Any]] = []
        error: str | None = None
        self._publishing += 1
        try:
            try:
                for topic, key, value in records:
                    fut = direct.now(topic, value, key) if direct is not None else None
                    futures.append(fut if fut is not None else await send(topic, value, key))
            except Exception as exc:  # the rest are reported unacknowledged
                error = f"send failed: {exc!r}"
                if needs_new_producer(exc):
                    self._replace_producer(producer, exc)
            # The linger lets concurrent requests share a batch. When no other request
            # is on its way to handing records over, no one will share it soon: the
            # batches go at once. A request that comes while they are on the way queues
            # behind their produce request anyway (one in flight per broker).
            if futures:
                if direct is not None and not self._others_arriving() and direct.send_now():
                    self.sent_at_once += 1
                await _acknowledged(
                    futures,
                    self._settings.publish_timeout_s if deadline_s is None else deadline_s,
                )
        finally:
            self._publishing -= 1
        if error is None and len(futures) == len(records):
            try:  # the usual case: every record acknowledged
                metas = [fut.result() for fut in futures]
            except (Exception, asyncio.CancelledError):
                pass  # a failure, a cancellation or a timeout: sorted out one by one below
            else:
                self._metrics.observe_publish(time.perf_counter() - started)
                return [(meta.partition, meta.offset) for meta in metas], None
        acks: list[Ack | None] = [None] * len(records)
        for i, fut in enumerate(futures):
            if fut.done() and not fut.cancelled():
                failure = fut.exception()
                if failure is None:
                    meta = fut.result()
                    acks[i] = (meta.partition, meta.offset)
                    continue
                if needs_new_producer(failure):
                    self._replace_producer(producer, failure)
                if error is None:
                    error = f"Kafka refused: {failure!r}"
            else:
                fut.add_done_callback(_consume)  # a late failure must not go unretrieved
                if error is None:
                    error = "timed out waiting for Kafka's acknowledgement"
        self._metrics.observe_publish(time.perf_counter() - started)
        return acks, error

    def _others_arriving(self) -> bool:
        """Whether another request in flight has yet to hand its records over."""
        return self.requests_in_flight() > self._publishing

    async def publish_rejected(self, topic: str, key: bytes, value: bytes) -> None:
        """Best effort: hand a rejected record over without waiting; count failures."""
        producer = self._state.producer
        failures = self._metrics.rejected_publish_failures
        if producer is None or self._pending_rejections >= self._settings.max_pending_rejections:
            failures.inc()
            return
        try:
            fut = await producer.send(topic, value, key)
        except Exception as exc:  # best effort, counted
            log.warning("rejected record not sent: %r", exc)
            failures.inc()
            return
        self._pending_rejections += 1

        def done(f: asyncio.Future[Any]) -> None:
            self._pending_rejections -= 1
            if f.cancelled() or f.exception() is not None:
                failures.inc()

        fut.add_done_callback(done)


def _consume(fut: asyncio.Future[Any]) -> None:
    # Retrieve a late failure so asyncio does not log "exception never retrieved".
    if not fut.cancelled():
        fut.exception()


async def _acknowledged(futures: list[asyncio.Future[Any]], within: float) -> None:
    """Return when every future is done or ``within`` seconds have passed (never cancels one).

    Waits on the first future not done yet, then looks again: a request's records are
    acknowledged a partition batch at a time, so a batch of 500 wakes a few times
    rather than running 500 callbacks.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    for fut in futures:
        if not fut.done():
            remaining = end - loop.time()
            if remaining <= 0:
                return
            await _wait_all([fut], remaining)


def _wait_all(futures: list[asyncio.Future[Any]], timeout: float) -> Awaitable[None]:
    """A future done when every one of ``futures`` is, or when ``timeout`` passes.

    Cheaper than ``asyncio.wait``/``gather`` for hundreds of futures: one callback
    each, one timer, no sets and no tasks.
    """
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    remaining = len(futures)

    def one_done(_: asyncio.Future[Any]) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0 and not waiter.done():
            waiter.set_result(None)

    for fut in futures:
        fut.add_done_callback(one_done)

    def expire() -> None:
        if not waiter.done():
            waiter.set_result(None)

    handle = loop.call_later(timeout, expire)
    waiter.add_done_callback(lambda _: handle.cancel())
    return waiter
