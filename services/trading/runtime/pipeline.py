"""One batch of Kafka records: model prices remembered, deltas applied in one MySQL transaction.

Model records change nothing in MySQL: they join the engine's model book at once (all
of a batch's models before its deltas; the recency rule keeps a delta from using a
model of a later state, whatever the order they arrived in). An event with a delta but
no model prices in memory (the service restarted after its model records were
committed) gets its latest ones from Redis, where the pricing service keeps them.

Deltas go to :meth:`TradingStore.apply` with retries and exponential backoff: nothing is
acknowledged, so no offset is committed, until MySQL has committed the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import ValidationError

from services.trading.domain.book import Book
from services.trading.domain.engine import Engine
from services.trading.runtime.metrics import Metrics
from shared.fair import ModelPrices, model_key
from shared.live import EventDelta
from shared.retry import RetryCallState, retrying

log = logging.getLogger(__name__)

RecordKind = Literal["delta", "model"]


@dataclass(frozen=True, slots=True)
class Record:
    """A Kafka record's value and which kind of topic it came from."""

    kind: RecordKind
    value: bytes


class StoreLike(Protocol):
    """What the pipeline needs of the storage layer (faked in unit tests)."""

    async def apply(self, deltas: Sequence[EventDelta], engine: Engine, now: datetime) -> Book:
        """Apply a batch of deltas in one transaction."""


class ModelSource(Protocol):
    """Where model prices not seen on the topic are read from (Redis)."""

    async def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values of ``keys``, None where absent."""


def utc_now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


class TradingPipeline:
    """Applies batches of records; readiness and metrics read its progress."""

    def __init__(self, engine: Engine, store: StoreLike, models: ModelSource, prefix: str,
                 metrics: Metrics, *, redis_retry_s: float = 5.0, retry_initial_s: float = 0.2,
                 retry_max_s: float = 5.0, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.store = store
        self._models = models
        self._prefix = prefix
        self.metrics = metrics
        self._redis_retry_s = redis_retry_s
        self._retry_initial = retry_initial_s
        self._retry_max = retry_max_s
        self._clock = clock
        self._asked: dict[str, float] = {}  # event -> when Redis last had no model for it
        self._stalled_since: float | None = None
        self._stall_reason = ""
        metrics.stalled_seconds.set_function(self.stalled_for)

    async def process(self, records: Sequence[Record]) -> Book | None:
        """Apply a batch; returns once MySQL committed its deltas (however long that takes)."""
        deltas: list[EventDelta] = []
        for record in records:
            self.metrics.records.labels(record.kind).inc()
            try:
                if record.kind == "model":
                    self.engine.models.add(ModelPrices.model_validate_json(record.value))
                else:
                    deltas.append(EventDelta.model_validate_json(record.value))
            except (ValidationError, ValueError) as exc:
                self.metrics.bad_records.labels(record.kind).inc()
                log.error("skipping a %s record that does not decode: %s", record.kind, str(exc)[:300])
        if not deltas:
            return None
        await self._models_from_redis(deltas)
        book = await self._apply(deltas)
        self.engine.committed(book)
        self.metrics.committed(book)
        return book

    async def _models_from_redis(self, deltas: Sequence[EventDelta]) -> None:
        """Read the latest model prices of events the engine has none of (best effort)."""
        now = time.monotonic()
        wanted = sorted({d.event_id for d in deltas if d.markets and d.event_id not in self.engine.models
                         and now - self._asked.get(d.event_id, -1e9) >= self._redis_retry_s})
        if not wanted:
            return
        try:
            values = await self._models.mget([model_key(self._prefix, e) for e in wanted])
        except Exception as exc:  # Redis is a cache: trade without it until it answers
            log.warning("reading model prices from Redis failed: %r", exc)
            return
        for event_id, value in zip(wanted, values, strict=True):
            if value is None:
                self._asked[event_id] = now
                continue
            try:
                self.engine.models.add(ModelPrices.model_validate_json(value))
                self.metrics.models_from_redis.inc()
            except (ValidationError, ValueError) as exc:
                log.error("model prices of %s in Redis do not decode: %s", event_id, str(exc)[:300])
        if len(self._asked) > 100_000:
            self._asked.clear()

    async def _apply(self, deltas: list[EventDelta]) -> Book:
        def stalled(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            self.metrics.mysql_retries.inc()
            if self._stalled_since is None:
                self._stalled_since = time.monotonic()
            self._stall_reason = f"batch of {len(deltas)} deltas: {exc!r}"[:500]
            log.warning("trading batch of %d deltas not committed (%r); retrying in %.1fs",
                        len(deltas), exc, state.upcoming_sleep)

        async for attempt in retrying(initial_s=self._retry_initial, max_s=self._retry_max,
                                      before_sleep=stalled):
            with attempt:
                started = time.perf_counter()
                book = await self.store.apply(deltas, self.engine, self._clock())
                self.metrics.batch_seconds.observe(time.perf_counter() - started)
                self._stalled_since = None
                return book
        raise AssertionError("unreachable: the retries never give up")

    def stalled_for(self) -> float:
        """Seconds the current batch has been failing (0 while batches commit)."""
        return 0.0 if self._stalled_since is None else time.monotonic() - self._stalled_since

    def progress(self) -> str:
        """``ok``, or how long the service has been stuck on a batch and why."""
        if self._stalled_since is None:
            return "ok"
        return f"stalled for {self.stalled_for():.0f}s on a {self._stall_reason}"
