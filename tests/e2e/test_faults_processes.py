"""Processor crashes under a live generator run: nothing is lost, nothing applied twice.

Each test runs ingestion and the processors it needs as subprocesses on a private
stack (``tests/e2e/support.py``), lets a bounded generator run with duplicates,
reordering and broken messages in all three formats reach mid-stream, SIGKILLs a
worker, and ends with the generator's audit plus direct checks in MySQL.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.enums import Sport
from tests.support.platform import (
    Load,
    Platform,
    PrivateStack,
    shared_private_stack,
)
from tests.support.platform_checks import (
    assert_accounted,
    assert_applied_once,
    finish_and_audit,
    mid_stream,
    summary,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="session")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    """The session's private Kafka, MariaDB and Redis (never the shared local stack)."""
    with shared_private_stack(tmp_path_factory.getbasetemp() / "private-stack-logs") as stack:
        yield stack


@pytest.fixture
async def platform(private_stack: PrivateStack, tmp_path: Path) -> AsyncIterator[Platform]:
    """Fresh topics, database and Redis prefix; every process killed at teardown."""
    scope = await private_stack.fresh(partitions=4).create()
    platform = Platform(scope, tmp_path)
    try:
        yield platform
    finally:
        platform.close()


async def test_processor_killed_mid_stream_and_restarted_loses_nothing(platform: Platform) -> None:
    began = time.monotonic()
    platform.ingestion()
    football = platform.processor(Sport.FOOTBALL)
    platform.processor(Sport.BASKETBALL)
    await platform.wait_ready()
    generator = platform.generator(Load(sports="football,basketball", seed=11), "sigkill")

    await mid_stream(platform.scope.mysql, generator)
    football.kill()  # SIGKILL: no drain, no offset commit
    downtime = time.monotonic()
    football.start()
    await football.wait_ready(partitions=True)
    downtime = time.monotonic() - downtime
    assert generator.running(), "the fault must hit while the generator still sends"

    outcome = await finish_and_audit(platform, generator, "sigkill")
    assert_accounted(outcome)
    await assert_applied_once(platform.scope, outcome.records)
    _, ready = await football.get("/readyz")
    assert ready["status"] == "ready", ready
    print(summary("sigkill", began, outcome, downtime_s=round(downtime, 1)))


async def test_two_workers_of_a_sport_one_killed_survivor_takes_all_partitions(
    platform: Platform,
) -> None:
    began = time.monotonic()
    platform.ingestion()
    first = platform.processor(Sport.FOOTBALL, "processor-football-1")
    # The second worker of the sport: same consumer group, its own web port.
    second = platform.processor(Sport.FOOTBALL, "processor-football-2")
    await platform.wait_ready()
    everything = set(range(platform.scope.kafka.partitions))

    async def ownership() -> list[set[int]]:
        return [set((await w.get("/readyz"))[1]["partitions"]) for w in (first, second)]

    async def group_settled() -> bool:
        # Each worker was ready alone first; the second one's join rebalances the group, and
        # a snapshot taken mid-rebalance sees one worker revoked and the other not yet.
        owned = await ownership()
        return all(owned) and not owned[0] & owned[1] and owned[0] | owned[1] == everything

    with contextlib.suppress(TimeoutError):
        await wait_until(group_settled, 60, "the group settled: both workers owning partitions")
    owned = await ownership()
    assert all(owned), owned  # both workers own partitions...
    assert not owned[0] & owned[1], owned  # ...none of them twice...
    assert owned[0] | owned[1] == set(range(platform.scope.kafka.partitions)), owned  # ...all

    generator = platform.generator(Load(sports="football", matches=8, rate=200, seed=12), "pair")
    await mid_stream(platform.scope.mysql, generator, rows=1000)
    first.kill()
    moved = time.monotonic()

    async def survivor_owns_all() -> bool:
        _, body = await second.get("/readyz")
        return set(body["partitions"]) == set(range(platform.scope.kafka.partitions))

    await wait_until(survivor_owns_all, 60, "the survivor owning every partition")
    moved = time.monotonic() - moved
    assert generator.running(), "the partitions must move while the generator still sends"

    outcome = await finish_and_audit(platform, generator, "pair")
    assert_accounted(outcome)
    await assert_applied_once(platform.scope, outcome.records)
    print(summary("two-workers", began, outcome, rebalance_s=round(moved, 1)))
