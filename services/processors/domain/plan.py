"""A batch decided as a whole: the rows of its one transaction, its deltas and rejects.

Pure: the storage layer hands in the events' states (as locked in MySQL) and the
ledger rows that already exist for the batch's message ids; :func:`plan_batch`
threads each event's state through its messages in Kafka order and returns what to
write. How a delivery is classified:

- its ``message_id`` is in the ledger with this very partition and offset: a crash
  replay of a record already applied; it has no effect at all (not even a row);
- its ``message_id`` is in the ledger from another record, or earlier in this batch:
  ``duplicate`` (a row in ``ledger_duplicates``, whose unique key makes a replay of
  that duplicate a no-op too);
- otherwise :func:`.decide.decide` says applied, stale or rejected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from services.processors.domain.changes import CancellationRow, OddsRow, RowMark, SettlementRow
from services.processors.domain.decide import Decision, decide
from services.processors.domain.incoming import Incoming
from services.processors.domain.rules import StatefulRules
from services.processors.domain.state import EventState
from shared.codec import RejectedRecord, payload_text
from shared.enums import Disposition, MessageKind, Sport
from shared.live import EventDelta

# (sport, partition, offset) of the Kafka record a ledger row was written for.
LedgerKey = tuple[str, int | None, int | None]


class RefusalRow(NamedTuple):
    """One ``ledger_refusals`` row: a market of a message that was not applied."""

    message_id: str
    sport: Sport
    event_id: str
    market_key: str
    reason: str


class LedgerRow(NamedTuple):
    """One row of ``ledger`` (or of ``ledger_duplicates``, whose disposition is implied)."""

    message_id: str
    provider: str
    sport: Sport
    event_id: str
    kind: MessageKind | None
    provider_ts: datetime | None
    received_at: datetime | None
    processed_at: datetime
    disposition: Disposition
    reason: str | None
    partition: int
    offset: int


@dataclass
class BatchPlan:
    """Everything one batch writes and publishes."""

    applied_at: datetime
    ledger: list[LedgerRow] = field(default_factory=list)
    duplicates: list[LedgerRow] = field(default_factory=list)
    # Events as loaded (None: unknown) and the final state of every event that changed.
    before: dict[str, EventState | None] = field(default_factory=dict)
    after: dict[str, EventState] = field(default_factory=dict)
    odds: list[OddsRow] = field(default_factory=list)
    settlements: list[SettlementRow] = field(default_factory=list)
    cancellations: list[CancellationRow] = field(default_factory=list)
    # Rows written in this batch and taken out of force later in it: index -> the mark.
    settlement_marks: dict[int, RowMark] = field(default_factory=dict)
    cancellation_marks: dict[int, RowMark] = field(default_factory=dict)
    # Marks of rows from earlier batches (run before this batch's inserts).
    marks: list[RowMark] = field(default_factory=list)
    refusals: list[RefusalRow] = field(default_factory=list)
    liveness: dict[str, datetime] = field(default_factory=dict)
    deltas: list[EventDelta] = field(default_factory=list)
    rejected: list[RejectedRecord] = field(default_factory=list)
    # Events whose records were crash replays: their snapshot is refreshed after commit.
    replayed: set[str] = field(default_factory=set)
    counts: Counter[Disposition] = field(default_factory=Counter)
    replays: int = 0

    @property
    def changed(self) -> bool:
        """True when the transaction has anything to write."""
        return bool(self.ledger or self.duplicates or self.after or self.liveness)


def plan_batch(
    items: Sequence[Incoming],
    states: Mapping[str, EventState | None],
    ledger_hits: Mapping[str, LedgerKey],
    rules: StatefulRules,
    applied_at: datetime,
) -> BatchPlan:
    """Decide a batch in order; ``ledger_hits`` maps known message ids to their record.

    A record is identified by (sport, partition, offset): each sport has its own topic.
    """
    plan = BatchPlan(applied_at=applied_at, before=dict(states))
    current: dict[str, EventState | None] = dict(states)
    seen: set[str] = set()
    for item in items:
        message_id = item.message_id
        if message_id is not None:
            hit = ledger_hits.get(message_id)
            if hit == (rules.sport.value, item.partition, item.offset):
                plan.replays += 1
                if item.event_id is not None and current.get(item.event_id) is not None:
                    plan.replayed.add(item.event_id)
                continue
            if hit is not None or message_id in seen:
                plan.duplicates.append(_row(item, rules.sport, Disposition.DUPLICATE, None, applied_at))
                plan.counts[Disposition.DUPLICATE] += 1
                continue
            seen.add(message_id)
        if item.message is None:
            _reject(plan, item, rules.sport, item.error or "undecodable record", applied_at)
            continue
        msg = item.message
        decision = decide(current.get(msg.event_id), msg, rules, applied_at)
        plan.refusals.extend(
            RefusalRow(msg.message_id, rules.sport, msg.event_id, r.market_key, r.reason)
            for r in decision.refused
        )
        if decision.disposition is Disposition.REJECTED:
            _reject(plan, item, rules.sport, decision.reason or "rejected", applied_at)
            continue
        plan.ledger.append(_row(item, rules.sport, decision.disposition, decision.reason, applied_at))
        plan.counts[decision.disposition] += 1
        if decision.disposition is Disposition.APPLIED:
            _collect(plan, decision)
            if decision.state is not None:
                current[msg.event_id] = decision.state
                plan.after[msg.event_id] = decision.state
    return plan


def _collect(plan: BatchPlan, decision: Decision) -> None:
    if decision.liveness is not None:
        alive = decision.liveness
        known = plan.liveness.get(alive.provider)
        plan.liveness[alive.provider] = max(known, alive.alive_at) if known else alive.alive_at
    if decision.delta is not None:
        plan.deltas.append(decision.delta)
    plan.odds.extend(decision.odds)
    # Marks first: they take out of force the rows written before this message (earlier
    # in the batch, or in earlier batches), never the rows this message adds.
    for mark in decision.marks:
        rows: Sequence[SettlementRow | CancellationRow] = (
            plan.settlements if mark.table == "settlements" else plan.cancellations
        )
        marked = (
            plan.settlement_marks if mark.table == "settlements" else plan.cancellation_marks
        )
        # This batch's own rows of the market still in force are inserted already marked.
        for index, row in enumerate(rows):
            same = row.event_id == mark.event_id and row.market_key == mark.market_key
            if same and index not in marked:
                marked[index] = mark
        plan.marks.append(mark)
    plan.settlements.extend(decision.settlements)
    plan.cancellations.extend(decision.cancellations)


def _row(
    item: Incoming, sport: Sport, disposition: Disposition, reason: str | None,
    processed_at: datetime,
) -> LedgerRow:
    # The sport is the topic's: with partition and offset it names the Kafka record, even
    # for a message of another sport sent to this topic by mistake.
    msg, env = item.message, item.envelope
    if msg is not None:
        return LedgerRow(
            msg.message_id, msg.provider, sport, msg.event_id, msg.kind, msg.provider_ts,
            msg.received_at, processed_at, disposition, reason, item.partition, item.offset,
        )
    assert env is not None
    return LedgerRow(
        env.message_id, env.provider, sport, env.event_id, env.kind, env.provider_ts,
        env.received_at, processed_at, disposition, reason, item.partition, item.offset,
    )


def _reject(
    plan: BatchPlan, item: Incoming, sport: Sport, reason: str, processed_at: datetime
) -> None:
    reason = reason[:1000]
    # The ledger needs the id and the kind (a NOT NULL enum); a record without them is
    # accounted for on the rejected topic only.
    readable = not item.unledgered and (
        item.message is not None or (item.envelope is not None and item.envelope.kind is not None)
    )
    if readable:
        plan.ledger.append(_row(item, sport, Disposition.REJECTED, reason, processed_at))
    plan.counts[Disposition.REJECTED] += 1
    plan.rejected.append(rejected_record(item, sport, reason, processed_at))


def rejected_record(
    item: Incoming, sport: Sport, reason: str, processed_at: datetime
) -> RejectedRecord:
    """What the rejected topic carries for a record the processor refused."""
    text, truncated = payload_text(item.raw)
    msg, env = item.message, item.envelope
    return RejectedRecord(
        stage="processor",
        reason=reason,
        provider=msg.provider if msg else (env.provider or None if env else None),
        sport=(msg.sport if msg else sport).value,
        message_id=item.message_id,
        event_id=item.event_id or None,
        received_at=(msg.received_at if msg else (env.received_at if env else None))
        or processed_at,
        payload=text,
        truncated=truncated,
    )
