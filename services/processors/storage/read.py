"""Loading event state from MySQL: the shared loader, plus what closing messages need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from services.processors.domain.state import EventState, MarketEntry, VoidTerms
from shared.enums import (
    FINAL_MARKET_STATUSES,
    RESULT_RESOLUTIONS,
    MarketStatus,
    Resolution,
    SettlementResult,
)
from shared.markets import OutcomeSettlement
from shared.storage.snapshots import StoredEvent, load_events, placeholders, utc


async def load_states(cur: Any, event_ids: Sequence[str]) -> dict[str, EventState]:
    """The full state of the given events that exist (absent ids are unknown events)."""
    return {event_id: _state(stored) for event_id, stored in (await load_events(cur, event_ids)).items()}


def _state(stored: StoredEvent) -> EventState:
    return EventState(
        event_id=stored.event_id,
        sport=stored.sport,
        version=stored.version,
        last_provider_ts=stored.last_provider_ts,
        provider=stored.provider,
        status=stored.status,
        fixture=stored.fixture,
        live=stored.live,
        markets={
            key: MarketEntry(m.state, m.provider, m.status_before_final)
            for key, m in stored.markets.items()
        },
        updated_at=stored.updated_at,
    )


async def fill_closing_details(cur: Any, state: EventState) -> EventState:
    """The state with what closing messages need of each closed market filled in.

    What is in force (the results of a settled market, the terms of a cancelled one) tells
    a confirmation or a correction from a re-send; the status before closing is what a
    rollback restores. The worker keeps both in memory for markets it closes itself; for
    markets loaded from MySQL they are read here, only for events that a batch settles,
    cancels or rolls back. Markets closed before ``status_before_final`` was stored take
    the newest open status of their odds history (every status change writes a row).
    """
    wanted = [e for e in state.markets.values() if e.needs_closing_details()]
    if not wanted:
        return state
    keys = [e.state.market_key for e in wanted]
    results: dict[str, list[OutcomeSettlement]] = defaultdict(list)
    voids: dict[str, VoidTerms] = {}
    await cur.execute(
        "SELECT market_key, outcome_id, result, void_factor, dead_heat_factor FROM settlements"
        f" WHERE event_id = %s AND market_key IN ({placeholders(len(keys))})"
        " AND rolled_back_at IS NULL AND superseded_at IS NULL ORDER BY id",
        (state.event_id, *keys),
    )
    for key, outcome_id, result, void_factor, dead_heat in await cur.fetchall():
        results[key].append(OutcomeSettlement(
            outcome_id=outcome_id, result=SettlementResult(result), void_factor=void_factor,
            dead_heat_factor=dead_heat,
        ))
    await cur.execute(
        "SELECT market_key, void_reason, start_time, end_time FROM cancellations"
        f" WHERE event_id = %s AND market_key IN ({placeholders(len(keys))})"
        " AND rolled_back_at IS NULL AND superseded_at IS NULL ORDER BY id",
        (state.event_id, *keys),
    )
    for key, reason, start, end in await cur.fetchall():
        voids[key] = VoidTerms(reason, utc(start), utc(end))
    markets = dict(state.markets)
    for entry in wanted:
        key = entry.state.market_key
        before = entry.status_before_final
        if before is None and entry.status in FINAL_MARKET_STATUSES:
            await cur.execute(
                "SELECT market_status FROM odds_history WHERE event_id = %s AND market_key = %s"
                " AND market_status NOT IN ('settled', 'cancelled') ORDER BY id DESC LIMIT 1",
                (state.event_id, key),
            )
            row = await cur.fetchone()
            before = MarketStatus(row[0]) if row else None
        markets[key] = entry._replace(
            status_before_final=before,
            results=tuple(results[key]) if entry.resolution in RESULT_RESOLUTIONS else None,
            void=voids.get(key) if entry.resolution is Resolution.VOID else None,
        )
    return replace(state, markets=markets)
