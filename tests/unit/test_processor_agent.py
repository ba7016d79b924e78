"""The Faust agent through ``Agent.test_context()`` with the storage layer faked.

As in Faust's testing guide: ``app.finalize()``, an in-memory store, then records are
``put`` into the agent's test channel. The agent batches them with ``noack_take`` and
acknowledges each record only once the (fake) MySQL commit returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import pytest

from services.processors.domain.incoming import Incoming
from services.processors.domain.plan import BatchPlan
from services.processors.domain.rules import StatefulRules
from services.processors.runtime.app import build_app
from services.processors.runtime.metrics import Metrics
from services.processors.runtime.pipeline import BatchProcessor, CacheSync
from services.processors.settings import ProcessorSettings
from shared.codec import encode_message
from shared.enums import Disposition, Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.processor_fakes import FakeCache, FakePublisher, FakeStore
from tests.support.samples import Messages


class GatedStore(FakeStore):
    """A store whose commits wait for the test to open the gate."""

    def __init__(self, rules: StatefulRules) -> None:
        super().__init__(rules)
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def apply(self, items: Sequence[Incoming], applied_at: datetime) -> BatchPlan:
        self.entered.set()
        await self.gate.wait()
        return await super().apply(items, applied_at)


class FakeRuntime:
    """The runtime the app expects, over fakes."""

    def __init__(self, store: FakeStore) -> None:
        self.metrics = Metrics(Sport.FOOTBALL)
        self.publisher = FakePublisher()
        self.cache = FakeCache()
        self.processor = BatchProcessor(
            store, CacheSync(self.cache, store, self.metrics), self.publisher, self.metrics
        )

    async def wait_ready(self) -> None:
        return None

    async def readiness(self) -> dict[str, str]:
        return {"mysql": "ok", "redis": "ok", "kafka": "ok"}


def settings() -> ProcessorSettings:
    return ProcessorSettings(
        kafka=KafkaSettings(topic_prefix="unit"),
        mysql=MySQLSettings(password="unused"),
        redis=RedisSettings(),
        batch_within_s=0.01,
    )


@pytest.fixture
async def gated() -> AsyncIterator[tuple[Any, GatedStore, FakeRuntime]]:
    store = GatedStore(StatefulRules(Sport.FOOTBALL))
    runtime = FakeRuntime(store)
    app = build_app(Sport.FOOTBALL, settings(), runtime, runtime.metrics)
    app.finalize()
    app.conf.store = "memory://"
    app.flow_control.resume()
    (agent,) = app.agents.values()
    async with agent.test_context() as ctx:
        yield ctx, store, runtime


async def wait_for(check: Any, within: float = 5.0) -> None:
    # Polling: the acks happen inside Faust, which offers no event to wait on.
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_agent_acks_records_only_after_the_commit(
    gated: tuple[Any, GatedStore, FakeRuntime],
) -> None:
    ctx, store, runtime = gated
    m = Messages()
    events = [
        await ctx.put(encode_message(msg), key=msg.event_id.encode())
        for msg in (m.fixture("e1"), m.odds("e1"))
    ]
    await asyncio.wait_for(store.entered.wait(), 5)
    assert not any(e.message.acked for e in events)  # the transaction has not committed yet
    store.gate.set()
    await wait_for(lambda: all(e.message.acked for e in events))
    assert [r.disposition for p in store.committed for r in p.ledger] == [Disposition.APPLIED] * 2
    assert [d.version for d in runtime.publisher.deltas] == [1, 2]
    assert runtime.cache.snapshots["e1"].version == 2


async def test_agent_rejects_an_undecodable_record_and_acks_it(
    gated: tuple[Any, GatedStore, FakeRuntime],
) -> None:
    ctx, store, runtime = gated
    store.gate.set()
    event = await ctx.put(b"not a message", key=b"x")
    await wait_for(lambda: event.message.acked)
    assert runtime.publisher.rejected[0].payload == "not a message"
    assert runtime.publisher.rejected[0].stage == "processor"


async def test_agent_retries_a_batch_while_mysql_is_away(
    gated: tuple[Any, GatedStore, FakeRuntime],
) -> None:
    import aiomysql

    ctx, store, runtime = gated
    store.gate.set()
    store.fail_next = [aiomysql.OperationalError(2013, "Lost connection")] * 2
    runtime.processor._retry_initial = 0.01
    m = Messages()
    event = await ctx.put(encode_message(m.fixture("e1")), key=b"e1")
    await wait_for(lambda: event.message.acked)
    assert store.calls == 3
    assert store.states["e1"].version == 1
