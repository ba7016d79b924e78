"""The service's resources (MySQL pool, Redis, producer) and its models, as one Faust service.

Faust starts user services after its agents and stops them after the streams drained,
so the pools outlive the last batch. On start: MySQL is waited for, Redis and the
producer opened, the newest stored model of each sport loaded (the prior where there
is none), and every unfinished event Redis knows is priced once, so fair prices exist
from the first minute. The agent waits for :meth:`PricingRuntime.wait_ready`.

Models: :meth:`PricingRuntime.refresh_models` (a timer) switches a sport to its newest
stored model and reprices the sport's events; :meth:`PricingRuntime.refit` (another)
runs ``python -m services.pricing fit --all --if-new N`` as a child process, so a fit's
CPU never stalls the live path, and looks for new models as soon as it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from mode import Service

from services.pricing.domain.book import EventBook
from services.pricing.domain.models import PricingModel, prior
from services.pricing.runtime.metrics import Metrics
from services.pricing.runtime.pricer import Pricer
from services.pricing.runtime.publisher import open_publisher
from services.pricing.settings import PricingSettings
from services.pricing.storage.models import load_model, newest_ids
from shared.cache import LiveCache, open_cache
from shared.enums import Sport
from shared.live import EventSnapshot
from shared.runtime import kafka_reachable, quiet_repeated_logs
from shared.storage.pool import Pool, ping, wait_for_pool
from shared.storage.snapshots import load_snapshots

log = logging.getLogger(__name__)
MYSQL_TIMEOUT_S = 10.0


class Snapshots:
    """Snapshots from Redis, and from MySQL for what Redis lacks (or when it is away)."""

    def __init__(self, cache: LiveCache, pool: Pool) -> None:
        self._cache = cache
        self._pool = pool

    async def load(self, event_ids: Sequence[str]) -> list[EventSnapshot]:
        """The snapshots of the events that exist."""
        found: dict[str, EventSnapshot] = {}
        try:
            for event_id, snap in zip(event_ids, await self._cache.read_many(event_ids),
                                      strict=True):
                if snap is not None:
                    found[event_id] = snap
        except Exception as exc:
            log.warning("redis read of %d snapshots failed (%r): reading MySQL", len(event_ids), exc)
        missing = [e for e in event_ids if e not in found]
        if missing:
            try:
                async with asyncio.timeout(MYSQL_TIMEOUT_S), self._pool.acquire() as conn:
                    async with conn.cursor() as cur:
                        found.update(await load_snapshots(cur, missing))
                    await conn.commit()
            except Exception as exc:
                log.warning("MySQL read of %d snapshots failed: %r", len(missing), exc)
        return [found[e] for e in event_ids if e in found]

    async def event_ids(self, sport: Sport) -> list[str]:
        """Every event of the sport Redis has a snapshot of."""
        return await self._cache.event_ids(sport)


class PricingRuntime(Service):
    """Opens the pools, the producer and the models; closes them on stop."""

    pricer: Pricer  # set once started (the agent waits for :meth:`wait_ready`)

    def __init__(self, settings: PricingSettings, metrics: Metrics) -> None:
        super().__init__()
        self.settings = settings
        self.metrics = metrics
        self._ready = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self.pool: Pool | None = None
        self.cache: LiveCache | None = None
        self.models: dict[Sport, PricingModel] = {}
        self._refit: asyncio.subprocess.Process | None = None

    async def on_start(self) -> None:
        """Open everything, load the models, price what Redis holds."""
        quiet_repeated_logs()
        s = self.settings
        self.pool = await wait_for_pool(
            self._stack, s.mysql, initial_s=s.retry_initial_s, max_s=s.retry_max_s,
            stopping=lambda: self.should_stop)
        self.cache = cache = await self._stack.enter_async_context(open_cache(s.redis))
        publisher = await self._stack.enter_async_context(open_publisher(
            s.kafka, cache.client, prefix=s.redis.key_prefix, ended_ttl_s=s.ended_ttl_s,
            metrics=self.metrics))
        self.models = {sport: prior(sport) for sport in Sport}
        for sport, model in self.models.items():
            self.metrics.use_model(sport, model.version, model.training_size, None)
        book = EventBook(self.models, margin=s.margin, method=s.margin_method,
                         max_events=s.max_events)
        self.pricer = Pricer(book, Snapshots(cache, self.pool), publisher, self.metrics)
        await self.refresh_models()
        await self.pricer.prime()
        self._ready.set()
        log.info("pricing ready: %s", ", ".join(m.version for m in self.models.values()))

    async def on_stop(self) -> None:
        """Stop a refit in progress, flush the producer, close Redis and the pool."""
        self._ready.clear()
        child = self._refit
        if child is not None and child.returncode is None:
            child.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child.wait(), 10)
            if child.returncode is None:
                child.kill()
                await child.wait()
        await self._stack.aclose()

    async def wait_ready(self) -> None:
        """Return once the resources are open and the models loaded."""
        await self._ready.wait()

    # -- models ------------------------------------------------------------------------

    async def refresh_models(self) -> list[str]:
        """Switch each sport to its newest stored model, if it changed; the new versions."""
        assert self.pool is not None
        async with asyncio.timeout(MYSQL_TIMEOUT_S), self.pool.acquire() as conn:
            async with conn.cursor() as cur:
                newest = await newest_ids(cur)
                changed = {}
                for sport, model_id in newest.items():
                    if self.models[sport].model_id == model_id:
                        continue
                    stored = await load_model(cur, model_id)
                    if stored is None:
                        continue
                    try:
                        changed[sport] = stored.pricing_model()
                    except (ValueError, KeyError, TypeError) as exc:
                        log.error("cannot price with %s (%r): keeping %s", stored.version, exc,
                                  self.models[sport].version)
            await conn.commit()
        for sport, model in changed.items():
            previous = self.models[sport]
            self.models[sport] = model
            self.metrics.use_model(sport, model.version, model.training_size, previous.version)
            await self.pricer.switch_model(model)
        return [m.version for m in changed.values()]

    async def refit(self) -> int | None:
        """Run the periodic refit as a child process; its exit status (None: one still runs)."""
        if self._refit is not None and self._refit.returncode is None:
            return None
        s = self.settings
        command = [sys.executable, "-m", "services.pricing", "fit", "--all", "--if-new",
                   str(s.refit_min_new)]
        self._refit = child = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env=dict(os.environ), start_new_session=True)
        try:
            out, _ = await asyncio.wait_for(child.communicate(), s.refit_timeout_s)
        except TimeoutError:
            child.kill()
            await child.wait()
            self.metrics.refits.labels("timeout").inc()
            log.error("refit took over %.0f s: killed", s.refit_timeout_s)
            return child.returncode
        for line in out.decode(errors="replace").splitlines():
            log.info("refit: %s", line)
        self.metrics.refits.labels("ok" if child.returncode == 0 else "failed").inc()
        await self.refresh_models()
        return child.returncode

    # -- health ------------------------------------------------------------------------

    async def readiness(self) -> dict[str, Any]:
        """MySQL, Redis and Kafka, each ``ok`` or the error; the models in use."""
        if self.pool is None or self.cache is None or not self._ready.is_set():
            return {"mysql": "starting", "redis": "starting", "kafka": "starting"}
        checks: dict[str, Any] = {}
        for name, probe in (("mysql", ping(self.pool)), ("redis", self.cache.ping()),
                            ("kafka", kafka_reachable(self.settings.kafka.bootstrap))):
            try:
                async with asyncio.timeout(3):
                    await probe
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"unreachable: {exc!r}"[:300]
        return checks
