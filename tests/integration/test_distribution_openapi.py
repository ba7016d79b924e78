"""The OpenAPI document against the live API (schemathesis): no server errors, exact schemas.

The service runs as its own process (schemathesis' calls are synchronous), on a
seeded database. Every operation is fuzzed with valid and invalid inputs; for the
operations that take an event, also with the seeded ids, so the 200 paths are covered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    free_port,
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
from tests.support.trading_service import seed_trading

pytestmark = pytest.mark.integration

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
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


def fuzz(operation: Any, base_url: str, mode: GenerationMode, examples: int,
         **fixed: Any) -> None:
    """Run ``examples`` generated cases of one operation through the checks."""
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, timeout=10)
        case.validate_response(response, checks=checks)

    run()


def test_live_api_conforms_to_its_openapi_document(api_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json", timeout=10)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.definition.raw["operationId"] for op in operations} >= {
        "listSports", "listEvents", "getEvent", "getOddsHistory", "getSettlements",
        "getLedgerSummary", "getBookmakerOdds", "getHistoryStatus", "listCompetitions",
        "getLeagueTable", "listTradingStrategies", "listTradingBets", "getTradingPerformance",
        "getPrediction", "predictionsBatch",
    }
    for operation in operations:
        name = operation.definition.raw["operationId"]
        fuzz(operation, api_url, GenerationMode.POSITIVE, 40)
        if operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"):
            fuzz(operation, api_url, GenerationMode.NEGATIVE, 25)
        if name in KNOWN:
            fuzz(operation, api_url, GenerationMode.POSITIVE, 15, **KNOWN[name])
