"""The updates and model topics into the hub: one aiokafka consumer per distribution instance.

Deltas (``<prefix>.<sport>.updates``) and the pricing service's model prices
(``<prefix>.<sport>.model``, ``shared.fair.ModelPrices``) come through the same
consumer; each record goes to the hub by its topic. A delta is checked for what the hub
routes on and kept as the JSON the processor wrote (``DeltaOut.from_record``); a record
without a delta's head is skipped and counted (``invalid``).

Every instance is its own consumer group (a unique id per process) starting at the
latest offset: each instance sees every update from the moment it is up, so several
instances run side by side, each serving its own clients. Offsets are never
committed: a restarted instance starts from "now" and its clients resume or resync.

Lag (:meth:`Fanout.lag`), per topic and partition: the records between what was handed
to the hub and the broker's end offsets (asked of the broker: the consumer's own high
watermark is only as fresh as its last fetch), and how long the partition has been
behind (:class:`shared.lag.BehindSince`). It is measured when ``/metrics`` or ``/readyz``
is read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from services.distribution.settings import DistributionSettings
from services.distribution.ws.hub import Hub
from services.distribution.ws.ring import DeltaOut
from shared.enums import Sport
from shared.fair import ModelPrices
from shared.lag import BehindSince, end_offsets
from shared.retry import RetryCallState, call_retrying
from shared.topics import Topics

log = logging.getLogger(__name__)

MAX_RECORDS = 5000
RETRY_INITIAL_S, RETRY_MAX_S = 0.5, 10.0


@dataclass(frozen=True)
class PartitionLag:
    """How far one partition of the consumed topics is behind the broker."""

    topic: str
    sport: Sport
    partition: int
    records: int  # behind the broker's end offset
    seconds: float  # since the partition was last seen caught up (0 when it is)


class Fanout:
    """Consumes every sport's updates and model topics and dispatches to the hub."""

    def __init__(self, settings: DistributionSettings, hub: Hub) -> None:
        self._settings = settings
        self._hub = hub
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.ready = False
        self._ready_event = asyncio.Event()
        self.invalid = 0
        topics = Topics(settings.kafka.topic_prefix)
        self._models = {topics.model(s): s for s in Sport}
        self._sports = {**self._models, **{topics.updates(s): s for s in Sport}}
        self.topics = [topics.updates(s) for s in Sport] + list(self._models)
        # Per partition: the next offset to hand to the hub, and the end offsets seen.
        self._next: dict[Any, int] = {}
        self._behind = BehindSince()
        self.last_lag: list[PartitionLag] = []

    async def start(self) -> None:
        """Connect, join the group and start consuming in the background."""
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._settings.kafka.bootstrap,
            group_id=self._settings.consumer_group,
            auto_offset_reset="latest",
            enable_auto_commit=False,
            # A long poll: the broker answers at the first byte of a new record, or
            # after fetch_max_wait_ms with nothing (all an idle instance costs).
            fetch_min_bytes=1,
            fetch_max_wait_ms=self._settings.fetch_max_wait_ms,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
            request_timeout_ms=15_000,
        )
        await consumer.start()
        self._consumer = consumer
        self._task = asyncio.get_running_loop().create_task(self._run(consumer))

    @property
    def running(self) -> bool:
        """True while the consumer loop runs and has its partitions positioned."""
        return self.ready and self._task is not None and not self._task.done()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await self._fetch(consumer)
            for tp, fetched in batches.items():
                if fetched:
                    self._next[tp] = fetched[-1].offset + 1
            deltas: list[DeltaOut] = []
            models: list[tuple[str, Sport, dict[str, Any]]] = []
            for records in batches.values():
                for record in records:
                    try:
                        if record.topic in self._models:
                            prices = ModelPrices.model_validate_json(record.value)
                            models.append((prices.event_id, prices.sport,
                                           prices.model_dump(mode="json")))
                            continue
                        deltas.append(DeltaOut.from_record(record.value))
                    except (ValidationError, ValueError, TypeError) as exc:
                        self.invalid += 1
                        log.warning("skipping an undecodable record at %s:%d: %s",
                                    record.topic, record.offset, str(exc)[:200])
            try:
                if deltas:
                    self._hub.dispatch_out(deltas)
                if models:
                    self._hub.dispatch_models(models)
            except Exception:  # a bug must cost one batch, not the whole fan-out
                log.exception("dispatching %d updates and %d model prices failed", len(deltas),
                              len(models))

    async def _fetch(self, consumer: AIOKafkaConsumer) -> dict[Any, list[Any]]:
        """The next records; Kafka errors are retried with backoff, so a broker outage
        never ends the fan-out (aiokafka retries most failures itself; what reaches here
        is logged before each wait)."""

        async def fetch() -> dict[Any, list[Any]]:
            if not self.ready:
                await self._position(consumer)
            batches: dict[Any, list[Any]] = await consumer.getmany(
                timeout_ms=200, max_records=MAX_RECORDS)
            return batches

        return await call_retrying(fetch, initial_s=RETRY_INITIAL_S, max_s=RETRY_MAX_S,
                                   retry_on=KafkaError, before_sleep=_retrying_in)

    async def lag(self) -> list[PartitionLag]:
        """Each assigned partition's lag behind the broker's end offsets (also kept in
        :attr:`last_lag` for the metrics); partitions not positioned yet are left out."""
        consumer = self._consumer
        owned = [tp for tp in (consumer.assignment() if consumer is not None else ())
                 if tp in self._next]
        if consumer is None or not owned:
            self.last_lag = []
            return []
        ends = await end_offsets(consumer, owned)
        now = time.time()
        found = []
        for tp in owned:
            high = ends.get(tp)
            if high is None:
                continue
            behind = max(0, high - self._next[tp])
            age = self._behind.age(tp, high, self._next[tp], now)
            found.append(PartitionLag(tp.topic, self._sports[tp.topic], tp.partition, behind,
                                      age if behind else 0.0))
        self.last_lag = found
        return found

    async def _position(self, consumer: AIOKafkaConsumer) -> None:
        """Ready once every assigned partition has its position (the "latest" offset).

        Until then an update published now might land before the offset the reset
        picks, and be missed: readiness waits for it.
        """
        assignment = consumer.assignment()
        if not assignment:
            return
        for partition in assignment:
            self._next.setdefault(partition, await consumer.position(partition))
        self.ready = True
        self._ready_event.set()
        log.info("fan-out ready: %d partitions of %d topics", len(assignment), len(self.topics))

    async def wait_ready(self, within_s: float) -> None:
        """Wait until the consumer is positioned (raises ``TimeoutError`` after ``within_s``)."""
        async with asyncio.timeout(within_s):
            await self._ready_event.wait()

    async def stop(self) -> None:
        """Stop consuming and leave the group."""
        self.ready = False
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            if not self._task.cancelled() and self._task.exception() is not None:
                log.error("fan-out loop had failed: %r", self._task.exception())
        if self._consumer is not None:
            await self._consumer.stop()

    def failure(self) -> BaseException | None:
        """Why the consumer loop stopped, when it stopped on its own."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        return self._task.exception()


def _retrying_in(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    log.warning("updates consumer: %r; retrying in %.1fs", exc, state.upcoming_sleep)
