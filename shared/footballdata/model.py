"""What the football-data.co.uk reader returns: typed matches, quotes and problems.

Everything here is plain frozen data (slots dataclasses, not pydantic models): a
season file has some 400 rows of 60-130 cells, and the importer reads twenty of them
in well under a second, so the reader builds these directly from checked cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from shared.markets import market_key as build_market_key


class OddsPhase(StrEnum):
    """When a bookmaker's price was taken: football-data's first collection or at kick-off."""

    OPENING = "opening"
    CLOSING = "closing"


class ColumnStatus(StrEnum):
    """Why a column is listed in a file's report."""

    UNKNOWN = "unknown"  # matches no known column or odds pattern: ignored
    NEW_BOOKMAKER = "new_bookmaker"  # an odds pattern with a bookmaker code not in the table: imported


class ProblemAction(StrEnum):
    """What the reader did about a bad cell."""

    ROW_SKIPPED = "row_skipped"  # an essential cell (date, teams, score) is bad: no match
    VALUE_IGNORED = "value_ignored"  # an odds or statistics cell is bad: the match imports without it


class RunOutcome(StrEnum):
    """How an import run of one file ended."""

    OK = "ok"  # every data row imported
    PARTIAL = "partial"  # imported, but some rows were skipped or values ignored
    FAILED = "failed"  # nothing written: the file could not be read or the write failed


MARKET_OUTCOMES: dict[str, tuple[str, ...]] = {
    "1x2": ("home", "draw", "away"),
    "totals": ("over", "under"),
    "handicap": ("home", "away"),
}
"""The outcome ids of each market the files quote, in the canonical model's order."""


@lru_cache(maxsize=4096)
def market_key_of(market: str, line: Decimal | None) -> str:
    """The canonical market key: ``1x2``, ``totals|total=2.5``, ``handicap|hcp=-0.75``."""
    if line is None:
        return build_market_key(market)
    name = "total" if market == "totals" else "hcp"
    return build_market_key(market, {name: str(line)})


class Quote(NamedTuple):
    """One bookmaker's price for one outcome (``line``: the total or the home handicap).

    A named tuple rather than a dataclass: a season file holds some 30,000 quotes,
    and a tuple is built several times faster than a frozen dataclass.
    """

    bookmaker: str
    market: str
    outcome: str
    line: Decimal | None
    phase: OddsPhase
    price: Decimal

    @property
    def market_key(self) -> str:
        """The canonical market key of the quote's market."""
        return market_key_of(self.market, self.line)


class MarketPrices(NamedTuple):
    """One bookmaker's prices for one market in one phase: the outcomes it quoted."""

    bookmaker: str
    market: str
    line: Decimal | None
    phase: OddsPhase
    prices: tuple[tuple[str, Decimal], ...]  # (outcome id, price), in the file's column order

    @property
    def market_key(self) -> str:
        """The canonical market key."""
        return market_key_of(self.market, self.line)

    def quotes(self) -> tuple[Quote, ...]:
        """The prices as one quote per outcome."""
        return tuple(Quote(self.bookmaker, self.market, outcome, self.line, self.phase, price)
                     for outcome, price in self.prices)


@dataclass(frozen=True, slots=True)
class Statistics:
    """Match statistics, each None when the file has no such column or an empty cell."""

    home_shots: int | None = None
    away_shots: int | None = None
    home_shots_on_target: int | None = None
    away_shots_on_target: int | None = None
    home_woodwork: int | None = None
    away_woodwork: int | None = None
    home_corners: int | None = None
    away_corners: int | None = None
    home_fouls: int | None = None
    away_fouls: int | None = None
    home_free_kicks_conceded: int | None = None
    away_free_kicks_conceded: int | None = None
    home_offsides: int | None = None
    away_offsides: int | None = None
    home_yellow_cards: int | None = None
    away_yellow_cards: int | None = None
    home_red_cards: int | None = None
    away_red_cards: int | None = None
    home_booking_points: int | None = None
    away_booking_points: int | None = None
    attendance: int | None = None


@dataclass(frozen=True, slots=True)
class Team:
    """A club as the file names it, with its stable id and display name."""

    id: str
    name: str
    file_name: str


@dataclass(frozen=True, slots=True)
class Match:
    """One data row: a finished match with its result, statistics and every quote.

    ``start_time`` is UTC. The files give UK local time (``Time``, from 2019/20 on);
    without a time the start is 00:00 UTC of the match date and ``kickoff_known`` is
    False. ``season`` is the file's July-June season (``2022/23``).
    """

    file: str
    line: int
    event_id: str
    division: str
    competition_id: str
    season: str
    match_date: date
    start_time: datetime
    kickoff_known: bool
    home: Team
    away: Team
    home_goals: int
    away_goals: int
    ht_home_goals: int | None
    ht_away_goals: int | None
    referee: str | None
    statistics: Statistics
    markets: tuple[MarketPrices, ...]
    bookmaker_counts: dict[str, int] = field(default_factory=dict)

    @property
    def quotes(self) -> tuple[Quote, ...]:
        """Every price of the row as (bookmaker, market, outcome, line, phase, price)."""
        return tuple(q for m in self.markets for q in m.quotes())

    @property
    def quote_count(self) -> int:
        """How many prices the row has."""
        return sum(len(m.prices) for m in self.markets)

    @property
    def result(self) -> str:
        """``H``, ``D`` or ``A``: the full-time result."""
        if self.home_goals == self.away_goals:
            return "D"
        return "H" if self.home_goals > self.away_goals else "A"


@dataclass(frozen=True, slots=True)
class Problem:
    """A bad cell: where (``file:line``, column), why, and what the reader did."""

    file: str
    line: int
    column: str | None
    reason: str
    action: ProblemAction

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f" {self.column}" if self.column else "")
        return f"{where}: {self.reason} ({self.action.value.replace('_', ' ')})"


@dataclass(frozen=True, slots=True)
class ColumnNote:
    """A header column the reader did not map to a known meaning, or mapped to a new bookmaker."""

    name: str
    position: int
    status: ColumnStatus
    detail: str
    bookmaker: str | None = None  # the new code, for NEW_BOOKMAKER


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """Everything read from one file."""

    name: str
    matches: tuple[Match, ...]
    problems: tuple[Problem, ...]
    columns: tuple[ColumnNote, ...]
    data_rows: int
    blank_rows: int
    divisions: tuple[str, ...]
    season: str | None
    new_teams: tuple[str, ...] = ()  # names not in the club table: each got an id of its own

    @property
    def skipped(self) -> tuple[Problem, ...]:
        """Problems that cost a whole row."""
        return tuple(p for p in self.problems if p.action is ProblemAction.ROW_SKIPPED)

    @property
    def unknown_columns(self) -> tuple[str, ...]:
        """Names of the columns ignored because nothing known matches them."""
        return tuple(c.name for c in self.columns if c.status is ColumnStatus.UNKNOWN)

    @property
    def quote_count(self) -> int:
        """Prices read, over all matches."""
        return sum(m.quote_count for m in self.matches)


class FootballDataError(ValueError):
    """A file that cannot be read as a football-data file at all (not one bad row)."""
