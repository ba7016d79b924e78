"""The Faust app: one agent on the updates and model topics of every sport, and the web views.

Commit mechanics, as in the processors: the agent reads ``stream.noack_take(max,
within)``, batches Faust does not acknowledge by itself, and acknowledges a batch's
records only after :meth:`~.pipeline.TradingPipeline.process` returned (MySQL
committed). Faust commits an offset only when every record up to it was acknowledged,
so a crash between the MySQL commit and the Kafka commit replays records, which the
per-event progress in MySQL turns into no-ops.

Both kinds of topic are keyed by event id and have the same partition count, so one
event's deltas and model prices land on the same worker.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST

from services.trading.runtime.metrics import Metrics
from services.trading.runtime.pipeline import Record, RecordKind
from services.trading.runtime.resources import TradingRuntime
from services.trading.settings import TradingSettings
from shared.enums import Sport
from shared.runtime import faust_app_settings
from shared.stream_batches import take_batches
from shared.topics import Topics

log = logging.getLogger(__name__)


def faust_settings(settings: TradingSettings) -> dict[str, Any]:
    """Faust configuration of the trading app: a new group reads the topics from the start."""
    return faust_app_settings(
        bootstrap=settings.kafka.bootstrap, web_host=settings.web_host,
        web_port=settings.web_port, datadir=settings.data_dir / settings.group_id,
        broker_commit_interval=settings.commit_interval_s,
        broker_commit_every=100_000,
        session_timeout_s=settings.session_timeout_s,
        consumer_auto_offset_reset="earliest",
        stream_buffer_maxsize=settings.stream_buffer,
        stream_wait_empty=True,
        producer_acks=-1,
    )


def topic_kinds(prefix: str) -> dict[str, RecordKind]:
    """Every topic the service reads, and what its records are."""
    topics = Topics(prefix)
    kinds: dict[str, RecordKind] = {topics.updates(s): "delta" for s in Sport}
    kinds.update({topics.model(s): "model" for s in Sport})
    return kinds


def build_app(settings: TradingSettings, runtime: TradingRuntime, metrics: Metrics) -> Any:
    """The Faust app over ``runtime``."""
    app = faust.App(settings.group_id, **faust_settings(settings))
    kinds = topic_kinds(settings.kafka.topic_prefix)
    source = app.topic(*sorted(kinds), value_serializer="raw", key_serializer="raw", internal=False)

    async def trade(stream: Any) -> None:
        """Apply the feed in batches; ack each batch only after its MySQL commit."""
        await runtime.wait_ready()
        async for events in take_batches(stream, settings.batch_max, settings.batch_within_s):
            records = [Record(kinds[e.message.topic], e.message.value) for e in events]
            await runtime.pipeline.process(records)
            for event in events:
                await stream.ack(event)

    app.agent(source, name="sportsfeed.trading", concurrency=1)(trade)
    _add_views(app, runtime, metrics)
    return app


def _add_views(app: Any, runtime: TradingRuntime, metrics: Metrics) -> None:
    async def healthz(self: Any, request: Any) -> Any:
        """Alive: the process answers."""
        return self.json({"status": "ok", "service": "trading"})

    async def readyz(self: Any, request: Any) -> Any:
        """Ready: MySQL, Redis and Kafka reachable, batches committing."""
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        try:
            partitions = sorted({tp.partition for tp in app.consumer.assignment()})
        except Exception:  # consumer not started yet
            partitions = []
        body = {"status": "ready" if ready else "not ready", "service": "trading", **checks,
                "strategies": [s.name for s in runtime.strategies], "partitions": partitions}
        return self.json(body, status=200 if ready else 503)

    async def prometheus(self: Any, request: Any) -> Any:
        """Prometheus exposition."""
        return self.bytes(metrics.render(), content_type=CONTENT_TYPE_LATEST.split("; charset")[0])

    app.page("/healthz")(healthz)
    app.page("/readyz")(readyz)
    app.page("/metrics")(prometheus)
