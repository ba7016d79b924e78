"""The supervisor's run directory: one group per port, emptied at each start."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingestion.errors import ConfigError
from services.ingestion.supervisor import METRICS_DIR, RATE_LIMIT_FILE, prepare_run_dir
from tests.support.ingestion_client import make_settings


def test_the_run_directory_is_emptied_and_laid_out_at_start(tmp_path: Path) -> None:
    settings = make_settings(data_dir=tmp_path, port=4999)
    stale = settings.run_dir / METRICS_DIR / "counter_123.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from a run before")
    lock, metrics = prepare_run_dir(settings)
    try:
        assert metrics == tmp_path / "run" / "ingestion-4999" / METRICS_DIR
        assert metrics.is_dir()
        assert list(metrics.iterdir()) == []
        assert (settings.run_dir / RATE_LIMIT_FILE).stat().st_size == 2 * 16  # two providers
    finally:
        lock.close()


def test_a_second_group_on_the_same_port_is_refused(tmp_path: Path) -> None:
    settings = make_settings(data_dir=tmp_path, port=4998)
    lock, _ = prepare_run_dir(settings)
    try:
        with pytest.raises(ConfigError, match="already runs on port 4998"):
            prepare_run_dir(settings)
        lock2, _ = prepare_run_dir(make_settings(data_dir=tmp_path, port=4997))
        lock2.close()  # another port is another group
    finally:
        lock.close()


def test_an_unwritable_data_dir_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="SPORTSFEED_INGESTION_DATA_DIR"):
        prepare_run_dir(make_settings(data_dir=blocker, port=4996))


def test_a_group_needs_a_fixed_port(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from services.ingestion import __main__ as entry

    monkeypatch.setenv("SPORTSFEED_INGESTION_API_KEYS", "acme:0123456789abcdef")
    monkeypatch.setenv("SPORTSFEED_INGESTION_WORKERS", "2")
    monkeypatch.setenv("SPORTSFEED_INGESTION_PORT", "0")
    assert entry.main([]) == 2
    assert "fixed SPORTSFEED_INGESTION_PORT" in capsys.readouterr().err


def _catches_sigterm(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (15 - 1)))
    return False


def test_a_worker_stopped_while_starting_exits_0(tmp_path: Path) -> None:
    """SIGTERM before the worker serves: exit 0, not death by the signal (the supervisor
    counted that as a failed group)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "SPORTSFEED_INGESTION_API_KEYS": "acme:acme-key-0123456789abcdef",
           "SPORTSFEED_INGESTION_PORT": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = subprocess.Popen([sys.executable, "-m", "services.ingestion", "--worker"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 0.25  # well before the imports are done
        while not _catches_sigterm(worker.pid):
            assert time.monotonic() < deadline, "the worker does not catch SIGTERM early"
            time.sleep(0.002)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
