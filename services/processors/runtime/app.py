"""The Faust app of one sport: the worker around the feed consumer, its timers and views.

Faust runs the worker (signals, the web server, timers, the shutdown order); the feed
topic itself is taken in bulk by :class:`~.consumer.FeedConsumer` (an aiokafka consumer
in the worker's consumer group, opened by the runtime), so Faust's own Kafka consumer and
producer are not started (:class:`ProcessorBoot`): a Faust app with no topic of its own.

Commit mechanics (in :mod:`.consumer`): an offset becomes committable only once
:meth:`~.pipeline.BatchProcessor.process` returned (MySQL committed); committable offsets
are committed every ``commit_interval_s``, before a rebalance takes partitions away and
on shutdown. A crash between the MySQL commit and the Kafka commit replays the records;
the ledger recognises them (same partition and offset) and they have no second effect.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from faust.app.base import BootStrategy
from prometheus_client import CONTENT_TYPE_LATEST

from services.processors.runtime.metrics import Metrics
from services.processors.runtime.resources import Runtime
from services.processors.settings import ProcessorSettings
from shared.enums import Sport
from shared.runtime import faust_app_settings

log = logging.getLogger(__name__)


class ProcessorBoot(BootStrategy):
    """Faust's services a processor needs: the web server and timers, no Kafka client of
    its own (the feed consumer and the updates producer are the runtime's), no sensors."""

    enable_kafka_consumer = False
    enable_kafka_producer = False
    enable_sensors = False


class ProcessorApp(faust.App):
    """A Faust app booted with :class:`ProcessorBoot`."""

    BootStrategy = ProcessorBoot


def faust_settings(sport: Sport, settings: ProcessorSettings) -> dict[str, Any]:
    """Faust configuration of a sport's app (its Kafka clients are the runtime's own)."""
    return faust_app_settings(
        bootstrap=settings.kafka.bootstrap, web_host=settings.web_host,
        web_port=settings.port_for(sport), datadir=settings.data_dir / settings.group_for(sport),
        producer_acks=-1,
    )


def build_app(
    sport: Sport, settings: ProcessorSettings, runtime: Runtime, metrics: Metrics
) -> Any:
    """The Faust app of ``sport`` over ``runtime`` (the real one, or a fake in tests)."""
    app = ProcessorApp(settings.group_for(sport), **faust_settings(sport, settings))

    async def check_liveness() -> None:
        """Suspend the markets of providers silent longer than the alive window."""
        try:
            await runtime.wait_ready()
            await runtime.processor.sweep_silence(settings.alive_window_s)
        except Exception as exc:  # the next tick tries again
            log.warning("liveness check failed: %r", exc)

    async def repair_cache() -> None:
        """Write the snapshots Redis missed while it was away."""
        try:
            await runtime.wait_ready()
            await runtime.processor.cache.repair()
        except Exception as exc:
            log.warning("redis repair failed: %r", exc)

    app.timer(settings.alive_check_interval_s, name="liveness")(check_liveness)
    app.timer(settings.repair_interval_s, name="redis-repair")(repair_cache)
    _add_views(app, sport, runtime, metrics)
    return app


def _add_views(app: Any, sport: Sport, runtime: Runtime, metrics: Metrics) -> None:
    async def healthz(self: Any, request: Any) -> Any:
        """Alive: the process answers."""
        return self.json({"status": "ok", "sport": sport.value})

    async def readyz(self: Any, request: Any) -> Any:
        """Ready: MySQL, Redis and Kafka reachable."""
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {
            "status": "ready" if ready else "not ready", "sport": sport.value, **checks,
            # Informational: a second worker of a sport may rightly own no partition.
            "partitions": sorted(runtime.partitions()),
        }
        return self.json(body, status=200 if ready else 503)

    async def prometheus(self: Any, request: Any) -> Any:
        """Prometheus exposition (the feed's lag measured as it is scraped)."""
        await runtime.update_lag()
        return self.bytes(metrics.render(), content_type=CONTENT_TYPE_LATEST.split("; charset")[0])

    app.page("/healthz")(healthz)
    app.page("/readyz")(readyz)
    app.page("/metrics")(prometheus)
