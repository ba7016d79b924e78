"""Driving the processors' pure core in tests: records, batch plans and decisions.

Football, a fixed decision time, and a fixture dated before the messages built after it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.processors.domain.decide import decide
from services.processors.domain.incoming import Incoming, decode_record
from services.processors.domain.plan import BatchPlan, LedgerKey, plan_batch
from services.processors.domain.rules import StatefulRules
from services.processors.domain.state import EventState
from shared.codec import encode_message
from shared.enums import Disposition, Sport
from shared.model import FeedMessage
from tests.support.samples import Messages

NOW = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)
EARLIER = datetime(2026, 5, 1, 11, 0, tzinfo=UTC)
RULES = StatefulRules(Sport.FOOTBALL)
TOTALS = "totals|total=2.5"


def records(*messages: FeedMessage | bytes, start: int = 0) -> list[Incoming]:
    """Kafka records of partition 0 from offset ``start``, decoded as the worker does."""
    return [
        decode_record(m if isinstance(m, bytes) else encode_message(m), 0, start + i, None)
        for i, m in enumerate(messages)
    ]


def plan(
    items: list[Incoming], states: dict[str, EventState | None] | None = None,
    ledger: dict[str, LedgerKey] | None = None,
) -> BatchPlan:
    """The plan of a batch over the given states (unknown events otherwise) and ledger."""
    events = {i.event_id for i in items if i.event_id}
    known = {e: None for e in events} | (states or {})
    return plan_batch(items, known, ledger or {}, RULES, NOW)


def dispositions(p: BatchPlan) -> list[str]:
    """The batch's ledger dispositions, in order."""
    return [r.disposition.value for r in p.ledger]


def applied(state: EventState | None, msg: FeedMessage) -> EventState:
    """The state after ``msg``, which must apply."""
    decision = decide(state, msg, RULES, NOW)
    assert decision.disposition is Disposition.APPLIED, decision.reason
    assert decision.state is not None
    return decision.state


def build(msgs: Messages, *messages: FeedMessage, event: str = "e1") -> EventState:
    """An event's state after its fixture (dated before them) and ``messages``."""
    state = applied(None, msgs.fixture(event, at=EARLIER))
    for msg in messages:
        state = applied(state, msg)
    return state
