"""Settings of the history importer (``SPORTSFEED_HISTORY_*``), built once in ``__main__``.

MySQL and Redis read their own prefixes (``SPORTSFEED_MYSQL_*``, ``SPORTSFEED_REDIS_*``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import MySQLSettings, RedisSettings


class HistorySettings(BaseSettings):
    """Everything the importer can be told, from the environment."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_HISTORY_", frozen=True)

    mysql: MySQLSettings = Field(default_factory=MySQLSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)

    # How long an import waits for another one (on the same database) to finish.
    lock_timeout_s: float = Field(default=60.0, ge=0)
    # Corrected events are dropped from the Redis live state (readers then use MySQL),
    # so a snapshot copied there by a rebuild never outlives a correction.
    invalidate_cache: bool = True
    # What `status` and the end-of-import summary show.
    status_runs: int = Field(default=20, ge=1, le=1000)
    problems_shown: int = Field(default=10, ge=0, le=100_000)
