"""Build an ingestion app around fakes and talk to it with aiohttp's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from services.ingestion.app import context_of, create_app
from services.ingestion.context import Adapters, AppContext
from services.ingestion.ratelimit import RateLimiter
from services.ingestion.settings import IngestionSettings
from shared.settings import KafkaSettings
from tests.support.ingestion_fakes import FakeProducer, fake_adapters

ACME_KEY = "acme-key-0123456789abcdef"
BETA_KEY = "beta-key-0123456789abcdef"  # may post XML only
AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
JSON_HEADERS = {**AUTH, "Content-Type": "application/json"}


def make_settings(**overrides: Any) -> IngestionSettings:
    """Settings for a test app: two providers, a tiny publish timeout, fixed topics."""
    values: dict[str, Any] = {
        "api_keys": SecretStr(f"acme:{ACME_KEY},beta:{BETA_KEY}:xml"),
        "publish_timeout_s": 0.5,
        "max_body_bytes": 64 * 1024,
        "kafka": KafkaSettings(bootstrap="127.0.0.1:1", topic_prefix="unit"),
    }
    values.update(overrides)
    return IngestionSettings(**values)


@dataclass
class Harness:
    """A running test app, its client and its fakes."""

    client: TestClient[Any, Any]
    producer: FakeProducer
    ctx: AppContext

    async def post_json(self, doc: Any, **kw: Any) -> Any:
        """POST a JSON document to /v1/feed/json with the acme key."""
        return await self.client.post("/v1/feed/json", json=doc, headers=AUTH, **kw)


@asynccontextmanager
async def harness(
    *, producer: FakeProducer | None = None, adapters: Adapters | None = None,
    limiter: RateLimiter | None = None, wait_ready: bool = True,
    factory: Callable[[], FakeProducer] | None = None, **settings: Any,
) -> AsyncIterator[Harness]:
    """Start an app on a loopback port with a fake producer and fake adapters."""
    fake = producer or FakeProducer()
    app = create_app(
        make_settings(**settings), adapters=adapters or fake_adapters(),
        producer_factory=factory or (lambda: fake), limiter=limiter,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        ctx = context_of(app)
        if wait_ready:
            assert await ctx.publisher.wait_ready(2.0)
        yield Harness(client, fake, ctx)
    finally:
        await client.close()
