"""ModelPrices out: to Redis (the latest per event) first, then to ``<prefix>.<sport>.model``.

Redis is written first, as the processors write snapshots before deltas: a consumer of
the model topic that looks an event up in Redis finds prices at least as new. One Lua
script call per batch writes every event's prices and never replaces newer ones (by
``event_version``: a lagging worker after a rebalance cannot move an event back; equal
versions do replace, which is how a new model's prices take over). An ended event's
prices expire after ``ended_ttl_s``.

Kafka sends are keyed by event id and not awaited one by one; failures are counted when
the next batch publishes, and a send that failed with an error an idempotent producer
never recovers from (``shared.producer``) makes the next publish replace the producer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaProducer

from services.pricing.runtime.metrics import Metrics
from shared.enums import Sport
from shared.fair import ModelPrices, model_key
from shared.producer import Sends
from shared.settings import KafkaSettings
from shared.topics import Topics

log = logging.getLogger(__name__)

# KEYS: the events' model keys. ARGV, per key: the JSON, its event_version, a TTL (0: none).
# The stored version is read from the JSON: ModelPrices puts event_version right after
# event_id and sport, whose values cannot hold quotes, so the first match is it.
_WRITE_LUA = """
local written = 0
for i = 1, #KEYS do
  local a = (i - 1) * 3
  local version = tonumber(ARGV[a + 2])
  local current = redis.call('GET', KEYS[i])
  local stored = -1
  if current then
    local v = string.match(current, '"event_version":(%d+)')
    if v then stored = tonumber(v) end
  end
  if version >= stored then
    local ttl = tonumber(ARGV[a + 3])
    if ttl > 0 then
      redis.call('SET', KEYS[i], ARGV[a + 1], 'EX', ttl)
    else
      redis.call('SET', KEYS[i], ARGV[a + 1])
    end
    written = written + 1
  end
end
return written
"""
CHUNK = 500
Encoded = tuple[ModelPrices, bytes]


class ModelPublisher:
    """Writes model prices to Redis and the model topics."""

    def __init__(
        self, producer: AIOKafkaProducer, redis: Any, *, prefix: str, topics: Topics,
        ended_ttl_s: int, metrics: Metrics, factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self._sends = Sends(producer, factory, what="model prices")
        self._redis = redis
        self._write = redis.register_script(_WRITE_LUA)
        self._prefix = prefix
        self._topics = {sport: topics.model(sport) for sport in Sport}
        self._ttl = ended_ttl_s
        self._metrics = metrics

    async def publish(self, items: Sequence[Encoded]) -> None:
        """Write ``items`` (prices and their JSON) to Redis, then queue them for Kafka."""
        if not items:
            return
        await self.write_redis(items)
        self._metrics.publish_failures.labels("kafka").inc(self._sends.reap())
        send = (await self._sends.producer()).send
        for prices, raw in items:
            self._sends.track(await send(self._topics[prices.sport], value=raw,
                                         key=prices.event_id.encode()))

    async def write_redis(self, items: Sequence[Encoded]) -> None:
        """The latest prices per event in Redis (failures counted and logged, never raised)."""
        try:
            for start in range(0, len(items), CHUNK):
                part = items[start:start + CHUNK]
                args: list[Any] = []
                for prices, raw in part:
                    ttl = self._ttl if prices.phase == "ended" else 0
                    args += [raw, prices.event_version, ttl]
                await self._write(keys=[model_key(self._prefix, p.event_id) for p, _ in part],
                                  args=args)
        except Exception as exc:  # Redis is the cache of this topic: the topic still gets them
            self._metrics.publish_failures.labels("redis").inc()
            log.warning("writing %d model prices to Redis failed: %r", len(items), exc)

    async def drop(self, event_ids: Sequence[str]) -> None:
        """Forget the prices of void events in Redis."""
        if not event_ids:
            return
        try:
            await self._redis.delete(*[model_key(self._prefix, e) for e in event_ids])
        except Exception as exc:
            self._metrics.publish_failures.labels("redis").inc()
            log.warning("dropping %d model prices from Redis failed: %r", len(event_ids), exc)

    async def close(self) -> None:
        """Wait for everything queued, then stop the producer."""
        await self._sends.close()


@asynccontextmanager
async def open_publisher(kafka: KafkaSettings, redis: Any, *, prefix: str, ended_ttl_s: int,
                         metrics: Metrics) -> AsyncIterator[ModelPublisher]:
    """A started publisher; flushed and stopped on exit."""
    def factory() -> AIOKafkaProducer:
        return AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=5, max_batch_size=256 * 1024)

    producer = factory()
    await producer.start()
    publisher = ModelPublisher(producer, redis, prefix=prefix, topics=Topics(kafka.topic_prefix),
                               ended_ttl_s=ended_ttl_s, metrics=metrics, factory=factory)
    try:
        yield publisher
    finally:
        await publisher.close()
