"""Writing a :class:`~.plan.BatchPlan`: one multi-row statement per table.

Each table gets one ``INSERT ... VALUES (...), (...)`` for the whole batch (rendered by
:mod:`.sqltext`), and all of them, with the ``COMMIT``, travel to the server as one
multi-statement script: a batch's writes cost one round trip, not one per table or row.
Only rollbacks, superseded results and removed outcomes, all rare, are updates and deletes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from services.processors.domain.changes import RowMark
from services.processors.domain.plan import BatchPlan
from services.processors.domain.state import EventState, MarketEntry
from shared.enums import FINAL_MARKET_STATUSES
from shared.live import LiveState
from shared.storage.sqltext import (
    enum_literal,
    literal,
    quote,
    rows_sql,
    run_script,
    statements,
    text_literal,
    time_literal,
)

LEDGER = (
    "INSERT INTO ledger (message_id, provider, sport, event_id, kind, provider_ts,"
    " received_at, processed_at, disposition, reason, kafka_partition, kafka_offset)"
)
# A replay of a duplicate's own record hits the (sport, partition, offset) key: no-op.
DUPLICATES = (
    "INSERT IGNORE INTO ledger_duplicates (message_id, provider, sport, event_id, kind,"
    " provider_ts, received_at, processed_at, kafka_partition, kafka_offset)"
)
COMPETITIONS = (
    "INSERT INTO competitions (id, sport, name, country, season)",
    " ON DUPLICATE KEY UPDATE name = VALUES(name), country = VALUES(country),"
    " season = VALUES(season)",
)
COMPETITORS = (
    "INSERT INTO competitors (id, name)", " ON DUPLICATE KEY UPDATE name = VALUES(name)"
)
EVENTS = (
    "INSERT INTO events (id, sport, competition_id, home_id, away_id, start_time, status,"
    " best_of, provider, last_provider_ts, version, updated_at)",
    " ON DUPLICATE KEY UPDATE competition_id = VALUES(competition_id),"
    " home_id = VALUES(home_id), away_id = VALUES(away_id), start_time = VALUES(start_time),"
    " status = VALUES(status), best_of = VALUES(best_of),"
    " last_provider_ts = VALUES(last_provider_ts), version = VALUES(version),"
    " updated_at = VALUES(updated_at)",
)
LIVE = (
    "INSERT INTO live_state (event_id, status, period, clock_seconds, clock_running,"
    " stoppage_seconds, home_score, away_score, periods, game, server, provider_ts)",
    " ON DUPLICATE KEY UPDATE status = VALUES(status), period = VALUES(period),"
    " clock_seconds = VALUES(clock_seconds), clock_running = VALUES(clock_running),"
    " stoppage_seconds = VALUES(stoppage_seconds), home_score = VALUES(home_score),"
    " away_score = VALUES(away_score), periods = VALUES(periods), game = VALUES(game),"
    " server = VALUES(server), provider_ts = VALUES(provider_ts)",
)
MARKETS = (
    "INSERT INTO markets (event_id, market_key, market_type, status, resolution,"
    " status_before_final, producer, provider, status_reason, provider_ts)",
    " ON DUPLICATE KEY UPDATE status = VALUES(status), resolution = VALUES(resolution),"
    " status_before_final = VALUES(status_before_final), producer = VALUES(producer),"
    " provider = VALUES(provider), status_reason = VALUES(status_reason),"
    " provider_ts = VALUES(provider_ts)",
)
OUTCOMES = (
    "INSERT INTO outcomes (event_id, market_key, outcome_id, price, active)",
    " ON DUPLICATE KEY UPDATE price = VALUES(price), active = VALUES(active)",
)
ODDS = (
    "INSERT INTO odds_history (event_id, market_key, outcome_id, price, active, market_status,"
    " provider_ts, message_id)"
)
SETTLEMENTS = (
    "INSERT INTO settlements (event_id, market_key, outcome_id, result, void_factor,"
    " dead_heat_factor, certainty, message_id, provider_ts, rolled_back_at, rolled_back_by,"
    " superseded_at, superseded_by)"
)
CANCELLATIONS = (
    "INSERT INTO cancellations (event_id, market_key, void_reason, start_time, end_time,"
    " message_id, provider_ts, rolled_back_at, rolled_back_by, superseded_at, superseded_by)"
)
# A replay of a message is a replay of its ledger row too, so never of these; IGNORE
# only guards a message that names one market twice.
REFUSALS = (
    "INSERT IGNORE INTO ledger_refusals (message_id, sport, event_id, market_key, reason,"
    " processed_at)"
)
LIVENESS = (
    "INSERT INTO provider_liveness (provider, last_alive_at, suspended_at)",
    " ON DUPLICATE KEY UPDATE last_alive_at = GREATEST(last_alive_at, VALUES(last_alive_at)),"
    " suspended_at = NULL",
)


def live_row(event_id: str, live: LiveState, fallback: datetime) -> tuple[Any, ...]:
    """The ``live_state`` row of a live state."""
    clock = live.clock
    return (
        event_id, live.status, live.period,
        clock.seconds if clock else None, clock.running if clock else None,
        clock.stoppage_seconds if clock else None,
        live.score.home, live.score.away,
        json.dumps([p.model_dump(mode="json", exclude_none=True) for p in live.score.periods]),
        live.game.model_dump_json() if live.game else None,
        live.server,
        live.provider_ts or fallback,
    )


def event_row(state: EventState) -> tuple[Any, ...]:
    """The ``events`` row of a state (its fixture is complete: events need one)."""
    f = state.fixture
    assert f.competition is not None
    assert f.home is not None
    assert f.away is not None
    return (
        state.event_id, state.sport, f.competition.id, f.home.id, f.away.id, f.start_time,
        state.status, f.best_of, state.provider, state.last_provider_ts, state.version,
        state.updated_at,
    )


# Every message of a batch writes its event's row and the rows of the markets it moved:
# rendered by hand like the ledger's (the generic renderer's call per value was the
# largest share of rendering a batch). A unit test holds each equal to row_sql of the
# tuple functions above and below.
def event_values(state: EventState) -> str:
    """:func:`event_row` rendered: ``(...)``."""
    f = state.fixture
    assert f.competition is not None
    assert f.home is not None
    assert f.away is not None
    q, when = quote, time_literal
    return (
        f"({q(state.event_id)}, {q(state.sport.value)}, {q(f.competition.id)},"
        f" {q(f.home.id)}, {q(f.away.id)}, {when(f.start_time)}, {q(state.status.value)},"
        f" {'NULL' if f.best_of is None else int(f.best_of)}, {q(state.provider)},"
        f" {when(state.last_provider_ts)}, {int(state.version)}, {when(state.updated_at)})"
    )


def market_row(event_id: str, key: str, entry: MarketEntry, at: datetime) -> tuple[Any, ...]:
    """The ``markets`` row of a market entry (``at`` stands in for a missing provider time)."""
    m = entry.state
    return (
        event_id, key, key.split("|", 1)[0], m.status, m.resolution,
        entry.status_before_final if m.status in FINAL_MARKET_STATUSES else None,
        m.producer, entry.provider, m.status_reason, m.provider_ts or at,
    )


def market_values(event_id: str, key: str, entry: MarketEntry, at: datetime) -> str:
    """:func:`market_row` rendered: ``(...)``."""
    m = entry.state
    q = quote
    before_final = entry.status_before_final if m.status in FINAL_MARKET_STATUSES else None
    return (
        f"({q(event_id)}, {q(key)}, {q(key.split('|', 1)[0])}, {q(m.status.value)},"
        f" {enum_literal(m.resolution)}, {enum_literal(before_final)},"
        f" {text_literal(m.producer)}, {q(entry.provider)}, {text_literal(m.status_reason)},"
        f" {time_literal(m.provider_ts or at)})"
    )


def _ledger_values(plan: BatchPlan) -> list[str]:
    # The two most numerous rows (ledger, odds history) are rendered by hand: the generic
    # renderer's call per value was the largest CPU cost of a batch.
    at = plan.applied_at  # a record too broken to read its times: processing time stands in
    q, when = quote, time_literal
    return [
        f"({q(r.message_id)}, {q(r.provider)}, '{r.sport.value}',"
        f" {q(r.event_id)}, {literal(r.kind)}, {when(r.provider_ts or at)},"
        f" {when(r.received_at or at)}, {when(r.processed_at)}, '{r.disposition.value}',"
        f" {literal(r.reason)}, {r.partition:d}, {r.offset:d})"
        for r in plan.ledger
    ]


def _odds_values(plan: BatchPlan) -> list[str]:
    q, when = quote, time_literal
    return [
        f"({q(r.event_id)}, {q(r.market_key)},"
        f" {q(r.outcome_id)}, {'NULL' if r.price is None else str(r.price)},"
        f" {'1' if r.active else '0'}, '{r.market_status.value}', {when(r.provider_ts)},"
        f" {q(r.message_id)})"
        for r in plan.odds
    ]


def plan_sql(plan: BatchPlan) -> list[str]:
    """Every write of the batch as SQL, in an order that keeps rollbacks correct."""
    at = plan.applied_at
    sql = statements(LEDGER, _ledger_values(plan))
    sql += statements(DUPLICATES, rows_sql(
        (r.message_id, r.provider, r.sport, r.event_id, r.kind, r.provider_ts or at,
         r.received_at or at, r.processed_at, r.partition, r.offset)
        for r in plan.duplicates
    ))
    sql += _state_sql(plan)
    sql += statements(ODDS, _odds_values(plan))
    # Marks of earlier batches' rows first: this batch's own rows are inserted
    # afterwards, already marked when a later message of the batch took them out of force.
    sql += [
        f"UPDATE {m.table} SET {m.action}_at = {literal(at)}, {m.action}_by = {literal(m.message_id)}"
        f" WHERE event_id = {literal(m.event_id)} AND market_key = {literal(m.market_key)}"
        " AND rolled_back_at IS NULL AND superseded_at IS NULL"
        for m in plan.marks
    ]
    sql += statements(SETTLEMENTS, rows_sql(
        (*row, *_mark_columns(plan.settlement_marks.get(i), at))
        for i, row in enumerate(plan.settlements)
    ))
    sql += statements(CANCELLATIONS, rows_sql(
        (*row, *_mark_columns(plan.cancellation_marks.get(i), at))
        for i, row in enumerate(plan.cancellations)
    ))
    sql += statements(REFUSALS, rows_sql(
        (r.message_id, r.sport, r.event_id, r.market_key, r.reason, at) for r in plan.refusals
    ))
    sql += statements(LIVENESS[0], rows_sql(
        (p, ts, None) for p, ts in plan.liveness.items()), LIVENESS[1])
    return sql


def _mark_columns(mark: RowMark | None, at: datetime) -> tuple[Any, ...]:
    """``rolled_back_at, rolled_back_by, superseded_at, superseded_by`` of an inserted row."""
    if mark is None:
        return (None, None, None, None)
    if mark.action == "rolled_back":
        return (at, mark.message_id, None, None)
    return (None, None, at, mark.message_id)


def _state_sql(plan: BatchPlan) -> list[str]:
    competitions: dict[str, tuple[Any, ...]] = {}
    competitors: dict[str, tuple[Any, ...]] = {}
    events: list[str] = []
    lives: list[tuple[Any, ...]] = []
    markets: list[str] = []
    outcomes: list[str] = []
    removed: list[str] = []
    q = quote
    for event_id, new in plan.after.items():
        old = plan.before.get(event_id)
        if old is None or new.fixture is not old.fixture:
            f = new.fixture
            if f.competition:
                c = f.competition
                competitions[c.id] = (c.id, new.sport, c.name, c.country, c.season)
            for side in (f.home, f.away):
                if side:
                    competitors[side.id] = (side.id, side.name)
        events.append(event_values(new))
        if new.live is not None and (old is None or new.live is not old.live):
            lives.append(live_row(event_id, new.live, plan.applied_at))
        e = q(event_id)
        for key, entry in new.markets.items():
            before = old.markets.get(key) if old is not None else None
            if before is entry:
                continue
            m = entry.state
            markets.append(market_values(event_id, key, entry, plan.applied_at))
            k = q(key)
            outcomes.extend(
                f"({e}, {k}, {q(o.id)},"
                f" {'NULL' if o.price is None else str(o.price)}, {'1' if o.active else '0'})"
                for o in m.outcomes
            )
            if before is not None:
                kept = {o.id for o in m.outcomes}
                removed.extend(
                    f"DELETE FROM outcomes WHERE event_id = {e} AND market_key = {k}"
                    f" AND outcome_id = {literal(o.id)}"
                    for o in before.state.outcomes if o.id not in kept
                )
    return [
        *statements(COMPETITIONS[0], rows_sql(competitions.values()), COMPETITIONS[1]),
        *statements(COMPETITORS[0], rows_sql(competitors.values()), COMPETITORS[1]),
        *statements(EVENTS[0], events, EVENTS[1]),
        *statements(LIVE[0], rows_sql(lives), LIVE[1]),
        *statements(MARKETS[0], markets, MARKETS[1]),
        *statements(OUTCOMES[0], outcomes, OUTCOMES[1]),
        *removed,
    ]


async def write_plan(
    cur: Any, plan: BatchPlan, *, commit: bool = False, sql: list[str] | None = None,
) -> None:
    """Run the batch's writes (and its ``COMMIT``) in as few round trips as possible;
    ``sql`` is the plan's :func:`plan_sql` when it was rendered already."""
    if sql is None:
        sql = plan_sql(plan)
    await run_script(cur, [*sql, "COMMIT"] if commit else sql)
