"""Settings of the pricing service (``SPORTSFEED_PRICING_*``), built once in ``__main__``.

The infrastructure pieces read their own prefixes (``SPORTSFEED_KAFKA_*``,
``SPORTSFEED_MYSQL_*``, ``SPORTSFEED_REDIS_*``). ``fit`` and ``run`` read the same
object, so a refit started by the service fits exactly as ``fit`` on the command line.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.pricing.margins import Method
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings


class PricingSettings(BaseSettings):
    """Everything the pricing service and its fits can be told, from the environment."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_PRICING_", frozen=True)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mysql: MySQLSettings = Field(default_factory=MySQLSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)

    # Health, readiness and metrics.
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=4105, ge=1, le=65535)
    # Consumer group (and Faust app id) of the updates topics.
    group_id: str = Field(default="sportsfeed-pricing", pattern=r"^[A-Za-z0-9._\-]+$")
    # Deltas taken per batch, and at most one batch per batch_within_s (the first delta
    # after a quiet spell at once; shared.stream_batches): several changes of one event
    # within a batch give one ModelPrices, at the last version.
    batch_max: int = Field(default=500, ge=1, le=50_000)
    batch_within_s: float = Field(default=0.01, gt=0, le=5)
    stream_buffer: int = Field(default=5000, ge=100)
    commit_interval_s: float = Field(default=1.0, gt=0)
    session_timeout_s: float = Field(default=10.0, ge=6)

    # The price with a margin beside the fair one: the book's overround and how it is
    # spread over a market's outcomes (shared.pricing.margins). Proportional by default:
    # the other methods solve for their parameter per market (~40 µs each, a third of
    # the live path's CPU for a sport's dozen markets).
    margin: float = Field(default=0.05, ge=0, le=0.5)
    margin_method: Method = Method.MULTIPLICATIVE
    # Events whose state is kept in memory (the least recently changed go first).
    max_events: int = Field(default=100_000, ge=100)
    # How long an ended event's model prices stay in Redis (0: for ever).
    ended_ttl_s: int = Field(default=86_400, ge=0)

    # Models: how often the newest stored model of each sport is looked up, and how
    # often the service runs a refit (`fit --all --if-new REFIT_MIN_NEW`; 0: never).
    model_poll_s: float = Field(default=30.0, gt=0)
    refit_interval_s: float = Field(default=600.0, ge=0)
    refit_min_new: int = Field(default=20, ge=1)
    refit_timeout_s: float = Field(default=300.0, gt=0)
    # Fitting: the fewest results a sport needs for a model of its own (else the prior
    # prices it), the window of each competition's results (days back from its newest
    # match) and the time decay of a match's weight (per day, Dixon and Coles' ξ).
    fit_min_matches: int = Field(default=30, ge=1)
    fit_window_days: int = Field(default=1095, ge=1)
    fit_xi: float = Field(default=0.0018, ge=0)

    # MySQL at start-up: retried with backoff until it answers.
    retry_initial_s: float = Field(default=0.2, gt=0)
    retry_max_s: float = Field(default=5.0, gt=0)
    data_dir: Path = Path(tempfile.gettempdir()) / "sportsfeed-faust"
    log_level: str = "info"
