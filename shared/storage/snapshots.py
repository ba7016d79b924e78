"""Loading events from MySQL as snapshots: the rows of many events, one query per table.

The processors rebuild their in-memory state from this (after a restart, a cache miss)
and distribution serves a snapshot from it when Redis has none; one loader means both
build the same snapshot, and the same as the worker wrote to Redis (outcomes ordered and
prices spelled by :func:`shared.live.ordered_outcomes` and ``canonical_price``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.enums import EventStatus, MarketStatus, Resolution, Sport
from shared.live import (
    EventSnapshot,
    FixtureState,
    LiveState,
    MarketState,
    OutcomeState,
    canonical_price,
    construct,
    ordered_outcomes,
)
from shared.model import Clock, Competition, Competitor, GamePoints, PeriodScore, Score
from shared.storage.pool import from_db_datetime

EVENT_COLUMNS = (
    "e.id, e.sport, e.competition_id, e.home_id, e.away_id, e.start_time, e.status, e.best_of,"
    " e.provider, e.last_provider_ts, e.version, e.updated_at, c.name, c.country, c.season,"
    " h.name, a.name"
)
# Events the feed carried (the processors applied a message of theirs), as opposed to
# events written by an import (the football-data history): only these have a live state
# worth keeping in Redis and pushing to trading UIs.
FEED_EVENT = "EXISTS (SELECT 1 FROM ledger l WHERE l.event_id = e.id)"
EVENT_FROM = (
    " FROM events e LEFT JOIN competitions c ON c.id = e.competition_id"
    " LEFT JOIN competitors h ON h.id = e.home_id LEFT JOIN competitors a ON a.id = e.away_id"
)


@dataclass(frozen=True, slots=True)
class StoredMarket:
    """A market as MySQL has it: its published state and who priced it."""

    state: MarketState
    provider: str
    status_before_final: MarketStatus | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as MySQL has it: everything its snapshot shows, and what the processors
    also track (the provider, the staleness watermark, each market's provider)."""

    event_id: str
    sport: Sport
    version: int
    status: EventStatus
    fixture: FixtureState
    live: LiveState | None
    markets: dict[str, StoredMarket]
    provider: str
    last_provider_ts: datetime
    updated_at: datetime | None

    def snapshot(self) -> EventSnapshot:
        """The snapshot clients see of this event."""
        return EventSnapshot(
            event_id=self.event_id,
            sport=self.sport,
            version=self.version,
            status=self.status,
            fixture=self.fixture,
            live=self.live,
            markets={key: market.state for key, market in self.markets.items()},
            updated_at=self.updated_at,
        )


def placeholders(count: int) -> str:
    """``%s, %s, ...`` for an IN list."""
    return ", ".join(["%s"] * count)


async def fetch_in(cur: Any, sql: str, ids: Sequence[Any], chunk: int = 1000) -> list[Any]:
    """Run ``sql`` (with ``{in}`` for the IN list) over ``ids`` in chunks, parameters bound."""
    rows: list[Any] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        await cur.execute(sql.format(**{"in": placeholders(len(part))}), tuple(part))
        rows.extend(await cur.fetchall())
    return rows


def utc(value: datetime | None) -> datetime | None:
    """A naive UTC value read from MySQL as an aware one (None stays None)."""
    return from_db_datetime(value) if value is not None else None


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
        provider_ts=utc(ts),
    )


async def load_events(cur: Any, event_ids: Sequence[str]) -> dict[str, StoredEvent]:
    """The given events that exist (absent ids are unknown events), in full."""
    if not event_ids:
        return {}
    events = await fetch_in(
        cur, f"SELECT {EVENT_COLUMNS}{EVENT_FROM} WHERE e.id IN ({{in}})", list(event_ids))
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
    by_event: dict[str, dict[str, StoredMarket]] = defaultdict(dict)
    for event_id, key, status, producer, provider, reason, ts, resolution, before in markets:
        state = construct(MarketState, {
            "market_key": key,
            "status": MarketStatus(status),
            "outcomes": ordered_outcomes(sports[event_id], key, by_market.get((event_id, key), ())),
            "status_reason": reason,
            "producer": producer,
            "provider_ts": utc(ts),
            "resolution": Resolution(resolution) if resolution else None,
        })
        by_event[event_id][key] = StoredMarket(
            state, provider, MarketStatus(before) if before else None
        )
    live_by_event = {row[0]: _live(row) for row in lives}
    return {row[0]: _event(row, live_by_event.get(row[0]), by_event[row[0]]) for row in events}


def _event(
    row: Sequence[Any], live: LiveState | None, markets: dict[str, StoredMarket]
) -> StoredEvent:
    (event_id, sport, competition_id, home_id, away_id, start, status, best_of, provider,
     last_ts, version, updated_at, c_name, c_country, c_season, h_name, a_name) = row
    fixture = FixtureState(
        competition=Competition(
            id=competition_id, name=c_name or competition_id, country=c_country, season=c_season
        ),
        start_time=utc(start),
        home=Competitor(id=home_id, name=h_name or home_id),
        away=Competitor(id=away_id, name=a_name or away_id),
        best_of=best_of,
    )
    return StoredEvent(
        event_id=event_id,
        sport=Sport(sport),
        version=int(version),
        status=EventStatus(status),
        fixture=fixture,
        live=live,
        markets=markets,
        provider=provider,
        last_provider_ts=from_db_datetime(last_ts),
        updated_at=utc(updated_at),
    )


async def load_snapshots(cur: Any, event_ids: Sequence[str]) -> dict[str, EventSnapshot]:
    """The snapshots of the given events that exist."""
    return {e: stored.snapshot() for e, stored in (await load_events(cur, event_ids)).items()}
