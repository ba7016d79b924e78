"""The sport's feed topic taken in bulk: an aiokafka consumer inside the Faust worker.

Faust's own per-record path (its consumer thread, the conductor, a stream queue and an
ack per record) cost a worker about as much CPU per message as all of its own work, and
its ``take`` windows hand over only what that path moves in a few milliseconds. This
service keeps the worker's group membership and its Kafka commits, and hands each batch
to the :class:`~.pipeline.BatchProcessor` as it was fetched: as many records as are
buffered, up to ``batch_max`` (so under a backlog batches grow to the backlog).

Batches are pipelined, in order: while batch N's MySQL transaction runs, batch N+1 is
fetched, decoded and decided ahead on the states N is writing (the store uses that
decision only if, once N+1's events are locked, MySQL has what it was decided on;
otherwise N+1 is decided again); once N has committed, N+1 is committed while N's
snapshots and deltas go to Redis and the updates topic (those steps run one batch after
another, so deltas stay in version order).

The guarantees are Faust's, kept by hand:

- **commit after MySQL**: an offset becomes committable only once
  :meth:`BatchProcessor.process` returned (its MySQL transaction committed); committable
  offsets are committed every ``commit_interval_s``, before a rebalance takes partitions
  away, and on shutdown;
- **rebalances**: the group's rebalance listener waits for the batch in progress to
  finish and commits before the partitions go; a partition assigned again resumes from
  its committed offset, and a replayed record is recognised by the ledger;
- **order**: records of one partition (so of one event, keyed by event id) are handed
  over in offset order.

Faust still runs the worker (web views, timers, signals, shutdown order); its own Kafka
consumer and producer are not started (:class:`ProcessorBoot`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import ConsumerStoppedError
from mode import Service

from services.processors.domain.incoming import Incoming, decode_record
from shared.lag import BehindSince, end_offsets
from shared.runtime import heartbeat_interval_s
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

# (fetch_min_bytes, fetch_max_wait_ms) of a worker with nothing to do: a long poll.
IDLE_FETCH = (1, 2000)
# A busy worker's fetch is answered after ``batch_interval_s`` or once this much came.
BUSY_FETCH_MIN_BYTES = 1024 * 1024


class Pipeline(Protocol):
    """What the consumer needs of :class:`~.pipeline.BatchProcessor`."""

    async def prepare(self, items: Sequence[Incoming], before: asyncio.Future[Any]) -> Any:
        """Decide a batch ahead while ``before`` writes its transaction (or None)."""

    async def commit(self, items: Sequence[Incoming], prepared: Any = None) -> Sequence[Any]:
        """Decide (or take what was prepared, if it holds) and commit a batch; its plans."""

    async def after_commit(self, plans: Sequence[Any]) -> None:
        """Publish committed plans (Redis, the updates topic)."""


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: FeedConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._owner.before_revoke(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._owner.assigned(assigned)


class FeedConsumer(Service):
    """Fetches the feed topic in bulk and applies it batch by batch, commits after MySQL."""

    def __init__(
        self, kafka: KafkaSettings, topic: str, group: str, pipeline: Pipeline, *,
        batch_max: int, batch_within_s: float, commit_interval_s: float,
        session_timeout_s: float, batch_interval_s: float = 0.0,
        wait_ready: Callable[[], Any] | None = None,
        consumer_factory: Callable[..., Any] = AIOKafkaConsumer,
    ) -> None:
        super().__init__()
        self._kafka = kafka
        self._topic = topic
        self._group = group
        self._pipeline = pipeline
        self._batch_max = batch_max
        self._within = batch_within_s
        self._interval = batch_interval_s
        self._last_start = 0.0  # monotonic time the last batch was handed over
        self._commit_interval = commit_interval_s
        self._session_timeout = session_timeout_s
        self._wait_ready = wait_ready
        self._factory = consumer_factory
        self._consumer: Any = None
        # The batch being committed to MySQL, and the chain of after-commit steps.
        self._inflight: asyncio.Task[None] | None = None
        self._publishing: asyncio.Task[None] | None = None
        self._committable: dict[TopicPartition, int] = {}
        self._commit_lock = asyncio.Lock()
        self._last_commit = time.monotonic()
        self._stopping = False
        self.assignment: set[TopicPartition] = set()
        # Lag, per partition: the next offset to apply (the committed offset at assignment,
        # then after each applied batch), the first offset and Kafka timestamp of each
        # batch fetched but not applied yet, and the end offsets seen (shared.lag).
        self._next: dict[TopicPartition, int] = {}
        self._held: dict[TopicPartition, list[tuple[int, float]]] = {}
        self._behind = BehindSince()
        # Partitions a rebalance is taking away: no new batch starts on their records.
        self._leaving: set[TopicPartition] = set()
        # The partitions each rebalance so far took away, in order.
        self._revocations: list[set[TopicPartition]] = []
        # Fetches paced by the interval (after records) or long polls (after none).
        self._busy = False
        interval_ms = max(1, round(batch_interval_s * 1000))
        self._busy_fetch = (BUSY_FETCH_MIN_BYTES, interval_ms)
        self._busy_wait_ms = 2 * interval_ms
        self.fetch_mode_changes = 0

    async def on_start(self) -> None:
        """Join the group (the records are fetched by :meth:`_run`)."""
        s = self._kafka
        self._consumer = self._factory(
            bootstrap_servers=s.bootstrap,
            group_id=self._group,
            client_id=f"{self._group}-feed",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(self._session_timeout * 1000),
            heartbeat_interval_ms=int(heartbeat_interval_s(self._session_timeout) * 1000),
            max_poll_records=self._batch_max,
            # A quiet topic is long-polled: the broker answers as soon as a record comes
            # (latency does not depend on this), so idle costs one fetch every 2 s.
            fetch_min_bytes=IDLE_FETCH[0],
            fetch_max_wait_ms=IDLE_FETCH[1],
        )
        await self._consumer.start()
        self._consumer.subscribe([self._topic], listener=_Listener(self))

    async def on_stop(self) -> None:
        """Stop taking records, let the batch in progress finish and publish, commit, leave."""
        self._stopping = True
        consumer = self._consumer
        if consumer is None:
            return
        await self._settle()
        if self._publishing is not None:
            await asyncio.gather(self._publishing, return_exceptions=True)
        await self._commit(force=True)
        with contextlib.suppress(Exception):
            await consumer.stop()

    @Service.task
    async def _run(self) -> None:
        if self._wait_ready is not None:
            await self._wait_ready()
        consumer = self._consumer
        assert consumer is not None
        while not self.should_stop and not self._stopping:
            try:
                # Paced fetches that bring nothing for two intervals: back to long polls.
                wait_ms = self._busy_wait_ms if self._busy else IDLE_FETCH[1]
                batch = await consumer.getmany(timeout_ms=wait_ms, max_records=self._batch_max)
                # Before the next await: the fetch that getmany just let go uses it.
                self._pace_fetches(bool(batch))
                # Rebalances so far: one after this point takes these records away.
                mark = len(self._revocations)
                if batch:
                    mark = await self._linger(batch, mark)
            except ConsumerStoppedError:
                return
            if batch:
                # Decoded while the previous batch's transaction runs on the server.
                items = [
                    decode_record(r.value, tp.partition, r.offset,
                                  r.timestamp / 1000 if r.timestamp is not None else None)
                    for tp, records in batch.items() for r in records
                ]
                offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
                for tp, records in batch.items():
                    first = records[0]
                    stamp = first.timestamp / 1000 if first.timestamp is not None else time.time()
                    self._held.setdefault(tp, []).append((first.offset, stamp))
                # Decided ahead while the batch before writes its transaction: the CPU
                # work overlaps MySQL's, and the store checks it still holds before use.
                inflight, prepared = self._inflight, None
                if inflight is not None and not inflight.done():
                    prepared = await self._pipeline.prepare(items, inflight)
                await self._settle()
                if self._stopping:  # fetched as the worker stopped: replayed after restart
                    return
                # A rebalance meanwhile took partitions: their records belong to the new
                # owner now, who starts at the committed offset; and a partition given
                # back to this worker starts there again too (its records would come twice).
                gone = set().union(*self._revocations[mark:])
                owned = {tp.partition for tp in self.assignment - self._leaving - gone
                         if tp in offsets}
                if len(owned) < len(offsets):
                    items = [i for i in items if i.partition in owned]
                    offsets = {tp: o for tp, o in offsets.items() if tp.partition in owned}
                    prepared = None  # decided for records this worker no longer owns
                if items:
                    self._last_start = time.monotonic()
                    self._inflight = asyncio.ensure_future(self._apply(items, offsets, prepared))
            await self._commit()

    def _pace_fetches(self, busy: bool) -> None:
        """Let the broker gather the next batch while records keep coming.

        aiokafka sends the next fetch as soon as the records of the last one are taken.
        Long-polled with ``fetch_min_bytes=1`` the broker answers it at the first new
        record, and under load a worker that starts one batch per ``batch_interval_s``
        would have its records fetched a little at a time, in between, and held in the
        client's buffer while it waits: the records that come after the last fetch of a
        window wait for the window after it (up to two intervals), and every answer costs
        the broker and the worker a round trip. So after a fetch that brought records the
        broker is asked to hold the next one for ``batch_interval_s`` (or until it has
        :data:`BUSY_FETCH_MIN_BYTES`): it answers once per interval with everything that
        came meanwhile. After a fetch that brought nothing the worker long-polls again,
        so an idle worker costs one fetch every 2 s and the first record after a quiet
        spell is answered at once.

        aiokafka 0.14 (pinned) reads both settings from its fetcher whenever it builds a
        request and has no public way to change them: the attributes are set on it, and
        an integration test fails if they stop taking effect.
        """
        fetcher = getattr(self._consumer, "_fetcher", None)
        if fetcher is None or self._interval <= 0 or busy == self._busy:
            return
        self._busy = busy
        fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = (
            self._busy_fetch if busy else IDLE_FETCH)
        self.fetch_mode_changes += 1

    async def _linger(self, batch: dict[TopicPartition, list[Any]], mark: int) -> int:
        """Gather more records before the batch starts: fewer, larger transactions.

        ``batch_within_s`` waits that long after the first records, always;
        ``batch_interval_s`` waits only until that long has passed since the previous
        batch started, so a worker that is busy starts at most one batch per interval
        while a record after a quiet spell starts its batch at once. Returns the
        rebalance count the batch's records date from (``mark`` unless a rebalance
        came while waiting: the records from before it are let go, since the partitions'
        owners start again at the committed offsets).
        """
        size = sum(map(len, batch.values()))
        if size >= self._batch_max:
            return mark
        wait = max(self._within, self._last_start + self._interval - time.monotonic())
        if wait <= 0:
            return mark
        await asyncio.sleep(wait)
        if len(self._revocations) != mark:
            batch.clear()
            size, mark = 0, len(self._revocations)
        while size < self._batch_max:  # everything buffered by now, up to batch_max
            more = await self._consumer.getmany(timeout_ms=0, max_records=self._batch_max - size)
            if not more:
                break
            for tp, records in more.items():
                batch.setdefault(tp, []).extend(records)
                size += len(records)
        return mark

    async def _apply(
        self, items: Sequence[Incoming], offsets: dict[TopicPartition, int], prepared: Any = None,
    ) -> None:
        # Returns once MySQL committed the batch.
        plans = await self._pipeline.commit(items, prepared)
        for tp, offset in offsets.items():
            if tp in self.assignment:
                self._committable[tp] = offset
            self._next[tp] = max(offset, self._next.get(tp, 0))
            held = self._held.get(tp)
            if held:
                held[:] = [h for h in held if h[0] >= offset]
        previous = self._publishing
        self._publishing = asyncio.ensure_future(self._publish(previous, plans))
        await self._commit()

    async def _publish(self, previous: asyncio.Task[None] | None, plans: Sequence[Any]) -> None:
        if previous is not None:  # one batch after another: deltas stay in version order
            await asyncio.gather(previous, return_exceptions=True)
        await self._pipeline.after_commit(plans)

    async def _settle(self) -> None:
        """Wait until the batch in flight (if any) has committed to MySQL."""
        inflight = self._inflight
        if inflight is not None:
            await asyncio.gather(inflight, return_exceptions=True)
            if self._inflight is inflight:
                self._inflight = None

    async def _commit(self, *, force: bool = False) -> None:
        """Commit the committable offsets (every ``commit_interval_s``, or now if forced)."""
        consumer = self._consumer
        if consumer is None or not self._committable:
            return
        if not force and time.monotonic() - self._last_commit < self._commit_interval:
            return
        async with self._commit_lock:  # one commit at a time: offsets never go backwards
            offsets, self._committable = self._committable, {}
            if not offsets:
                return
            try:
                await consumer.commit(offsets)
            except Exception as exc:  # the records replay after a restart; the ledger knows them
                log.warning("committing offsets failed (%r); they will be replayed", exc)
            self._last_commit = time.monotonic()

    async def before_revoke(self, revoked: list[TopicPartition]) -> None:
        """A rebalance takes partitions: finish the batch in progress, commit, let go."""
        self._revocations.append(set(revoked))
        self._leaving |= set(revoked)
        try:
            await self._settle()
            await self._commit(force=True)
        finally:
            self.assignment -= set(revoked)
            self._leaving -= set(revoked)

    async def lag(self) -> dict[int, tuple[int, float]]:
        """Per owned partition: records not applied yet (behind the high watermark) and the
        age in seconds of the oldest of them (0 when caught up)."""
        consumer = self._consumer
        owned = list(self.assignment)
        if consumer is None or not owned:
            return {}
        ends = await end_offsets(consumer, owned)
        now = time.time()
        found: dict[int, tuple[int, float]] = {}
        for tp in owned:
            high = ends.get(tp)
            start = self._next.get(tp)
            if high is None or start is None:  # nothing fetched from it yet
                continue
            behind = max(0, high - start)
            # The oldest unapplied record in hand, else (still in Kafka) since its
            # partition's end offset was first seen past it.
            age = self._behind.age(tp, high, start, now)
            held = self._held.get(tp)
            if behind and held:
                age = max(age, now - held[0][1])
            found[tp.partition] = (behind, age if behind else 0.0)
        return found

    async def assigned(self, assigned: list[TopicPartition]) -> None:
        """The partitions this worker owns now, and where each one's unapplied records start."""
        self.assignment = set(assigned)
        for tp in list(self._held):
            if tp not in self.assignment:
                del self._held[tp]
                self._behind.forget(tp)
        self._next = {tp: o for tp, o in self._next.items() if tp in self.assignment}
        consumer = self._consumer
        for tp in assigned:
            if tp in self._next or consumer is None:
                continue
            with contextlib.suppress(Exception):  # unknown until the first batch, then
                committed = await consumer.committed(tp)
                if committed is None:
                    committed = (await consumer.beginning_offsets([tp]))[tp]
                self._next[tp] = committed
        log.info("feed partitions assigned: %s", sorted(tp.partition for tp in assigned))
