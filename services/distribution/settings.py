"""Settings of the distribution service (``SPORTSFEED_DISTRIBUTION_*``), built once in ``__main__``.

The infrastructure pieces read their own prefixes (``SPORTSFEED_KAFKA_*``,
``SPORTSFEED_MYSQL_*``, ``SPORTSFEED_REDIS_*``). Consumer keys are secrets with no
default: with none configured the service refuses to start, unless ``AUTH=off`` turns
the check off explicitly (``services/distribution/keys.py``, ``docs/rest.md``).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings


class DistributionSettings(BaseSettings):
    """Everything the distribution service can be told, from the environment."""

    model_config = SettingsConfigDict(env_prefix="SPORTSFEED_DISTRIBUTION_", frozen=True)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mysql: MySQLSettings = Field(default_factory=MySQLSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)

    host: str = "127.0.0.1"
    # Port 0 picks a free port (tests run many instances side by side).
    rest_port: int = Field(default=4002, ge=0, le=65535)
    ws_port: int = Field(default=4003, ge=0, le=65535)
    # What the trading page connects to; None: the page's own host name on ws_port.
    ws_public_url: str | None = None

    # Each instance is its own consumer group, so every instance sees every update.
    # The default is unique per process; set it only to pin a name in logs.
    consumer_group: str = Field(
        default_factory=lambda: f"sportsfeed-distribution-{uuid.uuid4().hex[:12]}",
        pattern=r"^[A-Za-z0-9._\-]+$",
    )
    # How long the broker may hold a fetch while no update comes: a long poll. The fetch
    # asks for one byte, so the broker answers it at the first record, and this bounds
    # only how often an idle instance asks (50 ms cost an idle instance 3.6% of a core
    # and the broker 3%; 2 s, 0.4%, as the processors' idle fetch).
    fetch_max_wait_ms: int = Field(default=2000, ge=1, le=5000)
    # Readiness fails while a partition of the updates or model topics has been behind
    # the broker's end offset for longer than this.
    consumer_max_lag_s: float = Field(default=30.0, gt=0)

    # Application heartbeat to every client, and the slow-client sweep, every N seconds.
    heartbeat_s: float = Field(default=5.0, gt=0, le=300)
    # Protocol-level pings (websockets' keepalive); a peer silent past the timeout is dropped.
    ping_interval_s: float = Field(default=20.0, gt=0)
    ping_timeout_s: float = Field(default=20.0, gt=0)
    close_timeout_s: float = Field(default=5.0, gt=0)
    max_message_bytes: int = Field(default=64 * 1024, ge=1024)

    # Per-client queue: past ``queue_conflate_at`` messages the pending deltas are merged
    # per event; past ``queue_max`` (after merging) or when nothing could be written for
    # ``max_lag_s``, the client is disconnected with 4008.
    queue_conflate_at: int = Field(default=1000, ge=1)
    queue_max: int = Field(default=20_000, ge=1)
    max_lag_s: float = Field(default=10.0, gt=0)
    # Bytes buffered in user space per client before its writer waits for the socket.
    write_buffer_high: int = Field(default=256 * 1024, ge=1024)
    # Kernel send buffer per client socket (0: the system's autotuning).
    socket_sndbuf: int = Field(default=0, ge=0)
    # Deltas are written to clients in one go, at most once every N ms (at once when the
    # last flush is that old; 0: after each Kafka batch): one system call per client per
    # flush instead of one per delta.
    flush_interval_ms: float = Field(default=10.0, ge=0, le=1000)
    # Conflation window of a subscription that does not ask for one (0: every delta).
    conflate_ms_default: int = Field(default=0, ge=0, le=60_000)

    # Deltas kept per event for resume, and how many events keep them.
    retained_deltas: int = Field(default=256, ge=1, le=100_000)
    retained_events: int = Field(default=20_000, ge=1)

    # Consumer keys (``services/distribution/keys.py``): ``keys`` (the default) checks
    # every REST and WebSocket request but the operational ones; ``off`` lets anyone read
    # everything, and the service says so in its log.
    auth: Literal["keys", "off"] = "keys"
    api_keys: SecretStr | None = None  # name:key:scopes[:limits],...
    api_keys_file: Path | None = None  # lines "name key scopes [limit=value ...]", SIGHUP re-reads
    # Each key's limits unless its entry says otherwise: REST requests per second (a token
    # bucket of ``rate_limit_burst``), WebSocket connections, and sports and events followed
    # over all its connections.
    rate_limit_per_second: float = Field(default=100.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # A REST request over its key's rate gets its 429, and a WebSocket connection over its
    # key's connections its 4029, after this pause (at most ``rate_limit_held`` refusals
    # held at once per key, the rest answered at once): a client that retries in a loop
    # slows to its connections / the pause instead of taking the server's CPU from the
    # other keys. 0: answer at once.
    rate_limit_pause_s: float = Field(default=0.25, ge=0, le=5)
    rate_limit_held: int = Field(default=64, ge=0)
    ws_max_connections_per_key: int = Field(default=20, ge=0)
    ws_max_subscriptions_per_key: int = Field(default=10_000, ge=0)
    # A connection that has not presented a key within this long is closed (4001).
    ws_auth_timeout_s: float = Field(default=10.0, gt=0)
    # Replaced by consumer keys: set, the service refuses to start and says what to do.
    ws_tokens: SecretStr | None = None

    # REST: largest page of /v1/events and of odds history, most events per prediction batch.
    page_max: int = Field(default=500, ge=1, le=500)
    prediction_batch_max: int = Field(default=500, ge=1, le=5000)
    history_max: int = Field(default=10_000, ge=1)
    # How long a rendered /v1/events/{id} stays cached unless a delta invalidates it first.
    detail_cache_s: float = Field(default=2.0, ge=0)
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    # Where the operations page's series come from (distribution proxies its query API).
    prometheus_url: str = Field(default="http://127.0.0.1:9090", pattern=r"^https?://[^\s]+$")
    log_level: str = "info"

    @field_validator("ws_tokens")
    @classmethod
    def _no_ws_tokens(cls, value: SecretStr | None) -> None:
        if value is not None:
            raise ValueError(
                "SPORTSFEED_DISTRIBUTION_WS_TOKENS was replaced by consumer keys: give each "
                "client a key of 16+ characters with the ws scope, e.g. "
                "SPORTSFEED_DISTRIBUTION_API_KEYS=name:<key>:ws, and unset WS_TOKENS "
                "(clients present the key where they presented the token)")
