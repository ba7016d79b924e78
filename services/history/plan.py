"""What importing a parsed file changes, decided without the database (pure).

Given the matches of a file and what MySQL already holds for their event ids (the
row hash, the version and the settlement hash), each match is new (inserted at
version 1), unchanged (its row hash is the same: nothing is written), or corrected
(updated, version + 1; its markets and odds are replaced, and its settlements are
rolled back and written anew only if the result they depend on changed).

Rows come out as tuples in the column order of :data:`COLUMNS`, for ``store``: the
markets, outcomes and settlements of an event are written when it is new or when its
settlement changed; the odds and match details whenever the row changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from shared.enums import EventStatus, MarketStatus, Resolution, Sport
from shared.footballdata.model import MARKET_OUTCOMES, Match, OddsPhase, Statistics, market_key_of
from shared.footballdata.names import division
from shared.footballdata.settle import settle_1x2, settle_handicap, settle_totals
from shared.markets import MarketSettlement

PROVIDER = "football-data"
STATUS_REASON = "settled from the football-data.co.uk result"
MAIN_TOTAL = Decimal("2.5")

COLUMNS: dict[str, tuple[str, ...]] = {
    "competitions": ("id", "sport", "name", "country"),
    "competitors": ("id", "name"),
    "events": ("id", "sport", "competition_id", "home_id", "away_id", "start_time", "status",
               "provider", "last_provider_ts", "version"),
    "live_state": ("event_id", "status", "home_score", "away_score", "periods", "provider_ts"),
    "markets": ("event_id", "market_key", "market_type", "status", "resolution", "provider",
                "status_reason", "provider_ts"),
    "outcomes": ("event_id", "market_key", "outcome_id", "price", "active"),
    "settlements": ("event_id", "market_key", "outcome_id", "result", "void_factor", "certainty",
                    "message_id", "provider_ts"),
    "history_matches": (
        "event_id", "competition_id", "division", "season", "match_date", "kickoff_known",
        "home_name", "away_name", "referee", "home_shots", "away_shots", "home_shots_on_target",
        "away_shots_on_target", "home_woodwork", "away_woodwork", "home_corners", "away_corners",
        "home_fouls", "away_fouls", "home_free_kicks_conceded", "away_free_kicks_conceded",
        "home_offsides", "away_offsides", "home_yellow_cards", "away_yellow_cards",
        "home_red_cards", "away_red_cards", "home_booking_points", "away_booking_points",
        "attendance", "bookmakers_1x2", "bookmakers_totals", "bookmakers_handicap", "source_file",
        "source_line", "row_hash", "settlement_hash", "run_id"),
    "history_odds": ("event_id", "bookmaker", "market_key", "phase", "price_home", "price_draw",
                     "price_away", "price_over", "price_under"),
}
"""Columns written per table (the others keep their defaults)."""

UPSERT: dict[str, tuple[str, ...]] = {
    "competitions": ("name", "country"),
    "competitors": ("name",),
    "events": COLUMNS["events"][1:],
    "live_state": COLUMNS["live_state"][1:],
    "history_matches": COLUMNS["history_matches"][1:],
}
"""Tables whose existing rows an import overwrites (the columns it overwrites)."""

_PRICE_SLOT = {"home": 0, "draw": 1, "away": 2, "over": 3, "under": 4}
_PHASE = {p: p.value for p in OddsPhase}  # a dict lookup is cheaper than Enum.value
statistics_values = attrgetter(*(f.name for f in fields(Statistics)))
"""The statistics of a match as a tuple, in the column order of history_matches."""


@dataclass(frozen=True, slots=True)
class Existing:
    """What MySQL holds of an event already (hashes None: not written by an import)."""

    version: int
    row_hash: str | None
    settlement_hash: str | None


@dataclass
class FilePlan:
    """Rows to write for one file, and how each match fared."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in COLUMNS})
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Updated events whose markets and settlements are replaced: event id -> the message
    # id of the new settlement rows (the old ones are rolled back by it).
    resettled: dict[str, str] = field(default_factory=dict)

    @property
    def odds_rows(self) -> int:
        """``history_odds`` rows to write."""
        return len(self.rows["history_odds"])


def settlements_of(match: Match) -> list[MarketSettlement]:
    """1X2, totals 2.5 and every other quoted total, and every quoted Asian handicap line."""
    h, a = match.home_goals, match.away_goals
    totals = {MAIN_TOTAL} | {m.line for m in match.markets if m.market == "totals" and m.line is not None}
    lines = {m.line for m in match.markets if m.market == "handicap" and m.line is not None}
    return [
        settle_1x2(h, a),
        *(settle_totals(h, a, t, market_key_of("totals", t)) for t in sorted(totals)),
        *(settle_handicap(h, a, line, market_key_of("handicap", line)) for line in sorted(lines)),
    ]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row_hash(match: Match) -> str:
    """sha256 of everything read from the row that is stored (not where it was read).

    Built from the parsed values, sorted, so the same data in another layout (columns
    moved, ``4.0`` for ``4``, a re-saved file) hashes alike and imports as unchanged.
    """
    markets = sorted(
        f"{m.bookmaker} {m.market_key} {_PHASE[m.phase]} "
        + " ".join(sorted(f"{o}={p}" for o, p in m.prices))
        for m in match.markets
    )
    parts = (
        match.event_id, match.season, match.start_time.isoformat(), match.kickoff_known,
        match.home.id, match.home.file_name, match.away.id, match.away.file_name,
        match.home_goals, match.away_goals, match.ht_home_goals, match.ht_away_goals,
        match.referee, statistics_values(match.statistics), sorted(match.bookmaker_counts.items()),
    )
    return _digest(repr(parts) + "\n" + "\n".join(markets))


def settlement_hash(settlements: Iterable[MarketSettlement], start: datetime) -> str:
    """sha256 of what the market and settlement rows say (their time is the kick-off)."""
    return _digest(repr((start.isoformat(), sorted(
        (s.market_key, o.outcome_id, o.result.value, str(o.void_factor))
        for s in settlements for o in s.outcomes
    ))))


def message_id(event_id: str, version: int) -> str:
    """The id settlement rows of one version of an imported event carry."""
    return f"{event_id}:v{version}"


def periods_json(match: Match) -> str:
    """The live state's periods: both halves when the half-time score is known."""
    if match.ht_home_goals is None or match.ht_away_goals is None:
        return "[]"
    first = {"period": "1h", "home": match.ht_home_goals, "away": match.ht_away_goals}
    second = {"period": "2h", "home": match.home_goals - match.ht_home_goals,
              "away": match.away_goals - match.ht_away_goals}
    return json.dumps([first, second], separators=(",", ":"))


def plan_file(matches: Iterable[Match], existing: Mapping[str, Existing], run_id: int) -> FilePlan:
    """Every row to write for ``matches``; unchanged matches write nothing."""
    plan = FilePlan()
    rows = plan.rows
    divisions: dict[str, None] = {}
    teams: dict[str, str] = {}
    for match in matches:
        settled = settlements_of(match)
        digest, s_digest = row_hash(match), settlement_hash(settled, match.start_time)
        old = existing.get(match.event_id)
        if old is not None and old.row_hash == digest:
            plan.unchanged.append(match.event_id)
            continue
        version = 1 if old is None else old.version + 1
        (plan.inserted if old is None else plan.updated).append(match.event_id)
        divisions.setdefault(match.division)
        teams[match.home.id] = match.home.name
        teams[match.away.id] = match.away.name
        _match_rows(rows, match, version, digest, s_digest, run_id)
        if old is None or old.settlement_hash != s_digest:
            if old is not None:
                plan.resettled[match.event_id] = message_id(match.event_id, version)
            _settlement_rows(rows, match, settled, version)
    for code in divisions:
        d = division(code)
        rows["competitions"].append((f"fd:competition:{code}", Sport.FOOTBALL.value, d.name,
                                     d.country or None))
    rows["competitors"].extend(teams.items())
    return plan


def _match_rows(rows: dict[str, list[tuple[Any, ...]]], m: Match, version: int, digest: str,
                s_digest: str, run_id: int) -> None:
    start: datetime = m.start_time
    closed = EventStatus.CLOSED.value
    rows["events"].append((m.event_id, Sport.FOOTBALL.value, m.competition_id, m.home.id,
                           m.away.id, start, closed, PROVIDER, start, version))
    rows["live_state"].append((m.event_id, closed, m.home_goals, m.away_goals, periods_json(m), start))
    counts = m.bookmaker_counts
    rows["history_matches"].append((
        m.event_id, m.competition_id, m.division, m.season, m.match_date, m.kickoff_known,
        m.home.file_name, m.away.file_name, m.referee, *statistics_values(m.statistics),
        counts.get("1x2"), counts.get("totals"), counts.get("handicap"), m.file, m.line,
        digest, s_digest, run_id,
    ))
    odds = rows["history_odds"]
    for prices in m.markets:
        slots: list[Decimal | None] = [None] * 5
        for outcome, price in prices.prices:
            slots[_PRICE_SLOT[outcome]] = price
        odds.append((m.event_id, prices.bookmaker, prices.market_key, _PHASE[prices.phase], *slots))


def _settlement_rows(rows: dict[str, list[tuple[Any, ...]]], m: Match,
                     settled: list[MarketSettlement], version: int) -> None:
    start = m.start_time
    message = message_id(m.event_id, version)
    settled_status = MarketStatus.SETTLED.value
    for s in settled:
        key = s.market_key
        rows["markets"].append((m.event_id, key, key.split("|", 1)[0], settled_status,
                                Resolution.CONFIRMED.value, PROVIDER, STATUS_REASON, start))
        for outcome_id in MARKET_OUTCOMES[key.split("|", 1)[0]]:
            rows["outcomes"].append((m.event_id, key, outcome_id, None, False))
        for o in s.outcomes:
            rows["settlements"].append((m.event_id, key, o.outcome_id, o.result.value,
                                        o.void_factor, "confirmed", message, start))

