"""Settings from the environment, and the entry point refusing to start without keys."""

from __future__ import annotations

import pytest

from services.ingestion import __main__ as entry
from services.ingestion.publisher import CachingPartitioner
from services.ingestion.settings import IngestionSettings


def test_settings_come_from_the_ingestion_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPORTSFEED_INGESTION_PORT", "4999")
    monkeypatch.setenv("SPORTSFEED_INGESTION_API_KEYS", "acme:0123456789abcdef")
    monkeypatch.setenv("SPORTSFEED_INGESTION_KAFKA_LINGER_MS", "7")
    monkeypatch.setenv("SPORTSFEED_KAFKA_TOPIC_PREFIX", "elsewhere")
    settings = IngestionSettings()
    assert settings.port == 4999
    assert settings.kafka_linger_ms == 7
    assert settings.api_keys is not None
    assert settings.api_keys.get_secret_value() == "acme:0123456789abcdef"
    assert "0123456789abcdef" not in repr(settings)  # a secret is never printed
    assert settings.kafka.topic_prefix == "elsewhere"  # embedded KafkaSettings reads its own


def test_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "MAX_BODY_BYTES"):
        monkeypatch.delenv(f"SPORTSFEED_INGESTION_{name}", raising=False)
    settings = IngestionSettings()
    assert (settings.host, settings.port) == ("127.0.0.1", 4000)
    assert settings.max_body_bytes == 1024 * 1024


def test_the_service_refuses_to_start_without_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SPORTSFEED_INGESTION_API_KEYS", raising=False)
    monkeypatch.delenv("SPORTSFEED_INGESTION_API_KEYS_FILE", raising=False)
    assert entry.main() == 2
    assert "SPORTSFEED_INGESTION_API_KEYS" in capsys.readouterr().err


def test_an_invalid_setting_is_a_clear_start_up_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPORTSFEED_INGESTION_PORT", "http")
    assert entry.main() == 2
    assert "port" in capsys.readouterr().err


def test_the_partitioner_matches_kafkas_murmur2_choice() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    partitioner = CachingPartitioner(max_entries=2)
    for key in [b"ev-1", b"ev-2", b"sr:match:123", b"ev-1", b"x" * 40]:
        expected = DefaultPartitioner()(key, [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5])
        assert partitioner(key, [0, 1, 2, 3, 4, 5], []) == expected


@pytest.mark.parametrize(("cores", "workers"), [(1, 1), (2, 1), (3, 1), (8, 4), (None, 1)])
def test_by_default_ingestion_takes_half_the_cores_of_the_host_it_shares(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, workers: int,
) -> None:
    monkeypatch.delenv("SPORTSFEED_INGESTION_WORKERS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert IngestionSettings().worker_count == workers
    monkeypatch.setenv("SPORTSFEED_INGESTION_WORKERS", "3")
    assert IngestionSettings().worker_count == 3
