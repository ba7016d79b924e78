"""The worker's resources (MySQL pool, Redis, producer, the feed consumer) as one service.

Started by the Faust worker beside the app. It opens the pools, then the feed consumer
(:class:`~.consumer.FeedConsumer`), and stops them in the opposite order: on SIGTERM the
consumer first stops taking records, lets the batch in progress commit and commits its
offsets; only then are the producer flushed and the pools closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Protocol

from mode import Service

from services.processors.domain.rules import StatefulRules
from services.processors.runtime.consumer import FeedConsumer
from services.processors.runtime.metrics import Metrics
from services.processors.runtime.pipeline import BatchProcessor, CacheSync
from services.processors.runtime.publisher import open_publisher
from services.processors.settings import ProcessorSettings
from services.processors.storage.store import Store
from shared.cache import LiveCache, open_cache
from shared.runtime import kafka_reachable, quiet_repeated_logs
from shared.storage.pool import wait_for_pool
from shared.topics import Topics

log = logging.getLogger(__name__)


class Runtime(Protocol):
    """What the Faust app needs from the worker's resources (faked in unit tests)."""

    processor: BatchProcessor

    async def wait_ready(self) -> None:
        """Return once batches can be processed."""

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state: ``ok`` or why not."""

    async def update_lag(self) -> dict[int, tuple[int, float]]:
        """Measure the feed's lag and set the lag metrics."""

    def partitions(self) -> set[int]:
        """The feed partitions this worker owns now."""


class ProcessorRuntime(Service):
    """Opens the pool, the Redis client and the producer; closes them on stop."""

    processor: BatchProcessor  # set once started (agents wait for :meth:`wait_ready`)

    def __init__(
        self, settings: ProcessorSettings, rules: StatefulRules, metrics: Metrics
    ) -> None:
        super().__init__()
        self.settings = settings
        self.rules = rules
        self.metrics = metrics
        self._ready = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self.store: Store | None = None
        self.cache: LiveCache | None = None
        self.feed: FeedConsumer | None = None

    async def on_start(self) -> None:
        """Open the resources; MySQL is waited for, since nothing works without it."""
        # The worker has set up logging by now: hold back floods of one message.
        quiet_repeated_logs()
        s = self.settings
        pool = await wait_for_pool(
            self._stack, s.mysql, initial_s=s.retry_initial_s, max_s=s.retry_max_s,
            stopping=lambda: self.should_stop)
        self.cache = await self._stack.enter_async_context(open_cache(s.redis))
        publisher = await self._stack.enter_async_context(
            open_publisher(s.kafka, self.rules.sport, topics=Topics(s.kafka.topic_prefix))
        )
        self.store = Store(
            pool, self.rules, cache_limit=s.state_cache_events, timeout_s=s.transaction_timeout_s
        )
        self.processor = BatchProcessor(
            self.store, CacheSync(self.cache, self.store, self.metrics), publisher, self.metrics,
            retry_initial_s=s.retry_initial_s, retry_max_s=s.retry_max_s,
        )
        self.feed = FeedConsumer(
            s.kafka, Topics(s.kafka.topic_prefix).feed(self.rules.sport),
            s.group_for(self.rules.sport), self.processor,
            batch_max=s.batch_max, batch_within_s=s.batch_within_s,
            batch_interval_s=s.batch_interval_s,
            commit_interval_s=s.commit_interval_s, session_timeout_s=s.session_timeout_s,
        )
        await self.feed.start()
        # What exists now lives as long as the worker: keep the collector off it.
        gc.collect()
        gc.freeze()
        self._ready.set()
        log.info("processor %s ready", self.rules.sport.value)

    async def on_stop(self) -> None:
        """Stop the feed (its batch in progress commits), flush the producer, close
        Redis and the pool."""
        if self.feed is not None:
            await self.feed.stop()
        self._ready.clear()
        await self._stack.aclose()

    def partitions(self) -> set[int]:
        """The feed partitions this worker owns now."""
        return {tp.partition for tp in self.feed.assignment} if self.feed is not None else set()

    async def wait_ready(self) -> None:
        """Return once the resources are open."""
        await self._ready.wait()

    async def readiness(self) -> dict[str, str]:
        """MySQL, Redis and Kafka, each ``ok`` or the error."""
        checks: dict[str, str] = {}
        if self.store is None or self.cache is None:
            return {"mysql": "starting", "redis": "starting", "kafka": "starting"}
        for name, probe in (
            ("mysql", self.store.ping()),
            ("redis", self.cache.ping()),
            ("kafka", kafka_reachable(self.settings.kafka.bootstrap)),
        ):
            try:
                async with asyncio.timeout(3):
                    await probe
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"unreachable: {exc!r}"[:300]
        # Reachable is not enough: a worker stuck on a batch it cannot commit says so,
        # and so does one too far behind its partitions.
        checks["progress"] = self.processor.progress()
        try:
            checks["lag"] = self.lag_check(await self.update_lag())
        except Exception as exc:  # an answer that says why, never a 500
            checks["lag"] = f"unknown: {exc!r}"[:300]
        return checks

    async def update_lag(self) -> dict[int, tuple[int, float]]:
        """Measure the lag of the owned partitions and set the lag metrics."""
        lag = await self.feed.lag() if self.feed is not None else {}
        self.metrics.set_lag(lag)
        return lag

    def lag_check(self, lag: dict[int, tuple[int, float]]) -> str:
        """``ok``, or which partitions are behind by more than ``max_lag_s``."""
        late = {p: v for p, v in lag.items() if v[1] > self.settings.max_lag_s}
        if not late:
            return "ok"
        return "behind: " + ", ".join(
            f"partition {p} by {n:,} records, {s:.0f} s" for p, (n, s) in sorted(late.items()))
