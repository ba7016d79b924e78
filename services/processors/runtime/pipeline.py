"""One batch from Kafka records to MySQL, Redis and the updates topic.

The order is the guarantee: MySQL commits first; only then Redis and the updates
topic, and only after :meth:`BatchProcessor.process` returns does the agent ack the
records (so Kafka offsets are committed after MySQL, never before). MySQL failures
keep the batch (retried with backoff, nothing acked); Redis failures never stop the
batch (the events are remembered and repaired).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from services.processors.domain.incoming import Envelope, Incoming
from services.processors.domain.plan import BatchPlan
from services.processors.runtime.metrics import Metrics, observe_many
from services.processors.storage.store import Prepared, classify
from shared.codec import RejectedRecord
from shared.live import EventDelta, EventSnapshot
from shared.retry import RetryCallState, call_retrying

log = logging.getLogger(__name__)


class StoreLike(Protocol):
    """What the pipeline needs of the storage layer (faked in unit tests)."""

    async def apply(
        self, items: Sequence[Incoming], applied_at: datetime, prepared: Prepared | None = ...,
    ) -> BatchPlan:
        """Decide and commit one batch (with what :meth:`prepare` decided ahead, if it holds)."""

    async def writing(self) -> None:
        """Return once a batch's transaction is being written."""

    def prepare(self, items: Sequence[Incoming], applied_at: datetime) -> Prepared | None:
        """Decide a batch ahead on the states of the one being written, if possible."""

    async def snapshots(self, event_ids: Iterable[str] | None = None) -> list[EventSnapshot]:
        """Snapshots from the durable state."""

    async def liveness(self) -> dict[str, datetime]:
        """Each provider's last alive time."""

    async def suspend_silent_provider(
        self, provider: str, silent_since: datetime, now: datetime
    ) -> BatchPlan | None:
        """Suspend a silent provider's active markets."""


class CacheLike(Protocol):
    """What the pipeline needs of the Redis cache."""

    async def write(self, snapshots: Sequence[EventSnapshot], chunk: int = ...) -> int:
        """Write snapshots."""


class PublisherLike(Protocol):
    """What the pipeline needs of the updates publisher."""

    async def publish(
        self, deltas: Sequence[EventDelta], rejected: Sequence[RejectedRecord] = ...
    ) -> None:
        """Queue deltas and rejected records."""


def utc_now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


class CacheSync:
    """Keeps Redis in step with MySQL; remembers the events it could not write.

    After a failure it stops writing on the batch path (an unreachable Redis would
    cost every batch a socket timeout) and lets :meth:`repair` catch up from MySQL.
    """

    def __init__(self, cache: CacheLike, store: StoreLike, metrics: Metrics) -> None:
        self._cache = cache
        self._store = store
        self._metrics = metrics
        self._dirty: dict[str, int] = {}  # event id -> mark number
        self._marks = 0

    @property
    def dirty(self) -> set[str]:
        """Events whose Redis snapshot is behind MySQL."""
        return set(self._dirty)

    def _mark(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            self._marks += 1
            self._dirty[event_id] = self._marks
        self._metrics.redis_dirty.set(len(self._dirty))

    async def after_commit(self, snapshots: Sequence[EventSnapshot]) -> None:
        """Write the committed snapshots, or remember them when Redis is away."""
        if not snapshots:
            return
        if self._dirty:
            self._mark(s.event_id for s in snapshots)
            return
        try:
            await self._cache.write(snapshots)
        except Exception as exc:  # redis errors, OSError, timeouts: Redis is a cache
            self._metrics.redis_failures.inc()
            log.warning("redis write failed (%r); %d events to repair", exc, len(snapshots))
            self._mark(s.event_id for s in snapshots)

    async def repair(self, limit: int = 2000) -> int:
        """Rewrite dirty events from MySQL; returns how many were repaired."""
        if not self._dirty:
            return 0
        taken = dict(list(self._dirty.items())[:limit])
        try:
            snapshots = await self._store.snapshots(taken)
            await self._cache.write(snapshots)
        except Exception as exc:
            log.info("redis repair postponed: %r", exc)
            return 0
        for event_id, mark in taken.items():
            # An event marked again meanwhile has a newer commit to write next time.
            if self._dirty.get(event_id) == mark:
                del self._dirty[event_id]
        self._metrics.redis_dirty.set(len(self._dirty))
        log.info("redis repaired %d events, %d left", len(taken), len(self._dirty))
        return len(taken)


class BatchProcessor:
    """Applies batches: MySQL (with retries), then Redis and the updates topic."""

    def __init__(
        self,
        store: StoreLike,
        cache: CacheSync,
        publisher: PublisherLike,
        metrics: Metrics,
        *,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 5.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.cache = cache
        self.publisher = publisher
        self.metrics = metrics
        self._retry_initial = retry_initial_s
        self._retry_max = retry_max_s
        self._clock = clock
        self.mysql_ok = True
        self._stalled_since: float | None = None
        self._stall_reason: str | None = None
        metrics.stalled_seconds.set_function(self.stalled_for)

    async def process(self, items: Sequence[Incoming]) -> list[BatchPlan]:
        """Apply a batch and publish it; returns once MySQL has committed it (however long
        that takes) and its snapshots and deltas went out."""
        plans = await self.commit(items)
        await self.after_commit(plans)
        return plans

    async def prepare(
        self, items: Sequence[Incoming], before: asyncio.Future[Any],
    ) -> Prepared | None:
        """Decide ``items`` while the batch ``before`` them writes its transaction, so that
        this CPU work overlaps MySQL's; None when ``before`` ends first or the store cannot
        decide without MySQL. :meth:`commit` uses it only if it still holds then."""
        writing = asyncio.ensure_future(self.store.writing())
        try:
            await asyncio.wait([writing, before], return_when=asyncio.FIRST_COMPLETED)
        finally:
            writing.cancel()
        if before.done():  # nothing left to overlap with
            return None
        prepared = self.store.prepare(items, self._clock())
        if prepared is None:
            self.metrics.prepared.labels(self.metrics.sport, "not_possible").inc()
        return prepared

    async def commit(
        self, items: Sequence[Incoming], prepared: Prepared | None = None,
    ) -> list[BatchPlan]:
        """Decide and commit a batch to MySQL (retrying as long as it takes): after this
        its records may be acknowledged. Redis and the updates topic come after
        (:meth:`after_commit`), which the feed consumer overlaps with the next batch.
        ``prepared`` is what :meth:`prepare` decided for these items, if anything."""
        if not items:
            return []
        started = time.perf_counter()
        received = time.time()
        stamps = [i.timestamp for i in items if i.timestamp is not None]
        observe_many(self.metrics.receive_delay, (max(0.0, received - t) for t in stamps))
        plans = await self._apply(list(items), prepared)
        committed = time.time()
        self.metrics.batch_size.observe(len(items))
        self.metrics.apply_seconds.observe(time.perf_counter() - started)
        observe_many(self.metrics.commit_delay, (max(0.0, committed - t) for t in stamps))
        return plans

    async def after_commit(self, plans: Sequence[BatchPlan]) -> None:
        """Committed plans' snapshots to Redis and deltas to the updates topic, in order."""
        for plan in plans:
            try:
                await self._after_commit(plan)
            except Exception:
                # MySQL has committed: the records must be acknowledged whatever happens
                # here (Redis is repairable, a lost delta shows as a version gap).
                log.exception("after-commit step failed for a batch of %d", len(plan.ledger))

    async def _after_commit(self, plan: BatchPlan) -> None:
        for disposition, n in plan.counts.items():
            self.metrics.count(disposition, n)
        if plan.refusals:
            self.metrics.refused_markets.inc(len(plan.refusals))
        if plan.replays:
            self.metrics.replays.inc(plan.replays)
        snapshots = [s.snapshot() for s in plan.after.values()]
        # A replayed record's commit happened before a crash: its snapshot may never
        # have reached Redis, so write the state MySQL has now.
        for event_id in plan.replayed - plan.after.keys():
            state = plan.before.get(event_id)
            if state is not None:
                snapshots.append(state.snapshot())
        await self.cache.after_commit(snapshots)
        try:
            await self.publisher.publish(plan.deltas, plan.rejected)
            self.metrics.deltas.inc(len(plan.deltas))
        except Exception as exc:  # Kafka away: clients see a version gap and resync
            log.error("publishing %d deltas failed: %r", len(plan.deltas), exc)

    async def _apply(
        self, items: list[Incoming], prepared: Prepared | None = None,
    ) -> list[BatchPlan]:
        """Commit ``items``; a batch MySQL refuses is split to find the refused message.

        Transient and systemic failures keep the batch: retried with backoff for as long
        as it takes (:mod:`shared.retry`), each wait logged and shown by readiness.
        """
        async def attempt() -> list[BatchPlan]:
            nonlocal prepared
            try:
                # A prepared plan serves the first attempt only (the store checks it).
                plan = await self.store.apply(items, self._clock(), prepared)
            except Exception as exc:
                prepared = None
                failure = classify(exc)
                if failure == "message" and len(items) > 1:
                    half = len(items) // 2
                    return await self._apply(items[:half]) + await self._apply(items[half:])
                if failure == "message":
                    refused = _as_refused(items[0], exc)
                    if refused is not None:
                        log.error("mysql refused message %s, rejected with the database's "
                                  "reason: %r", items[0].message_id, exc)
                        self.metrics.storage_rejections.inc()
                        return await self._apply([refused])
                    # Even the bare rejection is refused: the message is not the cause.
                    failure = "systemic"
                raise _Stall(exc, failure, len(items)) from exc
            self._progressed()
            if prepared is not None:
                used = "used" if plan is prepared.plan else "dropped"
                self.metrics.prepared.labels(self.metrics.sport, used).inc()
            return [plan]

        return await call_retrying(attempt, initial_s=self._retry_initial,
                                   max_s=self._retry_max, retry_on=_Stall,
                                   before_sleep=self._stalled)

    def _stalled(self, state: RetryCallState) -> None:
        """Remember (for readiness and metrics) and log that a batch cannot be applied."""
        stall = state.outcome.exception() if state.outcome is not None else None
        assert isinstance(stall, _Stall)
        exc, failure, size, delay = stall.cause, stall.failure, stall.size, state.upcoming_sleep
        self.mysql_ok = False
        self.metrics.mysql_retries.inc()
        if self._stalled_since is None:
            self._stalled_since = time.monotonic()
        self._stall_reason = f"batch of {size}: {failure} failure: {exc!r}"[:500]
        if failure == "transient":
            log.warning("mysql failed transiently (%r): batch of %d retried in %.1fs",
                        exc, size, delay)
        else:
            log.error("batch of %d cannot be applied (%s, not caused by one message: %r); "
                      "stalled for %.0fs, retrying in %.1fs", size, failure, exc,
                      self.stalled_for(), delay)

    def _progressed(self) -> None:
        self.mysql_ok = True
        self._stalled_since = None
        self._stall_reason = None

    def stalled_for(self) -> float:
        """Seconds the current batch has been failing (0 while batches commit)."""
        since = self._stalled_since
        return 0.0 if since is None else time.monotonic() - since

    def progress(self) -> str:
        """``ok``, or how long the worker has been stuck on a batch and why (readiness)."""
        if self._stalled_since is None:
            return "ok"
        return f"stalled for {self.stalled_for():.0f}s on a {self._stall_reason}"

    async def sweep_silence(self, window_s: float) -> int:
        """Suspend the markets of providers silent for longer than ``window_s``."""
        now = self._clock()
        suspended = 0
        for provider, last in (await self.store.liveness()).items():
            if (now - last).total_seconds() <= window_s:
                continue
            plan = await self.store.suspend_silent_provider(provider, last, now)
            if plan is None:
                continue
            suspended += len(plan.after)
            self.metrics.silence_suspensions.labels(self.metrics.sport, provider).inc(len(plan.after))
            log.warning("provider %s silent since %s: suspended markets of %d events",
                        provider, last.isoformat(), len(plan.after))
            await self._after_commit(plan)
        return suspended


class _Stall(Exception):
    """A batch MySQL did not commit, for a reason that keeps the batch (retried)."""

    def __init__(self, cause: Exception, failure: str, size: int) -> None:
        super().__init__(f"batch of {size}: {failure} failure: {cause!r}")
        self.cause, self.failure, self.size = cause, failure, size


def _as_refused(item: Incoming, exc: BaseException) -> Incoming | None:
    """The same record as a rejection carrying the database's reason, or None.

    A rejection whose own ledger row is refused becomes a record for the rejected topic
    only; None when there is nothing left to take away.
    """
    reason = f"storage refused the message: {exc!r}"[:1000]
    if item.message is None:
        if item.unledgered:
            return None
        return replace(item, unledgered=True, error=f"{item.error}; {reason}"[:1000])
    msg = item.message
    envelope = Envelope(
        message_id=msg.message_id, provider=msg.provider, event_id=msg.event_id, kind=msg.kind,
        provider_ts=msg.provider_ts, received_at=msg.received_at,
    )
    return replace(item, message=None, envelope=envelope, error=reason)

