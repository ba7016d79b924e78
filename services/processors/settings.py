"""Settings of a processor worker (``SPORTSFEED_PROCESSOR_*``), built once in ``__main__``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings

#: Each sport's worker serves health and metrics on its own port.
DEFAULT_WEB_PORTS: dict[Sport, int] = {
    Sport.FOOTBALL: 4101,
    Sport.BASKETBALL: 4102,
    Sport.TENNIS: 4103,
    Sport.ICE_HOCKEY: 4104,
}


class ProcessorSettings(BaseSettings):
    """One worker's settings; the infrastructure pieces read their own prefixes."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_PROCESSOR_", frozen=True)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mysql: MySQLSettings = Field(default_factory=MySQLSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)

    # A second worker of the same sport on the same host needs another port.
    web_port: int | None = Field(default=None, ge=1, le=65535)
    web_host: str = "0.0.0.0"
    # Consumer group of the feed (and the Faust app id); default ``sportsfeed-processor-<sport>``.
    # Tests give each run its own so that dead members of earlier runs never linger.
    group_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._\-]+$")

    # Batching: a batch is what the feed consumer has fetched, up to ``batch_max`` records
    # (under a backlog, batches grow to the backlog: far cheaper per message, one
    # statement per table and one snapshot per event). ``batch_within_s`` > 0 waits that
    # long after the first records for more (fewer, larger transactions at moderate
    # rates, at that cost in latency); 0 applies what is there at once.
    batch_max: int = Field(default=5000, ge=1, le=50_000)
    batch_within_s: float = Field(default=0.0, ge=0, le=5)
    # A busy worker starts at most one batch per ``batch_interval_s``: records that come
    # sooner after the previous batch started wait for the rest of the interval and go
    # in one transaction (a record after a quiet spell is taken at once). Per-batch
    # costs (two MySQL round trips and a commit, a Redis script, a produce request) then
    # stay bounded as the rate grows, at most this long added to a record's latency.
    # The worker's Kafka fetches follow it (runtime/consumer.py: _pace_fetches).
    # Measured end to end at 2,000 msg/s over four workers (bench_e2e): 0.05 s took the
    # processors from 0.19 to 0.14 of a core each and p99 from 635-985 ms to 186-256 ms;
    # with the fetches paced, 0.10-0.13 and 84-167 ms on a fast hour; at 500 msg/s p99
    # 75-90 ms (44-66 ms without an interval). A batch costs the worker ~3.2 ms of CPU
    # whatever its size plus ~0.1 ms per record (bench_e2e's CPU per batch), so at 500
    # msg/s over four workers 0.1 / 0.05 / 0.025 s cost 0.04 / 0.07 / 0.10 of a core per
    # worker for a p99 of 123 / 80 / 69 ms. 0: no limit.
    batch_interval_s: float = Field(default=0.05, ge=0, le=5)
    # How often acknowledged offsets are committed to Kafka (after MySQL committed).
    commit_interval_s: float = Field(default=1.0, gt=0)
    session_timeout_s: float = Field(default=10.0, ge=6)
    # Readiness fails while the oldest unapplied feed record is older than this.
    max_lag_s: float = Field(default=30.0, gt=0)

    # Provider liveness: silent longer than this suspends the provider's active markets.
    alive_window_s: float = Field(default=20.0, gt=0)
    alive_check_interval_s: float = Field(default=2.0, gt=0)

    # MySQL retry with exponential backoff while the database is unreachable.
    retry_initial_s: float = Field(default=0.2, gt=0)
    retry_max_s: float = Field(default=5.0, gt=0)
    transaction_timeout_s: float = Field(default=30.0, gt=0)
    # Redis: how often snapshots that could not be written are repaired.
    repair_interval_s: float = Field(default=1.0, gt=0)
    # Events whose state the worker keeps in memory (validated by version on every use).
    state_cache_events: int = Field(default=100_000, ge=0)

    # Faust writes a small data directory; keep it out of the working tree.
    data_dir: Path = Path(tempfile.gettempdir()) / "sportsfeed-faust"
    log_level: str = "info"

    def port_for(self, sport: Sport) -> int:
        """The web port: the setting, else the sport's default."""
        return self.web_port if self.web_port is not None else DEFAULT_WEB_PORTS[sport]

    def group_for(self, sport: Sport) -> str:
        """The consumer group of the sport's workers."""
        return self.group_id or f"sportsfeed-processor-{sport.value}"
