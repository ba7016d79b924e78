"""Where the real Kafka, MySQL and Redis for integration tests come from.

With a Docker engine (probed by talking to it, since the ``docker`` client exists here
without one) testcontainers starts them; otherwise the local stack that
``infra/local/stack.sh`` runs is used. Either way each test gets fresh topics, a fresh
database and a fresh Redis key prefix, so tests never see each other's data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.settings import KafkaSettings, MySQLSettings, RedisSettings

REPO = Path(__file__).resolve().parents[2]
LOCAL_ENV = Path(os.environ.get("SPORTSFEED_DATA_DIR", REPO / ".data")) / "local.env"


def load_local_env() -> None:
    """Export the local stack's settings (``.data/local.env``) unless already set."""
    if not LOCAL_ENV.exists():
        return
    for line in LOCAL_ENV.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            os.environ.setdefault(key, value)


def docker_engine_answers() -> bool:
    """True only if a Docker engine responds (the bare client does not count)."""
    if os.environ.get("SPORTSFEED_TEST_STACK") == "local":
        return False
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


@dataclass(frozen=True)
class StackEndpoints:
    """How to reach the three services, whichever way they were started."""

    kafka_bootstrap: str
    mysql_host: str
    mysql_port: int
    mysql_user: str
    mysql_password: str
    redis_url: str
    origin: str  # "testcontainers" or "local"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) == 0


def local_endpoints() -> StackEndpoints:
    """The local stack, which must already run (``make test`` starts it)."""
    load_local_env()
    env = os.environ
    bootstrap = env.get("SPORTSFEED_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    host, _, port = bootstrap.rpartition(":")
    endpoints = StackEndpoints(
        kafka_bootstrap=bootstrap,
        mysql_host=env.get("SPORTSFEED_MYSQL_HOST", "127.0.0.1"),
        mysql_port=int(env.get("SPORTSFEED_MYSQL_PORT", "3306")),
        mysql_user=env.get("SPORTSFEED_MYSQL_USER", "sportsfeed"),
        mysql_password=env.get("SPORTSFEED_MYSQL_PASSWORD", ""),
        redis_url=env.get("SPORTSFEED_REDIS_URL", "redis://127.0.0.1:6379/0"),
        origin="local",
    )
    down = [
        name for name, (h, p) in {
            "kafka": (host, int(port)),
            "mysql": (endpoints.mysql_host, endpoints.mysql_port),
        }.items() if not _port_open(h, p)
    ]
    if down or not endpoints.mysql_password:
        raise RuntimeError(
            f"local stack not reachable ({', '.join(down) or 'no MySQL password'}): "
            "run `infra/local/stack.sh start` (make test does this)"
        )
    return endpoints


def container_endpoints(stack: ExitStack) -> StackEndpoints:
    """Kafka (KRaft), MySQL 8 and Redis in containers, stopped when ``stack`` closes."""
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mysql import MySqlContainer
    from testcontainers.redis import RedisContainer

    kafka = stack.enter_context(KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft())
    mysql = stack.enter_context(
        MySqlContainer("mysql:8.0", username="root", password="test", dbname="sportsfeed")
    )
    redis = stack.enter_context(RedisContainer("redis:7"))
    return StackEndpoints(
        kafka_bootstrap=kafka.get_bootstrap_server(),
        mysql_host=mysql.get_container_host_ip(),
        mysql_port=int(mysql.get_exposed_port(3306)),
        mysql_user="root",
        mysql_password="test",
        redis_url=f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0",
        origin="testcontainers",
    )


@asynccontextmanager
async def fresh_local_stack(
    name: str, partitions: int = 2,
) -> AsyncIterator[tuple[KafkaSettings, MySQLSettings, RedisSettings]]:
    """Fresh topics, database and Redis prefix on the local stack (for benchmarks, which run
    outside pytest's fixtures); all three are removed afterwards."""
    from pydantic import SecretStr

    from shared.cache import open_cache
    from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
    from shared.storage.migrate import apply_migrations, drop_database
    from shared.topics import Topics, create_topics, delete_topics

    stack = local_endpoints()
    tag = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(bootstrap=stack.kafka_bootstrap, topic_prefix=f"{name}{tag}.sportsfeed",
                          partitions=partitions)
    mysql = MySQLSettings(host=stack.mysql_host, port=stack.mysql_port, user=stack.mysql_user,
                          password=SecretStr(stack.mysql_password), database=f"sportsfeed_{name}_{tag}")
    redis = RedisSettings(url=stack.redis_url, key_prefix=f"{name}{tag}")
    await create_topics(kafka)
    await apply_migrations(mysql)
    try:
        yield kafka, mysql, redis
    finally:
        await delete_topics(kafka, Topics(kafka.topic_prefix).all())
        await drop_database(mysql)
        async with open_cache(redis) as cache:
            keys = [k async for k in cache.client.scan_iter(match=f"{redis.key_prefix}:*", count=1000)]
            if keys:
                await cache.client.delete(*keys)
