"""The batch's hand-rendered events and markets rows say exactly what the generic renderer
says of the same values (strings MySQL must escape, every optional field both ways)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from services.processors.domain.state import EventState
from services.processors.storage.write import (
    event_row,
    event_values,
    market_row,
    market_values,
)
from shared.enums import EventStatus, MarketStatus, Resolution
from shared.model import Competitor
from shared.storage.sqltext import row_sql
from tests.support.decisions import NOW, build
from tests.support.samples import Messages

AWKWARD = "O'Brien \\ \"x\"\n\r\0\x1a"


def _state() -> EventState:
    m = Messages()
    return build(m, m.odds("e1"))


def _variants(state: EventState) -> list[EventState]:
    fixture = state.fixture
    # Identifiers are validated on the way in; the renderer must not rely on it.
    odd = fixture.model_copy(update={
        "home": Competitor.model_construct(id="h'1\\", name=AWKWARD), "best_of": 5,
        "start_time": None})
    return [
        state,
        dataclasses.replace(state, updated_at=None),
        dataclasses.replace(state, event_id="e'1\\", provider=AWKWARD, fixture=odd,
                            status=EventStatus.LIVE, version=123456789,
                            updated_at=NOW + timedelta(microseconds=7)),
    ]


@pytest.mark.parametrize("n", range(3))
def test_event_values_render_what_row_sql_renders_of_event_row(n: int) -> None:
    state = _variants(_state())[n]
    assert event_values(state) == row_sql(event_row(state))


def test_market_values_render_what_row_sql_renders_of_market_row() -> None:
    state = _state()
    key, entry = next(iter(state.markets.items()))
    market = entry.state
    cases = [
        entry,
        entry._replace(provider=AWKWARD),
        entry._replace(state=market.model_copy(update={
            "status": MarketStatus.SETTLED, "resolution": Resolution.CONFIRMED,
            "producer": "p\\'1", "status_reason": AWKWARD, "provider_ts": None}),
            status_before_final=MarketStatus.SUSPENDED),
        # A status before final only counts while the market is final.
        entry._replace(status_before_final=MarketStatus.SUSPENDED),
    ]
    for case in cases:
        for event_id, market_key in ((state.event_id, key), ("e'\\", "totals|total=2'5")):
            assert market_values(event_id, market_key, case, NOW) == \
                row_sql(market_row(event_id, market_key, case, NOW))
