"""The Faust app: the agent on the four updates topics, the model timers and the web views.

The agent reads ``stream.noack_take(batch_max, within)`` and acknowledges a batch's
records once their prices are published (sent to Redis and queued for Kafka), so a
crash replays them; replays are harmless (a delta already applied is ``old``). A new
consumer group starts at the topics' end: the state comes from the Redis snapshots at
start-up, not from replaying history.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST

from services.pricing.runtime.metrics import Metrics
from services.pricing.runtime.resources import PricingRuntime
from services.pricing.settings import PricingSettings
from shared.enums import Sport
from shared.runtime import faust_app_settings
from shared.stream_batches import take_batches
from shared.topics import Topics

log = logging.getLogger(__name__)


def faust_settings(settings: PricingSettings) -> dict[str, Any]:
    """Faust configuration of the pricing app: a new group starts at the topics' end."""
    return faust_app_settings(
        bootstrap=settings.kafka.bootstrap, web_host=settings.web_host,
        web_port=settings.web_port, datadir=settings.data_dir / settings.group_id,
        broker_commit_interval=settings.commit_interval_s,
        session_timeout_s=settings.session_timeout_s,
        consumer_auto_offset_reset="latest",
        stream_buffer_maxsize=settings.stream_buffer,
        stream_wait_empty=True,
    )


def build_app(settings: PricingSettings, runtime: PricingRuntime, metrics: Metrics) -> Any:
    """The Faust app over ``runtime``."""
    app = faust.App(settings.group_id, **faust_settings(settings))
    topics = Topics(settings.kafka.topic_prefix)
    updates = app.topic(*(topics.updates(s) for s in Sport), value_serializer="raw",
                        key_serializer="raw", internal=False)

    async def price(stream: Any) -> None:
        """Price the events each batch of deltas moves; ack once published."""
        await runtime.wait_ready()
        async for events in take_batches(stream, settings.batch_max, settings.batch_within_s):
            await runtime.pricer.process([e.message.value for e in events])
            for event in events:
                await stream.ack(event)

    app.agent(updates, name="sportsfeed.pricing", concurrency=1)(price)

    async def models() -> None:
        """Switch to newer stored models."""
        try:
            await runtime.wait_ready()
            await runtime.refresh_models()
        except Exception as exc:  # the next tick tries again
            log.warning("looking for new models failed: %r", exc)

    async def refit() -> None:
        """Fit the sports with enough new results."""
        try:
            await runtime.wait_ready()
            await runtime.refit()
        except Exception as exc:
            log.warning("refit failed: %r", exc)

    app.timer(settings.model_poll_s, name="models")(models)
    if settings.refit_interval_s > 0:
        app.timer(settings.refit_interval_s, name="refit")(refit)
    _add_views(app, runtime, metrics)
    return app


def _assignment(app: Any) -> list[Any]:
    try:
        return sorted(app.consumer.assignment())
    except Exception:  # consumer not started yet
        return []


async def _positioned(app: Any, partitions: list[Any]) -> bool:
    """Whether every assigned partition has its position: a new group starts at the end,
    and until the end is known, a delta published now might land before it, unread."""
    try:
        for tp in partitions:
            if await app.consumer.position(tp) is None:
                return False
    except Exception:
        return False
    return bool(partitions)


def _add_views(app: Any, runtime: PricingRuntime, metrics: Metrics) -> None:
    async def healthz(self: Any, request: Any) -> Any:
        """Alive: the process answers."""
        return self.json({"status": "ok", "service": "pricing"})

    async def readyz(self: Any, request: Any) -> Any:
        """Ready: MySQL, Redis and Kafka reachable; which model prices each sport."""
        checks = await runtime.readiness()
        partitions = _assignment(app)
        if not await _positioned(app, partitions):
            checks["consumer"] = "waiting for partitions"
        ready = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {
            "status": "ready" if ready else "not ready", **checks,
            "models": {s.value: m.version for s, m in runtime.models.items()},
            "training_size": {s.value: m.training_size for s, m in runtime.models.items()},
            "events": len(runtime.pricer.book) if ready else 0,
            "partitions": [f"{tp.topic}:{tp.partition}" for tp in partitions],
        }
        return self.json(body, status=200 if ready else 503)

    async def prometheus(self: Any, request: Any) -> Any:
        """Prometheus exposition."""
        return self.bytes(metrics.render(), content_type=CONTENT_TYPE_LATEST.split("; charset")[0])

    app.page("/healthz")(healthz)
    app.page("/readyz")(readyz)
    app.page("/metrics")(prometheus)
