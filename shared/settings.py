"""Settings of the shared infrastructure, read from the environment (pydantic-settings).

Each service has one settings object (prefix ``SPORTSFEED_<SERVICE>_``) that embeds the
pieces below it needs; it is built once in the service's ``__main__`` and passed down.
Secrets have no defaults: a missing MySQL password is an error at start-up.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """Where Kafka is and how topics are named (``SPORTSFEED_KAFKA_*``)."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_KAFKA_", frozen=True)

    bootstrap: str = "127.0.0.1:9092"
    # Tests run on fresh topics by giving each run its own prefix.
    topic_prefix: str = Field(default="sportsfeed", pattern=r"^[A-Za-z0-9._\-]+$")
    # Partitions of the feed topics (and ``rejected``): keyed by event id, they cap how
    # many workers of one sport share its load.
    partitions: int = Field(default=6, ge=1, le=256)
    # Partitions of the updates and model topics. Every distribution instance reads them
    # whole, and a consumer pays for each partition in every fetch, even an empty one:
    # the distribution's fetch names 48 partitions at 6 each, 8 at 1. bench_e2e at 2,000
    # msg/s over four sports, four rounds interleaved, 6 -> 1: the distribution's CPU per
    # processor batch 1.79-2.13 -> 1.54-1.67 ms (0.12-0.14 -> 0.10-0.11 of a core), Kafka
    # 0.20-0.23 -> 0.18-0.19 of a core; the p99 moved less than the hour's noise.
    # Trading (and pricing) workers sharing a consumer group split these partitions:
    # raise it before creating the topics to run more than one of them.
    fanout_partitions: int = Field(default=1, ge=1, le=256)
    replication_factor: int = Field(default=1, ge=1)


class MySQLSettings(BaseSettings):
    """The durable store (``SPORTSFEED_MYSQL_*``); MariaDB locally, MySQL 8 in Docker."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_MYSQL_", frozen=True)

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "sportsfeed"
    password: SecretStr
    database: str = Field(default="sportsfeed", pattern=r"^[A-Za-z0-9_]+$")
    pool_min: int = Field(default=1, ge=0)
    pool_max: int = Field(default=10, ge=1)


class RedisSettings(BaseSettings):
    """The live-state cache (``SPORTSFEED_REDIS_*``)."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_REDIS_", frozen=True)

    url: str = "redis://127.0.0.1:6379/0"
    # Tests isolate themselves by key prefix on the one local Redis.
    key_prefix: str = Field(default="sf", pattern=r"^[A-Za-z0-9._\-]+$")
    # Connections per process. Callers beyond it wait for a free one (up to the socket
    # timeout) instead of failing: 1,000 WebSocket clients subscribing at once must
    # queue for Redis, not fall back to MySQL.
    max_connections: int = Field(default=64, ge=1, le=10_000)
