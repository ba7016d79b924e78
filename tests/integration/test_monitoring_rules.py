"""The recording rules and alerts with Prometheus's own tool: every alert fires on a
synthetic series (``infra/monitoring/tests/alerts.test.yml``), and the configuration and
rules load. ``promtool`` comes with Debian's ``prometheus`` (``infra/local/tools.sh test``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

MONITORING = Path(__file__).resolve().parents[2] / "infra" / "monitoring"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """``promtool ARGS`` in infra/monitoring (fails the test if promtool is missing)."""
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: infra/local/tools.sh test (Debian's prometheus)")
    return subprocess.run(["promtool", *args], cwd=MONITORING, capture_output=True, text=True,
                          timeout=120, check=False)


def test_every_alert_fires_on_its_synthetic_series() -> None:
    done = promtool("test", "rules", "tests/alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_compose_configuration_and_its_rules_load() -> None:
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    rules = promtool("check", "rules", "rules/recording.yml", "rules/alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
