"""The ingestion service in-process on the real Kafka: a client with a provider's key."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import SecretStr

from services.ingestion.app import context_of, create_app
from services.ingestion.context import AppContext
from services.ingestion.settings import IngestionSettings
from shared.settings import KafkaSettings
from shared.topics import Topics

PROVIDER = "itest"


def odds_doc(message_id: str, event_id: str = "ev-1", sport: str = "football") -> dict[str, Any]:
    """A valid native-JSON odds message."""
    outcomes = ([{"id": "home", "price": "2.10"}, {"id": "draw", "price": "3.40"},
                 {"id": "away", "price": "3.60"}] if sport == "football" else
                [{"id": "home", "price": "1.80"}, {"id": "away", "price": "2.00"}])
    market = "1x2" if sport == "football" else "moneyline"
    return {"message_id": message_id, "sport": sport, "event_id": event_id, "kind": "odds",
            "provider_ts": "2026-05-01T18:00:00Z",
            "body": {"markets": [{"market_key": market, "outcomes": outcomes}]}}


@dataclass
class Running:
    """A running app on the real Kafka, with its client and topics."""

    client: TestClient[Any, Any]
    ctx: AppContext
    kafka: KafkaSettings
    topics: Topics
    auth: dict[str, str]

    async def post(self, fmt: str, body: bytes, content_type: str, **headers: str) -> Any:
        """POST a payload with the provider's key; returns (status, headers, json body)."""
        response = await self.client.post(
            f"/v1/feed/{fmt}", data=body,
            headers={**self.auth, "Content-Type": content_type, **headers},
        )
        return response.status, response.headers, await response.json()


@asynccontextmanager
async def running(kafka: KafkaSettings, *, wait: bool = True, **values: Any
                  ) -> AsyncIterator[Running]:
    """The real app (real adapters, real producer) on a loopback port."""
    key = secrets.token_urlsafe(24)
    settings = IngestionSettings(
        api_keys=SecretStr(f"{PROVIDER}:{key}"), kafka=kafka, **values
    )
    app = create_app(settings)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        ctx = context_of(app)
        if wait:
            assert await ctx.publisher.wait_ready(30.0), ctx.publisher.readiness()
        yield Running(client, ctx, kafka, Topics(kafka.topic_prefix),
                      {"Authorization": f"Bearer {key}"})
    finally:
        await client.close()


async def consume(kafka: KafkaSettings, topic: str, count: int, within: float = 20.0
                  ) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``count`` records from the start of ``topic`` (or fail after ``within`` s)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest",
        enable_auto_commit=False, group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(within):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for part in batch.values():
                    records.extend(part)
    finally:
        await consumer.stop()
    return records
