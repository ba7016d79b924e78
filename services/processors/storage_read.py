"""Loading event state from MySQL: the rows of many events in one query per table."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.processors.state import (
    EventState,
    MarketEntry,
    VoidTerms,
    canonical_price,
    construct,
    ordered_outcomes,
)
from shared.enums import (
    FINAL_MARKET_STATUSES,
    RESULT_RESOLUTIONS,
    EventStatus,
    MarketStatus,
    Resolution,
    SettlementResult,
    Sport,
)
from shared.live import FixtureState, LiveState, MarketState, OutcomeState
from shared.markets import OutcomeSettlement
from shared.model import Clock, Competition, Competitor, GamePoints, PeriodScore, Score
from shared.storage.pool import from_db_datetime

EVENT_COLUMNS = (
    "e.id, e.sport, e.competition_id, e.home_id, e.away_id, e.start_time, e.status, e.best_of,"
    " e.provider, e.last_provider_ts, e.version, e.updated_at, c.name, c.country, c.season,"
    " h.name, a.name"
)
EVENT_FROM = (
    " FROM events e LEFT JOIN competitions c ON c.id = e.competition_id"
    " LEFT JOIN competitors h ON h.id = e.home_id LEFT JOIN competitors a ON a.id = e.away_id"
)


def placeholders(count: int) -> str:
    """``%s, %s, ...`` for an IN list."""
    return ", ".join(["%s"] * count)


async def fetch_in(cur: Any, sql: str, ids: Sequence[Any], chunk: int = 1000) -> list[Any]:
    """Run ``sql`` (with ``{in}`` for the IN list) over ``ids`` in chunks."""
    rows: list[Any] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        await cur.execute(sql.format(**{"in": placeholders(len(part))}), tuple(part))
        rows.extend(await cur.fetchall())
    return rows


def _utc(value: datetime | None) -> datetime | None:
    return from_db_datetime(value) if value is not None else None


def _competitor(cid: str, name: str | None) -> Competitor:
    return Competitor(id=cid, name=name or cid)


def _live(row: Sequence[Any]) -> LiveState:
    (_, status, period, seconds, running, stoppage, home, away, periods, game, server, ts) = row
    return LiveState(
        status=EventStatus(status),
        period=period,
        clock=None if seconds is None else Clock(
            seconds=seconds, running=bool(running), stoppage_seconds=stoppage
        ),
        score=Score(
            home=home, away=away,
            periods=tuple(PeriodScore.model_validate(p) for p in json.loads(periods)),
        ),
        game=GamePoints.model_validate(json.loads(game)) if game else None,
        server=server,
        provider_ts=_utc(ts),
    )


async def load_states(cur: Any, event_ids: Sequence[str]) -> dict[str, EventState]:
    """The full state of the given events that exist (absent ids are unknown events)."""
    if not event_ids:
        return {}
    ids = list(event_ids)
    events = await fetch_in(cur, f"SELECT {EVENT_COLUMNS}{EVENT_FROM} WHERE e.id IN ({{in}})", ids)
    if not events:
        return {}
    found = [row[0] for row in events]
    lives = await fetch_in(
        cur,
        "SELECT event_id, status, period, clock_seconds, clock_running, stoppage_seconds,"
        " home_score, away_score, periods, game, server, provider_ts"
        " FROM live_state WHERE event_id IN ({in})",
        found,
    )
    markets = await fetch_in(
        cur,
        "SELECT event_id, market_key, status, producer, provider, status_reason, provider_ts,"
        " resolution, status_before_final FROM markets WHERE event_id IN ({in})",
        found,
    )
    outcomes = await fetch_in(
        cur,
        "SELECT event_id, market_key, outcome_id, price, active FROM outcomes"
        " WHERE event_id IN ({in})",
        found,
    )
    by_market: dict[tuple[str, str], list[OutcomeState]] = defaultdict(list)
    for event_id, key, outcome_id, price, active in outcomes:
        by_market[(event_id, key)].append(
            construct(OutcomeState, {"id": outcome_id, "price": canonical_price(price),
                                     "active": bool(active)})
        )
    sports = {row[0]: Sport(row[1]) for row in events}
    by_event: dict[str, dict[str, MarketEntry]] = defaultdict(dict)
    for event_id, key, status, producer, provider, reason, ts, resolution, before in markets:
        state = construct(MarketState, {
            "market_key": key,
            "status": MarketStatus(status),
            "outcomes": ordered_outcomes(sports[event_id], key, by_market.get((event_id, key), ())),
            "status_reason": reason,
            "producer": producer,
            "provider_ts": _utc(ts),
            "resolution": Resolution(resolution) if resolution else None,
        })
        by_event[event_id][key] = MarketEntry(
            state, provider, MarketStatus(before) if before else None
        )
    live_by_event = {row[0]: _live(row) for row in lives}
    return {row[0]: _event(row, live_by_event.get(row[0]), by_event[row[0]]) for row in events}


def _event(
    row: Sequence[Any], live: LiveState | None, markets: dict[str, MarketEntry]
) -> EventState:
    (event_id, sport, competition_id, home_id, away_id, start, status, best_of, provider,
     last_ts, version, updated_at, c_name, c_country, c_season, h_name, a_name) = row
    fixture = FixtureState(
        competition=Competition(
            id=competition_id, name=c_name or competition_id, country=c_country, season=c_season
        ),
        start_time=_utc(start),
        home=_competitor(home_id, h_name),
        away=_competitor(away_id, a_name),
        best_of=best_of,
    )
    return EventState(
        event_id=event_id,
        sport=Sport(sport),
        version=int(version),
        last_provider_ts=from_db_datetime(last_ts),
        provider=provider,
        status=EventStatus(status),
        fixture=fixture,
        live=live,
        markets=markets,
        updated_at=_utc(updated_at),
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
        voids[key] = VoidTerms(reason, _utc(start), _utc(end))
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
