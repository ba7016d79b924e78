"""The batch pipeline over fakes: retries, poison messages, Redis repair, liveness."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiomysql
import pytest

from services.processors.domain.rules import StatefulRules
from services.processors.runtime.metrics import Metrics
from services.processors.runtime.pipeline import BatchProcessor, CacheSync
from shared.enums import Disposition, MarketStatus, Sport
from tests.support.decisions import records
from tests.support.processor_fakes import FakeCache, FakePublisher, FakeStore
from tests.support.samples import Messages

NOW = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)


@pytest.fixture
def parts() -> tuple[BatchProcessor, FakeStore, FakeCache, FakePublisher]:
    store, cache, publisher = FakeStore(StatefulRules(Sport.FOOTBALL)), FakeCache(), FakePublisher()
    metrics = Metrics(Sport.FOOTBALL)
    processor = BatchProcessor(
        store, CacheSync(cache, store, metrics), publisher, metrics,
        retry_initial_s=0.001, retry_max_s=0.002, clock=lambda: NOW,
    )
    return processor, store, cache, publisher


Parts = tuple[BatchProcessor, FakeStore, FakeCache, FakePublisher]


async def test_mysql_outage_retries_the_same_batch_until_it_commits(parts: Parts) -> None:
    processor, store, _, publisher = parts
    m = Messages()
    store.fail_next = [aiomysql.OperationalError(2003, "Can't connect")] * 3
    await processor.process(records(m.fixture("e1"), m.odds("e1")))
    assert store.calls == 4
    assert len(store.committed) == 1
    assert [d.version for d in publisher.deltas] == [1, 2]
    assert processor.metrics.mysql_retries._value.get() == 3


async def test_message_mysql_refuses_is_isolated_and_rejected(parts: Parts) -> None:
    processor, store, _, publisher = parts
    m = Messages()
    batch = [m.fixture("e1"), m.odds("e1"), m.live("e1"), m.odds("e1")]
    store.refuse_ids = {batch[2].message_id}
    await processor.process(records(*batch))
    rows = {mid: disposition for mid, disposition in
            ((r.message_id, r.disposition) for p in store.committed for r in p.ledger)}
    assert rows[batch[2].message_id] is Disposition.REJECTED
    assert all(rows[b.message_id] is Disposition.APPLIED for b in batch if b is not batch[2])
    assert "storage refused the message" in publisher.rejected[0].reason
    assert store.states["e1"].version == 3


async def test_redis_outage_marks_events_dirty_and_repair_catches_up(parts: Parts) -> None:
    processor, store, cache, _ = parts
    m = Messages()
    await processor.process(records(m.fixture("e1")))
    assert cache.snapshots["e1"].version == 1
    cache.down = True
    await processor.process(records(m.odds("e1"), m.fixture("e2"), start=1))
    assert processor.cache.dirty == {"e1", "e2"}
    assert await processor.cache.repair() == 0  # still down: nothing lost, nothing written
    # While dirty, batches do not even try Redis (each try would cost a timeout).
    writes = cache.writes
    await processor.process(records(m.live("e1"), start=3))
    assert cache.writes == writes
    cache.down = False
    assert await processor.cache.repair() == 2
    assert processor.cache.dirty == set()
    assert cache.snapshots["e1"] == store.states["e1"].snapshot()
    assert cache.snapshots["e1"].version == 3
    await processor.process(records(m.odds("e2"), start=4))
    assert cache.snapshots["e2"].version == 2


async def test_kafka_outage_on_publish_does_not_undo_the_commit(parts: Parts) -> None:
    processor, store, _, publisher = parts
    publisher.fail = True
    m = Messages()
    await processor.process(records(m.fixture("e1")))
    assert store.states["e1"].version == 1


async def test_silent_provider_markets_are_suspended_and_published(parts: Parts) -> None:
    processor, store, cache, publisher = parts
    m = Messages(start=NOW - timedelta(seconds=60))
    await processor.process(records(m.fixture("e1"), m.alive(), m.odds("e1")))
    assert await processor.sweep_silence(window_s=20) == 1
    assert store.states["e1"].markets["1x2"].status is MarketStatus.SUSPENDED
    assert publisher.deltas[-1].markets[0].status_reason == "provider gen silent"
    assert cache.snapshots["e1"].version == 3
    # Idempotent: a second sweep finds nothing active.
    assert await processor.sweep_silence(window_s=20) == 0


async def test_provider_within_its_alive_window_keeps_its_markets(parts: Parts) -> None:
    processor, store, _, _ = parts
    m = Messages(start=NOW - timedelta(seconds=5))
    await processor.process(records(m.fixture("e1"), m.alive(), m.odds("e1")))
    assert await processor.sweep_silence(window_s=20) == 0
    assert store.states["e1"].markets["1x2"].status is MarketStatus.ACTIVE


async def test_metrics_count_dispositions_and_batches(parts: Parts) -> None:
    processor, _, _, _ = parts
    m = Messages()
    fixture = m.fixture("e1")
    await processor.process(records(fixture, fixture, m.odds("nope")))
    text = processor.metrics.render().decode()
    assert 'sportsfeed_processor_messages_total{disposition="applied",sport="football"} 1.0' in text
    assert 'sportsfeed_processor_messages_total{disposition="duplicate",sport="football"} 1.0' in text
    assert 'sportsfeed_processor_messages_total{disposition="rejected",sport="football"} 1.0' in text
    assert 'sportsfeed_processor_batch_size_count{sport="football"} 1.0' in text


@pytest.mark.parametrize(("exc", "failure"), [
    (aiomysql.OperationalError(2013, "Lost connection to MySQL server during query"), "transient"),
    (aiomysql.OperationalError(1213, "Deadlock found"), "transient"),
    (ConnectionRefusedError(111, "refused"), "transient"),
    (TimeoutError(), "transient"),
    (aiomysql.DataError(1406, "Data too long for column 'reason'"), "message"),
    (aiomysql.IntegrityError(1062, "Duplicate entry"), "message"),
    (KeyError("a bug that one message triggers"), "message"),
    (aiomysql.ProgrammingError(1054, "Unknown column 'x'"), "systemic"),
    (aiomysql.OperationalError(1142, "INSERT command denied"), "systemic"),
    (aiomysql.ProgrammingError(1146, "Table 'ledger' doesn't exist"), "systemic"),
    (aiomysql.OperationalError(1290, "running with the --read-only option"), "systemic"),
    # SQL that one message's value broke (NO_BACKSLASH_ESCAPES), a trigger's refusal:
    (aiomysql.ProgrammingError(1064, "You have an error in your SQL syntax"), "message"),
    (aiomysql.OperationalError(1644, "poison name refused"), "message"),
])
def test_failed_transactions_are_classified(exc: BaseException, failure: str) -> None:
    from services.processors.storage.store import classify

    assert classify(exc) == failure


async def test_systemic_failure_is_retried_not_blamed_on_a_message(parts: Parts) -> None:
    processor, store, _, publisher = parts
    m = Messages()
    store.fail_next = [aiomysql.ProgrammingError(1146, "Table 'ledger' doesn't exist")] * 2
    await processor.process(records(m.fixture("e1"), m.odds("e1")))
    assert store.calls == 3
    assert publisher.rejected == []
    assert store.states["e1"].version == 2


async def test_a_rejection_mysql_refuses_still_reaches_the_rejected_topic(parts: Parts) -> None:
    processor, store, _, publisher = parts
    m = Messages()
    fixture, odds = m.fixture("e1"), m.odds("e1")
    store.refuse_ids = store.refuse_rejections = {odds.message_id}
    await processor.process(records(fixture, odds))
    assert store.states["e1"].version == 1
    assert odds.message_id not in store.ledger
    assert [r.message_id for r in publisher.rejected] == [odds.message_id]
    assert "storage refused the message" in publisher.rejected[0].reason


async def test_a_message_that_breaks_the_sql_is_rejected_and_the_stream_goes_on(
    parts: Parts,
) -> None:
    processor, store, _, publisher = parts
    m = Messages()
    batch = [m.fixture("e1"), m.fixture("e2"), m.odds("e1")]
    store.refuse_ids = {batch[1].message_id}
    store.refusal = aiomysql.ProgrammingError(1064, "You have an error in your SQL syntax")
    await processor.process(records(*batch))
    rows = {r.message_id: r for p in store.committed for r in p.ledger}
    assert rows[batch[1].message_id].disposition is Disposition.REJECTED
    assert "1064" in (rows[batch[1].message_id].reason or "")
    assert rows[batch[2].message_id].disposition is Disposition.APPLIED
    assert [r.message_id for r in publisher.rejected] == [batch[1].message_id]
    assert processor.progress() == "ok"
    assert processor.metrics.storage_rejections._value.get() == 1


async def test_a_worker_stuck_on_a_batch_says_so_in_progress_and_metrics(parts: Parts) -> None:
    import asyncio

    processor, store, _, _ = parts
    processor._retry_initial = processor._retry_max = 0.01
    m = Messages()
    store.fail_next = [aiomysql.ProgrammingError(1146, "Table 'ledger' doesn't exist")] * 10_000
    task = asyncio.create_task(processor.process(records(m.fixture("e1"))))
    await asyncio.sleep(0.05)  # a few retries at 10 ms
    assert store.calls >= 3
    assert processor.progress().startswith("stalled for ")
    assert "1146" in processor.progress()
    await asyncio.sleep(0.02)
    assert processor.stalled_for() > 0
    text = processor.metrics.render().decode()
    [value] = re.findall(r'^sportsfeed_processor_stalled_seconds\{sport="football"\} (\S+)$', text, re.M)
    assert float(value) > 0
    store.fail_next.clear()  # the operator restores the table
    await task
    assert processor.progress() == "ok"
    assert processor.stalled_for() == 0.0
    assert store.states["e1"].version == 1


def test_observing_many_amounts_at_once_equals_observing_each() -> None:
    from prometheus_client import CollectorRegistry, Histogram

    from services.processors.runtime.metrics import LATENCY_BUCKETS, observe_many

    amounts = [0.0, 0.001, 0.0011, 0.02, 0.5, 7.0, 61.0, 0.05, 0.05]
    one, many = (Histogram(name, "h", buckets=LATENCY_BUCKETS, registry=CollectorRegistry())
                 for name in ("one", "many"))
    for amount in amounts:
        one.observe(amount)
    observe_many(many, amounts)

    def samples(h: Histogram) -> list[tuple[str, float]]:
        return [(s.name.split("_", 1)[1], s.value) for m in h.collect() for s in m.samples
                if not s.name.endswith("_created")]

    assert samples(one) == samples(many)
