"""Settings of the ingestion service (``SPORTSFEED_INGESTION_*``), built once in ``__main__``.

API keys are secrets and have no default: with none configured (neither
``SPORTSFEED_INGESTION_API_KEYS`` nor ``SPORTSFEED_INGESTION_API_KEYS_FILE``) the
service refuses to start, see :func:`services.ingestion.auth.load_api_keys`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import KafkaSettings

MIB = 1024 * 1024


class IngestionSettings(BaseSettings):
    """Everything the ingestion service can be told, from the environment."""

    model_config = SettingsConfigDict(
        env_prefix="SPORTSFEED_INGESTION_", frozen=True, populate_by_name=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=4000, ge=0, le=65535)
    # Largest request body accepted; bigger ones get 413 before being read.
    max_body_bytes: int = Field(default=MIB, ge=1024, le=64 * MIB)

    # "provider:key,provider2:key2[:json|xml|uof]" and/or a file of "provider key [formats]".
    api_keys: SecretStr | None = None
    api_keys_file: Path | None = None

    # Token bucket per provider, counted in messages: a batch of 100 costs 100.
    rate_limit_per_second: float = Field(default=100_000.0, gt=0)
    rate_limit_burst: int = Field(default=200_000, ge=1)
    # Per-provider overrides: "provider:rate:burst,provider2:rate:burst".
    rate_limits: str = ""

    # Producer tuning: a small linger lets concurrent requests share one batch (when no
    # other request is on its way, it is not waited out: publisher.py, DirectSend.send_now).
    kafka_linger_ms: int = Field(default=5, ge=0, le=1000)
    kafka_max_batch_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * MIB)
    kafka_request_timeout_ms: int = Field(default=10_000, ge=100)
    kafka_compression: str | None = Field(default=None, pattern=r"^(lz4|gzip|snappy|zstd)$")
    # How long a request waits for Kafka's acknowledgement before answering 503.
    publish_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # How often the producer's metadata is refreshed for /readyz, and how stale it may be.
    readiness_interval_s: float = Field(default=2.0, gt=0)
    readiness_max_age_s: float = Field(default=10.0, gt=0)
    # Seconds a 503 / 429 tells the provider to wait.
    retry_after_s: int = Field(default=1, ge=1)
    # How long SIGTERM waits for in-flight requests before closing.
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    # Rejected records waiting for Kafka at once; beyond this they are dropped and counted.
    max_pending_rejections: int = Field(default=10_000, ge=1)

    # Worker processes serving the port together (SO_REUSEPORT); 0: half the cores, at
    # least one (the platform shares the host: the rest is the processors', the
    # distribution's and the stack's).
    workers: int = Field(default=0, ge=0, le=64)
    # Where a group of workers keeps its run directory (metrics, shared rate limits).
    data_dir: Path = Field(
        default=Path(".data"),
        validation_alias=AliasChoices("SPORTSFEED_INGESTION_DATA_DIR", "SPORTSFEED_DATA_DIR"),
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)

    @property
    def worker_count(self) -> int:
        """How many worker processes to run: ``workers``, or when it is 0 half the cores
        (at least one).

        ``make up`` runs the whole platform on one host, where ingestion's HTTP work is a
        small part of the CPU a message costs. On two cores, at 2,000 msg/s end to end, a
        second worker cost more than it gave: ingestion took 0.26-0.27 of a core against
        0.23-0.24 with one (two producers, half-filled produce requests, a supervisor), and
        the POST-to-WebSocket p99 was higher in each of four interleaved pairs (1,358-2,693
        against 792-1,186 ms). A host that serves ingestion alone sets ``workers``.
        """
        return self.workers or max(1, (os.cpu_count() or 1) // 2)

    @property
    def run_dir(self) -> Path:
        """The run directory of a group of workers on this port, cleaned at each start."""
        return self.data_dir / "run" / f"ingestion-{self.port}"
