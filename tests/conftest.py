"""Fixtures for every test layer: fresh topics, database and Redis prefix per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.stack import StackEndpoints, container_endpoints, docker_engine_answers, local_endpoints

if TYPE_CHECKING:
    from tests.support.platform import Platform


@pytest.fixture(scope="session")
def stack_endpoints() -> Iterator[StackEndpoints]:
    """The real Kafka, MySQL and Redis: containers where Docker runs, else the local stack."""
    with ExitStack() as stack:
        yield container_endpoints(stack) if docker_engine_answers() else local_endpoints()


def fresh_name(prefix: str) -> str:
    """A name no other test run uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def kafka_settings(stack_endpoints: StackEndpoints) -> AsyncIterator[KafkaSettings]:
    """Fresh, explicitly created topics for one test; deleted afterwards."""
    from shared.topics import Topics, create_topics, delete_topics

    settings = KafkaSettings(
        bootstrap=stack_endpoints.kafka_bootstrap,
        topic_prefix=fresh_name("t") + ".sportsfeed",
        partitions=2,
    )
    await create_topics(settings)
    yield settings
    await delete_topics(settings, Topics(settings.topic_prefix).all())


@pytest.fixture
async def mysql_settings(stack_endpoints: StackEndpoints) -> AsyncIterator[MySQLSettings]:
    """A fresh database with every migration applied; dropped afterwards."""
    from shared.storage.migrate import apply_migrations, drop_database

    settings = MySQLSettings(
        host=stack_endpoints.mysql_host,
        port=stack_endpoints.mysql_port,
        user=stack_endpoints.mysql_user,
        password=stack_endpoints.mysql_password,
        database=fresh_name("sportsfeed_t_"),
    )
    await apply_migrations(settings)
    yield settings
    await drop_database(settings)


@pytest.fixture
async def redis_settings(stack_endpoints: StackEndpoints) -> AsyncIterator[RedisSettings]:
    """A fresh key prefix on the shared Redis; its keys are deleted afterwards."""
    import redis.asyncio as aioredis

    settings = RedisSettings(url=stack_endpoints.redis_url, key_prefix=fresh_name("t"))
    yield settings
    client = aioredis.from_url(settings.url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{settings.key_prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def local_platform(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> AsyncIterator[Platform]:
    """The services as subprocesses (``tests/support/platform.py``) on this test's fresh
    topics, database and Redis prefix of the local stack; all stopped afterwards."""
    from tests.support.platform import Platform, Scope

    running = Platform(Scope(kafka_settings, mysql_settings, redis_settings), tmp_path)
    try:
        yield running
    finally:
        running.close()
