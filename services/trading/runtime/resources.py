"""The service's resources (MySQL pool, Redis) as one Faust service, and its pipeline.

Faust starts user services after its agents and stops them after the streams drained
and the offsets were committed, so the pool stays open until the last batch is done.
The agent waits for :meth:`TradingRuntime.wait_ready` before its first batch. Start-up
registers the configured strategies (their deposits go to the ledger once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from mode import Service

from services.trading.domain.engine import Engine
from services.trading.domain.models import ModelBook
from services.trading.domain.strategies import Strategy
from services.trading.runtime.metrics import Metrics
from services.trading.runtime.pipeline import TradingPipeline, utc_now
from services.trading.settings import TradingSettings
from services.trading.storage.store import TradingStore
from shared.cache import LiveCache, open_cache
from shared.retry import RetryCallState, retrying
from shared.runtime import kafka_reachable, quiet_repeated_logs
from shared.storage.pool import create_pool

log = logging.getLogger(__name__)


class RedisModels:
    """The pipeline's model source over the Redis client (values as bytes)."""

    def __init__(self, cache: LiveCache) -> None:
        self._client = cache.client

    async def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values of ``keys``, None where absent."""
        values = await self._client.mget(list(keys))
        return [v.encode() if isinstance(v, str) else v for v in values]


class TradingRuntime(Service):
    """Opens the pool and Redis, registers the strategies, builds the pipeline; closes on stop."""

    pipeline: TradingPipeline  # set once started (the agent waits for wait_ready)

    def __init__(self, settings: TradingSettings, strategies: Sequence[Strategy],
                 metrics: Metrics) -> None:
        super().__init__()
        self.settings = settings
        self.strategies = tuple(strategies)
        self.metrics = metrics
        self._ready = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self.store: TradingStore | None = None
        self.cache: LiveCache | None = None

    async def on_start(self) -> None:
        """Open the resources; MySQL is waited for, since nothing works without it."""
        quiet_repeated_logs()
        s = self.settings

        async def waiting(state: RetryCallState) -> None:
            await self._stack.aclose()  # the pool of the failed try
            exc = state.outcome.exception() if state.outcome is not None else None
            log.warning("waiting for MySQL at %s:%s: %r", s.mysql.host, s.mysql.port, exc)

        async for attempt in retrying(initial_s=s.retry_initial_s, max_s=s.retry_max_s,
                                      give_up=lambda: self.should_stop, before_sleep=waiting):
            with attempt:
                pool = await self._stack.enter_async_context(create_pool(s.mysql))
                store = TradingStore(pool)
                created = await store.ensure_strategies(self.strategies, utc_now())
        self.store = store
        self.cache = await self._stack.enter_async_context(open_cache(s.redis))
        models = ModelBook(keep=s.model_versions_kept, max_events=s.model_events_kept,
                           max_age_s=s.model_max_age_s)
        engine = Engine(self.strategies, models, max_price_age_s=s.max_price_age_s)
        self.pipeline = TradingPipeline(
            engine, store, RedisModels(self.cache), s.redis.key_prefix, self.metrics,
            redis_retry_s=s.model_redis_retry_s, retry_initial_s=s.retry_initial_s,
            retry_max_s=s.retry_max_s,
        )
        self._ready.set()
        log.info("trading ready: strategies %s (new: %s)",
                 ", ".join(x.name for x in self.strategies), ", ".join(created) or "none")

    async def on_stop(self) -> None:
        """Close Redis and the pool."""
        self._ready.clear()
        await self._stack.aclose()

    async def wait_ready(self) -> None:
        """Return once the resources are open and the strategies registered."""
        await self._ready.wait()

    async def readiness(self) -> dict[str, str]:
        """MySQL, Redis, Kafka (each ``ok`` or the error) and batch progress."""
        if self.store is None or self.cache is None:
            return {"mysql": "starting", "redis": "starting", "kafka": "starting"}
        checks: dict[str, str] = {}
        for name, probe in (("mysql", self.store.ping()), ("redis", self.cache.ping()),
                            ("kafka", kafka_reachable(self.settings.kafka.bootstrap))):
            try:
                async with asyncio.timeout(3):
                    await probe
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"unreachable: {exc!r}"[:300]
        checks["progress"] = self.pipeline.progress()
        return checks
