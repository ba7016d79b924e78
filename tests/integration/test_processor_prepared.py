"""A batch decided ahead (while the batch before it writes) against the real MariaDB.

The feed consumer asks the store to decide batch N+1 on the states batch N is writing,
so that the CPU work overlaps N's round trip. The store may use that decision only if,
once N+1's events are locked, MySQL holds what it was decided on: these tests take it
through :class:`~services.processors.storage.store.Store` itself, with one case where it
holds and two where MySQL moved meanwhile (another worker of the sport changed an event;
a message id the ledger knew from before), each checked against what MySQL committed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from services.processors.domain.incoming import Incoming, decode_record
from services.processors.domain.plan import BatchPlan
from services.processors.domain.sport_rules import stateful_rules
from services.processors.storage.store import Prepared, Store
from shared.codec import encode_message
from shared.enums import Disposition, Sport
from shared.model import FeedMessage
from shared.settings import MySQLSettings
from shared.storage.pool import Pool, create_pool
from tests.support.samples import Messages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SPORT = Sport.FOOTBALL


@pytest.fixture
async def pool(mysql_settings: MySQLSettings) -> AsyncIterator[Pool]:
    async with create_pool(mysql_settings) as p:
        yield p


class Feed:
    """Messages as the consumer hands them over: decoded records with rising offsets."""

    def __init__(self) -> None:
        self.msgs = Messages(SPORT)
        self.offset = 0

    def items(self, *messages: FeedMessage) -> list[Incoming]:
        out = []
        for m in messages:
            out.append(decode_record(encode_message(m), 0, self.offset, time.time()))
            self.offset += 1
        return out

    def odds(self, event_id: str, home: str) -> FeedMessage:
        return self.msgs.odds(event_id, {"1x2": {"home": home, "draw": "3.4", "away": "4.1"}})


def now() -> datetime:
    return datetime.now(UTC)


async def prepared_on(store: Store, base: Sequence[Incoming], ahead: Sequence[Incoming],
                      ) -> Prepared:
    """Write ``base`` and, while its transaction is written, decide ``ahead``."""
    task = asyncio.ensure_future(store.apply(base, now()))
    await asyncio.wait_for(store.writing(), 10)
    prepared = store.prepare(ahead, now())
    await task
    assert prepared is not None, "nothing decided ahead while a batch was written"
    return prepared


async def committed(store: Store, plan: BatchPlan) -> None:
    """What MySQL has now for the plan's events is the plan's final state."""
    snapshots = {s.event_id: s for s in await store.snapshots(plan.after)}
    for event_id, state in plan.after.items():
        assert snapshots[event_id] == state.snapshot(), event_id


async def test_a_batch_decided_ahead_is_used_when_mysql_has_what_it_was_decided_on(
    pool: Pool,
) -> None:
    store, feed = Store(pool, stateful_rules(SPORT)), Feed()
    await store.apply(feed.items(feed.msgs.fixture("e1"), feed.msgs.fixture("e2")), now())
    base = feed.items(feed.odds("e1", "1.90"))
    ahead = feed.items(feed.odds("e1", "1.85"), feed.odds("e2", "2.50"))

    prepared = await prepared_on(store, base, ahead)
    plan = await store.apply(ahead, now(), prepared)

    assert plan is prepared.plan
    assert store.prepared_used == 1
    assert plan.counts == {Disposition.APPLIED: 2}
    # Its deltas follow the base's versions: e1 moved twice, e2 once since its fixture.
    assert [(d.event_id, d.version) for d in plan.deltas] == [("e1", 3), ("e2", 2)]
    await committed(store, plan)


async def test_a_batch_decided_ahead_is_decided_again_when_another_worker_moved_an_event(
    pool: Pool,
) -> None:
    store, feed = Store(pool, stateful_rules(SPORT)), Feed()
    other = Store(pool, stateful_rules(SPORT))  # a second worker of the sport
    await store.apply(feed.items(feed.msgs.fixture("e1")), now())
    base = feed.items(feed.odds("e1", "1.90"))
    moved = feed.items(feed.odds("e1", "1.70"))  # sent before ``ahead``, applied elsewhere
    ahead = feed.items(feed.odds("e1", "1.85"))

    prepared = await prepared_on(store, base, ahead)
    assert [(d.event_id, d.version) for d in prepared.plan.deltas] == [("e1", 3)]
    await other.apply(moved, now())  # e1 at version 3 now
    plan = await store.apply(ahead, now(), prepared)

    assert plan is not prepared.plan
    assert store.prepared_dropped == 1
    assert plan.counts == {Disposition.APPLIED: 1}
    assert [(d.event_id, d.version) for d in plan.deltas] == [("e1", 4)]
    await committed(store, plan)


async def test_a_batch_decided_ahead_is_decided_again_when_the_ledger_knew_an_id(
    pool: Pool,
) -> None:
    store, feed = Store(pool, stateful_rules(SPORT)), Feed()
    early = feed.odds("e1", "1.95")
    await store.apply(feed.items(feed.msgs.fixture("e1"), early), now())
    base = feed.items(feed.odds("e1", "1.90"))
    # The same message again, from another record (a provider's re-send), and a new one.
    ahead = feed.items(early, feed.odds("e1", "1.85"))

    prepared = await prepared_on(store, base, ahead)
    assert prepared.plan.counts[Disposition.DUPLICATE] == 0  # the base alone cannot know
    plan = await store.apply(ahead, now(), prepared)

    assert plan is not prepared.plan
    assert store.prepared_dropped == 1
    assert plan.counts == {Disposition.DUPLICATE: 1, Disposition.APPLIED: 1}
    await committed(store, plan)
