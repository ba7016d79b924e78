"""Settings of the trading service (``SPORTSFEED_TRADING_*``), built once in ``__main__``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings

REPO = Path(__file__).resolve().parents[2]


class TradingSettings(BaseSettings):
    """The trading service's settings; the infrastructure pieces read their own prefixes."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_TRADING_", frozen=True)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mysql: MySQLSettings = Field(default_factory=MySQLSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)

    # The strategies (TOML, one [[strategy]] table each).
    strategies_file: Path = REPO / "infra" / "trading" / "strategies.toml"
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=4106, ge=1, le=65535)
    # Consumer group (and Faust app id); workers sharing it share the partitions.
    group_id: str = Field(default="sportsfeed-trading", pattern=r"^[A-Za-z0-9._\-]+$")

    # Batches: records per MySQL transaction, and at most one batch per batch_within_s
    # (the first record after a quiet spell at once; shared.stream_batches).
    batch_max: int = Field(default=500, ge=1, le=10_000)
    batch_within_s: float = Field(default=0.05, gt=0, le=5)
    stream_buffer: int = Field(default=5000, ge=100)
    commit_interval_s: float = Field(default=1.0, gt=0)
    session_timeout_s: float = Field(default=10.0, ge=6)

    # Model recency (docs/trading.md): in play, a model computed longer than this before
    # the price is too old; pre-match there is no age limit (versions decide).
    model_max_age_s: float = Field(default=120.0, gt=0)
    # Model prices kept per event (by feed version), and events kept in memory.
    model_versions_kept: int = Field(default=8, ge=1, le=1000)
    model_events_kept: int = Field(default=50_000, ge=100)
    # How long to wait before asking Redis again for an event it had no model prices of.
    model_redis_retry_s: float = Field(default=5.0, ge=0)
    # A price the platform applied longer ago than this when it is read is settled against
    # but not traded on (a backlog after a restart); 0 trades every price.
    max_price_age_s: float = Field(default=60.0, ge=0)

    # MySQL retry with exponential backoff while a batch cannot be committed.
    retry_initial_s: float = Field(default=0.2, gt=0)
    retry_max_s: float = Field(default=5.0, gt=0)

    data_dir: Path = Path(tempfile.gettempdir()) / "sportsfeed-trading"
    log_level: str = "info"
