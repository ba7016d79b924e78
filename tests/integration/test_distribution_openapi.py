"""The OpenAPI document against the live API (schemathesis, with a consumer key and every
check it has): no server errors, exact schemas, every request the document calls valid
accepted and every invalid one refused, undeclared methods 405, authentication enforced.

The service runs as its own process (schemathesis' calls are synchronous), on a
seeded database. First the CLI runs every phase (examples, coverage, fuzzing, stateful)
with ``--checks all``; then the Python API fuzzes the operations that take an event
with the seeded ids too, so their 200 answers are covered, again with every check.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.result import Err

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    AUTH,
    TEST_KEY,
    rest_dataset,
    seed_models,
    seed_mysql,
    seed_redis,
    service_env,
    start_process,
    stop_process,
)
from tests.support.distribution_fakes import model_prices
from tests.support.history import FIXTURES, import_paths
from tests.support.ports import free_port
from tests.support.trading_service import seed_trading

pytestmark = pytest.mark.integration

# Known ids per operation, so fuzzing reaches the 200 answers as well as the 404s.
KNOWN: dict[str, dict[str, Any]] = {
    "getEvent": {"path_parameters": {"id": "e00"}},
    "getOddsHistory": {"path_parameters": {"id": "e00", "market_key": "1x2"}},
    "getSettlements": {"query": {"event_id": "e02"}},
    "getBookmakerOdds": {"path_parameters": {"id": "fd:match:E0:2019-08-09:liverpool:norwich"}},
    "getLeagueTable": {"path_parameters": {"id": "fd:competition:E0"}},
    "getPrediction": {"path_parameters": {"id": "e00"}},
}


@pytest.fixture
async def api_url(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> AsyncIterator[str]:
    """``python -m services.distribution`` on the REST tests' data."""
    events, extra = rest_dataset()
    await seed_mysql(mysql_settings, events, extra)
    await seed_redis(redis_settings, events[:-1])
    await seed_models(redis_settings, [model_prices("e00", 1), model_prices("e01", 2, 0.3)])
    await import_paths(mysql_settings, FIXTURES / "E0_1920_head.csv")  # the history routes' data
    await seed_trading(mysql_settings)  # the trading routes' data
    rest, ws = free_port(), free_port()
    env = service_env(kafka_settings, mysql_settings, redis_settings, rest, ws)
    process = await asyncio.to_thread(start_process, env, tmp_path / "service.log")
    try:
        yield f"http://127.0.0.1:{rest}"
    finally:
        stop_process(process)


def test_schemathesis_cli_finds_nothing_with_every_check_and_phase(api_url: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{api_url}/openapi.json",
               "--checks", "all", "--header", f"Authorization: Bearer {TEST_KEY}",
               "--max-examples", "30", "--seed", "1", "--workers", "1", "--request-timeout", "10",
               "--warnings", "off", "--report", "junit", "--report-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-12000:]
    assert "Tested: 20" in output  # every operation of the document
    assert TEST_KEY not in output


def fuzz(operation: Any, base_url: str, mode: GenerationMode, examples: int,
         **fixed: Any) -> None:
    """Run ``examples`` generated cases of one operation through every check."""
    load_all_checks()
    checks = CHECKS.get_all()

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, timeout=10, headers=AUTH)
        case.validate_response(response, checks=checks, headers=AUTH)

    run()


def test_seeded_ids_reach_the_200_answers_under_every_check(api_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json", timeout=10)
    operations: dict[str, APIOperation[Any, Any, Any, Any]] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # an operation of the document that does not parse
        op = result.ok()
        operations[op.definition.raw["operationId"]] = op
    assert set(operations) >= {
        "listSports", "listEvents", "getEvent", "getOddsHistory", "getSettlements",
        "getLedgerSummary", "getBookmakerOdds", "getHistoryStatus", "listCompetitions",
        "getLeagueTable", "listTradingStrategies", "listTradingBets", "getTradingPerformance",
        "getPrediction", "predictionsBatch", "getAccessKey", "getAccessUsage",
    }
    for name, fixed in KNOWN.items():
        fuzz(operations[name], api_url, GenerationMode.POSITIVE, 20, **fixed)
