"""Response bodies, built from database rows and snapshots (pure functions).

Prices and factors are strings (exact decimals: ``"1.85"``, never a float), times
ISO-8601 UTC with a ``Z``. Optional fields are always present, ``null`` when unknown,
so a response has one shape (the OpenAPI document describes exactly that shape).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.enums import Disposition
from shared.markets import parse_market_key

HISTORY_COLUMNS = (
    "provider_ts", "outcome_id", "price", "active", "market_status", "message_id", "recorded_at"
)


def iso(value: datetime | None) -> str | None:
    """A database time (naive UTC) or an aware one as ISO-8601 with ``Z``."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decimal_text(value: Decimal | None) -> str | None:
    """A DECIMAL column as the shortest exact string (``1.8500`` -> ``"1.85"``, ``10``)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def competition_of(cid: str | None, name: str | None, country: str | None,
                   season: str | None) -> dict[str, Any] | None:
    """The competition object."""
    if cid is None:
        return None
    return {"id": cid, "name": name or cid, "country": country, "season": season}


def competitors_of(home: Mapping[str, Any] | None,
                   away: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Home then away, each with its qualifier."""
    return [
        {"id": side["id"], "name": side.get("name") or side["id"], "qualifier": qualifier}
        for qualifier, side in (("home", home), ("away", away)) if side is not None
    ]


def event_summary(row: Sequence[Any]) -> dict[str, Any]:
    """One event of ``GET /v1/events`` from a row of :data:`.queries.SUMMARY_COLUMNS`."""
    (event_id, sport, status, start, version, updated, best_of, cid, c_name, c_country,
     c_season, home_id, h_name, away_id, a_name) = row
    return {
        "id": event_id,
        "sport": sport,
        "status": status,
        "start_time": iso(start),
        "version": int(version),
        "best_of": best_of,
        "competition": competition_of(cid, c_name, c_country, c_season),
        "competitors": competitors_of({"id": home_id, "name": h_name},
                                      {"id": away_id, "name": a_name}),
        "updated_at": iso(updated),
    }


def _live(live: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if live is None:
        return None
    clock = live.get("clock")
    score = live.get("score") or {}
    return {
        "status": live["status"],
        "period": live.get("period"),
        "clock": None if clock is None else {
            "seconds": clock["seconds"],
            "running": clock.get("running", True),
            "stoppage_seconds": clock.get("stoppage_seconds"),
        },
        "score": {
            "home": score.get("home", 0),
            "away": score.get("away", 0),
            "periods": [
                {"period": p["period"], "home": p["home"], "away": p["away"],
                 "tiebreak_home": p.get("tiebreak_home"), "tiebreak_away": p.get("tiebreak_away")}
                for p in score.get("periods", ())
            ],
        },
        "game": live.get("game"),
        "server": live.get("server"),
        "provider_ts": live.get("provider_ts"),
    }


def market_view(market: Mapping[str, Any]) -> dict[str, Any]:
    """One market of an event, with its type and specifiers spelled out."""
    key = market["market_key"]
    mtype, specifiers = parse_market_key(key)
    return {
        "market_key": key,
        "type": mtype,
        "specifiers": specifiers,
        "status": market["status"],
        "resolution": market.get("resolution"),
        "status_reason": market.get("status_reason"),
        "producer": market.get("producer"),
        "provider_ts": market.get("provider_ts"),
        "outcomes": [
            {"id": o["id"], "price": o.get("price"), "active": o.get("active", True)}
            for o in market.get("outcomes", ())
        ],
    }


def event_detail(snapshot: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``GET /v1/events/{id}`` from a JSON-mode :class:`~shared.live.EventSnapshot`."""
    fixture = snapshot.get("fixture") or {}
    comp = fixture.get("competition")
    markets = snapshot.get("markets") or {}
    return {
        "id": snapshot["event_id"],
        "sport": snapshot["sport"],
        "status": snapshot.get("status", "not_started"),
        "version": snapshot["version"],
        "start_time": fixture.get("start_time"),
        "best_of": fixture.get("best_of"),
        "competition": None if comp is None else competition_of(
            comp["id"], comp.get("name"), comp.get("country"), comp.get("season")
        ),
        "competitors": competitors_of(fixture.get("home"), fixture.get("away")),
        "live": _live(snapshot.get("live")),
        "markets": [market_view(markets[k]) for k in sorted(markets)],
        "updated_at": snapshot.get("updated_at"),
        "source": source,
    }


def history_row(row: Sequence[Any]) -> dict[str, Any]:
    """One odds-history change from a row of :data:`.queries.HISTORY_COLUMNS`."""
    outcome_id, price, active, status, provider_ts, recorded_at, message_id = row
    return {
        "provider_ts": iso(provider_ts),
        "outcome_id": outcome_id,
        "price": decimal_text(price),
        "active": bool(active),
        "market_status": status,
        "message_id": message_id,
        "recorded_at": iso(recorded_at),
    }


def history_csv(changes: Iterable[Mapping[str, Any]]) -> str:
    """The history as CSV with a header row (``active`` as true/false)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for change in changes:
        row = [change[c] for c in HISTORY_COLUMNS]
        row[3] = "true" if change["active"] else "false"
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def settlement_row(row: Sequence[Any]) -> dict[str, Any]:
    """One outcome result from a row of :data:`.queries.SETTLEMENT_COLUMNS`."""
    (sid, key, outcome_id, result, void, dead_heat, certainty, message_id, provider_ts,
     settled_at, rolled_back_at, rolled_back_by, superseded_at, superseded_by) = row
    return {
        "id": int(sid), "market_key": key, "outcome_id": outcome_id, "result": result,
        "void_factor": decimal_text(void), "dead_heat_factor": decimal_text(dead_heat),
        "certainty": certainty, "message_id": message_id, "provider_ts": iso(provider_ts),
        "settled_at": iso(settled_at), "rolled_back_at": iso(rolled_back_at),
        "rolled_back_by": rolled_back_by, "superseded_at": iso(superseded_at),
        "superseded_by": superseded_by,
        "in_force": rolled_back_at is None and superseded_at is None,
    }


def cancellation_row(row: Sequence[Any]) -> dict[str, Any]:
    """One voided market from a row of :data:`.queries.CANCELLATION_COLUMNS`."""
    (cid, key, reason, start, end, message_id, provider_ts, cancelled_at, rolled_back_at,
     rolled_back_by, superseded_at, superseded_by) = row
    return {
        "id": int(cid), "market_key": key, "void_reason": reason, "start_time": iso(start),
        "end_time": iso(end), "message_id": message_id, "provider_ts": iso(provider_ts),
        "cancelled_at": iso(cancelled_at), "rolled_back_at": iso(rolled_back_at),
        "rolled_back_by": rolled_back_by, "superseded_at": iso(superseded_at),
        "superseded_by": superseded_by,
        "in_force": rolled_back_at is None and superseded_at is None,
    }


def refusal_row(row: Sequence[Any]) -> dict[str, Any]:
    """A market a settlement, cancel or rollback named but did not apply, and why."""
    key, message_id, kind, reason, processed_at = row
    return {"market_key": key, "message_id": message_id, "kind": kind, "reason": reason,
            "processed_at": iso(processed_at)}


DISPOSITIONS = tuple(d.value for d in Disposition)


def ledger_summary(
    counts: Iterable[Sequence[Any]], repeats: Iterable[Sequence[Any]],
    start: datetime | None, end: datetime | None,
) -> dict[str, Any]:
    """Dispositions by sport and provider: every accepted message is counted exactly once.

    ``counts`` rows are ``(sport, provider, disposition, n)`` from the ledger;
    ``repeats`` rows ``(sport, provider, n)`` are later deliveries of an id already in
    the ledger (``ledger_duplicates``), which are duplicates too. ``accepted`` is the
    sum of the dispositions: the number to compare with what ingestion accepted.
    """
    table: dict[tuple[str, str], dict[str, int]] = {}

    def cell(sport: str, provider: str) -> dict[str, int]:
        return table.setdefault((sport, provider), dict.fromkeys((*DISPOSITIONS, "repeats"), 0))

    for sport, provider, disposition, n in counts:
        cell(sport, provider)[disposition] += int(n)
    for sport, provider, n in repeats:
        row = cell(sport, provider)
        row["duplicate"] += int(n)
        row["repeats"] += int(n)
    rows = []
    totals = dict.fromkeys((*DISPOSITIONS, "repeats", "accepted"), 0)
    for (sport, provider), values in sorted(table.items()):
        accepted = sum(values[d] for d in DISPOSITIONS)
        rows.append({"sport": sport, "provider": provider, **values, "accepted": accepted})
        for name in (*DISPOSITIONS, "repeats"):
            totals[name] += values[name]
        totals["accepted"] += accepted
    return {"from": iso(start), "to": iso(end), "rows": rows, "totals": totals}
