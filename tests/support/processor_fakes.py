"""In-memory stand-ins for the processor's storage, Redis and Kafka (no tests here).

:class:`FakeStore` runs the real pure layer (:func:`~services.processors.domain.plan.plan_batch`)
over dictionaries, so tests through it exercise the real decisions; only the
transaction is imaginary. Failures are injected per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.processors.domain.decide import suspend_silent
from services.processors.domain.incoming import Incoming
from services.processors.domain.plan import BatchPlan, LedgerKey, plan_batch
from services.processors.domain.rules import StatefulRules
from services.processors.domain.state import EventState
from services.processors.storage.store import Prepared
from shared.codec import RejectedRecord
from shared.live import EventDelta, EventSnapshot


class FakeStore:
    """The storage layer over dictionaries, with injectable failures."""

    def __init__(self, rules: StatefulRules) -> None:
        self.rules = rules
        self.states: dict[str, EventState] = {}
        self.ledger: dict[str, LedgerKey] = {}
        self.duplicates: set[tuple[int, int]] = set()
        self.alive: dict[str, datetime] = {}
        self.committed: list[BatchPlan] = []
        self.fail_next: list[BaseException] = []
        # Messages whose batch MySQL refuses; and ids whose rejection row it refuses too.
        self.refuse_ids: set[str] = set()
        self.refuse_rejections: set[str] = set()
        # What the refusal raises (a value MySQL refuses, by default).
        self.refusal: BaseException | None = None
        self.calls = 0

    async def writing(self) -> None:
        await asyncio.Event().wait()  # never: nothing is decided ahead here

    def prepare(self, items: Sequence[Incoming], applied_at: datetime) -> Prepared | None:
        return None

    async def apply(
        self, items: Sequence[Incoming], applied_at: datetime, prepared: Prepared | None = None,
    ) -> BatchPlan:
        self.calls += 1
        if self.fail_next:
            raise self.fail_next.pop(0)
        refused = any(
            (i.message is not None and i.message_id in self.refuse_ids)
            or (not i.unledgered and i.message_id in self.refuse_rejections)
            for i in items
        )
        if refused:
            import aiomysql

            raise self.refusal or aiomysql.DataError(1406, "Data too long for column")
        states = {i.event_id: self.states.get(i.event_id) for i in items if i.message is not None
                  and i.event_id is not None}
        hits = {i.message_id: self.ledger[i.message_id] for i in items
                if i.message_id is not None and i.message_id in self.ledger}
        plan = plan_batch(items, states, hits, self.rules, applied_at)
        for row in plan.ledger:
            self.ledger[row.message_id] = (row.sport.value, row.partition, row.offset)
        self.duplicates.update((r.partition, r.offset) for r in plan.duplicates)
        self.states.update(plan.after)
        for provider, at in plan.liveness.items():
            self.alive[provider] = max(at, self.alive.get(provider, at))
        self.committed.append(plan)
        return plan

    async def snapshots(self, event_ids: Iterable[str] | None = None) -> list[EventSnapshot]:
        ids = list(self.states) if event_ids is None else list(event_ids)
        return [self.states[e].snapshot() for e in ids if e in self.states]

    async def liveness(self) -> dict[str, datetime]:
        return dict(self.alive)

    async def suspend_silent_provider(
        self, provider: str, silent_since: datetime, now: datetime
    ) -> BatchPlan | None:
        plan = BatchPlan(applied_at=now)
        for event_id, state in list(self.states.items()):
            decision = suspend_silent(state, provider, now)
            if decision is not None and decision.state is not None and decision.delta is not None:
                plan.before[event_id] = state
                plan.after[event_id] = decision.state
                plan.deltas.append(decision.delta)
        self.states.update(plan.after)
        return plan if plan.deltas else None


class FakeCache:
    """Redis as a dictionary; ``down`` makes every write fail like a refused connection."""

    def __init__(self) -> None:
        self.snapshots: dict[str, EventSnapshot] = {}
        self.down = False
        self.writes = 0

    async def write(self, snapshots: Sequence[EventSnapshot], chunk: int = 500) -> int:
        if self.down:
            raise ConnectionRefusedError("redis is down")
        self.writes += 1
        written = 0
        for s in snapshots:
            known = self.snapshots.get(s.event_id)
            if known is None or known.version <= s.version:
                self.snapshots[s.event_id] = s
                written += 1
        return written


class FakePublisher:
    """Kafka as two lists."""

    def __init__(self) -> None:
        self.deltas: list[EventDelta] = []
        self.rejected: list[RejectedRecord] = []
        self.fail = False

    async def publish(
        self, deltas: Sequence[EventDelta], rejected: Sequence[RejectedRecord] = ()
    ) -> None:
        if self.fail:
            raise ConnectionError("kafka is down")
        self.deltas.extend(deltas)
        self.rejected.extend(rejected)
