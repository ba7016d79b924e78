"""Harness of the pricing service tests: the service and ``fit`` as subprocesses, model prices read back.

Each process runs as ``python -m services.pricing <command>`` with the environment
pointing at the test's fresh topics, database and Redis prefix, its own consumer group
and a free web port. Events are seeded the way processors write them (a snapshot in
Redis, deltas on the updates topic) with the distribution tests' builders.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from shared.enums import Sport
from shared.fair import ModelPrices, model_key
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.topics import Topics
from tests.support.processors import REPO, WorkerProcess, worker_env


def pricing_env(kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings, *,
                web_port: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a pricing process on the test's topics, database and prefix."""
    env = worker_env(kafka, mysql, redis, group="unused", web_port=web_port)
    env.update({
        "SPORTSFEED_PRICING_GROUP_ID": f"{kafka.topic_prefix}-pricing",
        "SPORTSFEED_PRICING_WEB_PORT": str(web_port),
        "SPORTSFEED_PRICING_WEB_HOST": "127.0.0.1",
        "SPORTSFEED_PRICING_SESSION_TIMEOUT_S": "6",
        "SPORTSFEED_PRICING_MODEL_POLL_S": "1",
        "SPORTSFEED_PRICING_REFIT_INTERVAL_S": "0",
        "SPORTSFEED_PRICING_DATA_DIR": str(REPO / ".data" / "test-faust"),
        **(extra or {}),
    })
    return env


class PricingProcess(WorkerProcess):
    """``python -m services.pricing run`` as a subprocess (a worker's harness, another command)."""

    def __init__(self, kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings,
                 log: Path, extra_env: Mapping[str, str] | None = None) -> None:
        super().__init__(Sport.FOOTBALL, kafka, mysql, redis, log)
        self.env = pricing_env(kafka, mysql, redis, web_port=self.port, extra=extra_env)
        self.command = [sys.executable, "-m", "services.pricing", "run"]

    async def readiness(self) -> dict[str, Any]:
        """The body of ``/readyz``."""
        _, body = await self.get("/readyz")
        data: dict[str, Any] = json.loads(body)
        return data


def run_fit(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m services.pricing fit ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "services.pricing", "fit", *args], cwd=REPO,
                          env=dict(env), capture_output=True, text=True, timeout=300, check=False)


async def redis_prices(redis: RedisSettings, event_id: str) -> ModelPrices | None:
    """The latest model prices of an event in Redis."""
    client = aioredis.from_url(redis.url)
    try:
        raw = await client.get(model_key(redis.key_prefix, event_id))
    finally:
        await client.aclose()
    return ModelPrices.model_validate_json(raw) if raw is not None else None


async def wait_prices(redis: RedisSettings, event_id: str, *, version: int | None = None,
                      model: str | None = None, within: float = 30.0) -> ModelPrices:
    """Wait for an event's prices in Redis (at ``version``, from ``model``, when given)."""
    deadline = time.monotonic() + within
    found = None
    while time.monotonic() < deadline:
        found = await redis_prices(redis, event_id)
        if found is not None and (version is None or found.event_version == version) and (
                model is None or found.model == model):
            return found
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no prices of {event_id} (v{version}, {model}) in {within}s: {found}")


class ModelTopic:
    """A consumer of every sport's model topic, from its beginning."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._topics = [Topics(kafka.topic_prefix).model(s) for s in Sport]
        self._consumer = AIOKafkaConsumer(*self._topics, bootstrap_servers=kafka.bootstrap,
                                          auto_offset_reset="earliest", enable_auto_commit=False,
                                          group_id=None)
        self.seen: list[tuple[str, bytes | None, ModelPrices]] = []

    async def __aenter__(self) -> ModelTopic:
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def until(self, event_id: str, *, version: int, within: float = 30.0) -> ModelPrices:
        """The first ModelPrices of ``event_id`` at ``version`` (read from the start)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for topic, key, prices in self.seen:
                if prices.event_id == event_id and prices.event_version == version:
                    assert key == event_id.encode(), key
                    assert topic.endswith(f".{prices.sport.value}.model"), topic
                    return prices
            batch = await self._consumer.getmany(timeout_ms=300)
            for records in batch.values():
                self.seen += [(r.topic, r.key, ModelPrices.model_validate_json(r.value))
                              for r in records]
        raise TimeoutError(f"no ModelPrices of {event_id} v{version} on the model topics")
