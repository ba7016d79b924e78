"""The Faust app of one sport: the feed agent, the timers and the web views.

Commit mechanics. The agent reads with ``stream.noack_take(max, within)``: batches of
events that Faust does not acknowledge by itself. Only after
:meth:`~.pipeline.BatchProcessor.process` returns (MySQL committed) does the agent call
``stream.ack(event)`` for each record; Faust's consumer commits to Kafka only offsets
whose records are all acknowledged (every ``commit_interval_s``, and on shutdown and
rebalance after the streams drained). A crash between the MySQL commit and the Kafka
commit replays the records; the ledger recognises them (same partition and offset)
and they have no second effect.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST

from services.processors.domain.incoming import decode_record
from services.processors.runtime.metrics import Metrics
from services.processors.runtime.resources import Runtime
from services.processors.settings import ProcessorSettings
from shared.enums import Sport
from shared.topics import Topics

log = logging.getLogger(__name__)


def faust_settings(sport: Sport, settings: ProcessorSettings) -> dict[str, Any]:
    """Faust configuration of a sport's app."""
    brokers = ";".join(f"kafka://{b.strip()}" for b in settings.kafka.bootstrap.split(","))
    return {
        "broker": brokers,
        "value_serializer": "raw",
        "key_serializer": "raw",
        # Topics are created by ``python -m shared.topics``, never by a worker; no
        # leader topic either (nothing here runs "on leader only").
        "topic_allow_declare": False,
        "topic_disable_leader": True,
        "web_enabled": True,
        "web_host": settings.web_host,
        "web_port": settings.port_for(sport),
        "web_in_thread": False,
        "broker_commit_interval": settings.commit_interval_s,
        "broker_commit_every": 100_000,
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": min(3.0, settings.session_timeout_s / 3),
        "consumer_auto_offset_reset": "earliest",
        "stream_buffer_maxsize": settings.stream_buffer,
        # On shutdown and rebalance, wait for the batch in progress to be committed.
        "stream_wait_empty": True,
        "store": "memory://",
        "datadir": str(settings.data_dir / settings.group_for(sport)),
        "autodiscover": False,
        "producer_acks": -1,
    }


def build_app(
    sport: Sport, settings: ProcessorSettings, runtime: Runtime, metrics: Metrics
) -> Any:
    """The Faust app of ``sport`` over ``runtime`` (the real one, or a fake in tests)."""
    app = faust.App(settings.group_for(sport), **faust_settings(sport, settings))
    topics = Topics(settings.kafka.topic_prefix)
    feed = app.topic(
        topics.feed(sport), value_serializer="raw", key_serializer="raw", internal=False
    )

    async def process(stream: Any) -> None:
        """Apply the feed in batches; ack each batch only after its MySQL commit."""
        await runtime.wait_ready()
        async for events in stream.noack_take(settings.batch_max, within=settings.batch_within_s):
            items = [
                decode_record(
                    e.message.value, e.message.partition, e.message.offset, e.message.timestamp
                )
                for e in events
            ]
            await runtime.processor.process(items)
            for event in events:
                await stream.ack(event)

    app.agent(feed, name=f"sportsfeed.processor.{sport.value}", concurrency=1)(process)

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


def _assignment(app: Any) -> set[Any]:
    try:
        return set(app.consumer.assignment())
    except Exception:  # consumer not started yet
        return set()


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
            "partitions": sorted(tp.partition for tp in _assignment(app)),
        }
        return self.json(body, status=200 if ready else 503)

    async def prometheus(self: Any, request: Any) -> Any:
        """Prometheus exposition."""
        return self.bytes(metrics.render(), content_type=CONTENT_TYPE_LATEST.split("; charset")[0])

    app.page("/healthz")(healthz)
    app.page("/readyz")(readyz)
    app.page("/metrics")(prometheus)
