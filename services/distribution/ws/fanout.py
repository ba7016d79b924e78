"""The updates and model topics into the hub: one aiokafka consumer per distribution instance.

Deltas (``<prefix>.<sport>.updates``) and the pricing service's model prices
(``<prefix>.<sport>.model``, ``shared.fair.ModelPrices``) come through the same
consumer; each record goes to the hub by its topic.

Every instance is its own consumer group (a unique id per process) starting at the
latest offset: each instance sees every update from the moment it is up, so several
instances run side by side, each serving its own clients. Offsets are never
committed: a restarted instance starts from "now" and its clients resume or resync.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from services.distribution.settings import DistributionSettings
from services.distribution.ws.hub import Hub
from shared.enums import Sport
from shared.fair import ModelPrices
from shared.live import EventDelta
from shared.topics import Topics

log = logging.getLogger(__name__)

MAX_RECORDS = 5000
RETRY_INITIAL_S, RETRY_MAX_S = 0.5, 10.0


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
        self.topics = [topics.updates(s) for s in Sport] + list(self._models)

    async def start(self) -> None:
        """Connect, join the group and start consuming in the background."""
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._settings.kafka.bootstrap,
            group_id=self._settings.consumer_group,
            auto_offset_reset="latest",
            enable_auto_commit=False,
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
        backoff = RETRY_INITIAL_S
        while True:
            try:
                if not self.ready:
                    await self._position(consumer)
                batches = await consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
            except KafkaError as exc:
                # aiokafka retries most failures itself; what reaches here is logged and
                # retried with backoff, so a broker outage never ends the fan-out.
                log.warning("updates consumer: %r; retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_S)
                continue
            backoff = RETRY_INITIAL_S
            deltas: list[EventDelta] = []
            raws: list[bytes] = []
            models: list[tuple[str, Sport, dict[str, Any]]] = []
            for records in batches.values():
                for record in records:
                    try:
                        if record.topic in self._models:
                            prices = ModelPrices.model_validate_json(record.value)
                            models.append((prices.event_id, prices.sport,
                                           prices.model_dump(mode="json")))
                            continue
                        deltas.append(EventDelta.model_validate_json(record.value))
                        raws.append(record.value)
                    except (ValidationError, ValueError, TypeError) as exc:
                        self.invalid += 1
                        log.warning("skipping an undecodable record at %s:%d: %s",
                                    record.topic, record.offset, str(exc)[:200])
            try:
                if deltas:
                    self._hub.dispatch(deltas, raws)
                if models:
                    self._hub.dispatch_models(models)
            except Exception:  # a bug must cost one batch, not the whole fan-out
                log.exception("dispatching %d updates and %d model prices failed", len(deltas),
                              len(models))

    async def _position(self, consumer: AIOKafkaConsumer) -> None:
        """Ready once every assigned partition has its position (the "latest" offset).

        Until then an update published now might land before the offset the reset
        picks, and be missed: readiness waits for it.
        """
        assignment = consumer.assignment()
        if not assignment:
            return
        for partition in assignment:
            await consumer.position(partition)
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
