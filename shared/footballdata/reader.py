"""Read a football-data.co.uk CSV file into typed matches, quotes and problems.

``read_file(path)`` or ``read_bytes(data, name)``: pure (no database, no logging), and
fast (a season file reads in tens of milliseconds). A bad essential cell (date, team,
full-time score) skips its row; a bad odds or statistics cell is left out of an
otherwise good row; both are reported with ``file:line``, the column and the reason.
Columns the reader does not know are listed, never fatal. Only a file that is not a
football-data file at all (no header, a required column missing) raises
:class:`~shared.footballdata.model.FootballDataError`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from shared.footballdata.columns import REQUIRED, ColumnPlan, OddsGroup, plan_columns
from shared.footballdata.model import (
    FootballDataError,
    MarketPrices,
    Match,
    OddsPhase,
    ParsedFile,
    Problem,
    ProblemAction,
    Statistics,
    Team,
)
from shared.footballdata.names import competition_id, known_team, team
from shared.footballdata.values import (
    CellError,
    kickoff_utc,
    parse_count,
    parse_date,
    parse_line,
    parse_price,
    parse_time,
    season_of,
)

_DIVISION = re.compile(r"^[A-Za-z0-9]{1,8}$")
MAX_ID = 64
_SKIP, _IGNORE = ProblemAction.ROW_SKIPPED, ProblemAction.VALUE_IGNORED


class _RowError(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252 as older files are."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_file(path: str | Path) -> ParsedFile:
    """Read one file from disk."""
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name)


def event_id(division: str, day: date, home: Team, away: Team) -> str:
    """The deterministic event id: division, date and both clubs (``fd:match:E0:2022-08-05:...``)."""
    home_slug, away_slug = home.id.rsplit(":", 1)[1], away.id.rsplit(":", 1)[1]
    readable = f"fd:match:{division}:{day.isoformat()}:{home_slug}:{away_slug}"
    if len(readable) <= MAX_ID:
        return readable
    digest = hashlib.sha1(f"{home.id}|{away.id}".encode()).hexdigest()[:16]
    return f"fd:match:{division}:{day.isoformat()}:{digest}"


def read_bytes(data: bytes, name: str) -> ParsedFile:
    """Read one file's bytes; ``name`` is how problems name the file."""
    text = decode(data)
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows)
    except StopIteration:
        raise FootballDataError(f"{name}: the file is empty") from None
    except csv.Error as exc:
        raise FootballDataError(f"{name}: not a CSV file ({exc})") from None
    header = [h.strip().lstrip("\ufeff").replace("ï»¿", "") for h in header]
    plan = plan_columns(header)
    missing = [f for f in REQUIRED if f not in plan.fields]
    if missing:
        raise FootballDataError(
            f"{name}: not a football-data file: no {', '.join(missing)} column "
            f"(header: {', '.join(header[:12])}{'...' if len(header) > 12 else ''})"
        )
    reader = _RowReader(name, plan)
    try:
        for cells in rows:
            reader.row(cells, rows.line_num)
    except csv.Error as exc:
        raise FootballDataError(f"{name}:{rows.line_num}: unreadable CSV ({exc})") from None
    return reader.result()


class _RowReader:
    """The row loop's state: matches so far, problems, the ids seen."""

    def __init__(self, name: str, plan: ColumnPlan) -> None:
        self.name = name
        self.plan = plan
        f = plan.fields
        self.i_div, self.i_date, self.i_home, self.i_away = f["division"], f["date"], f["home"], f["away"]
        self.i_hg, self.i_ag = f["home_goals"], f["away_goals"]
        self.i_time, self.i_res, self.i_ref = f.get("time"), f.get("result"), f.get("referee")
        self.i_hthg, self.i_htag = f.get("ht_home_goals"), f.get("ht_away_goals")
        self.i_htr = f.get("ht_result")
        self.width = len(plan.names)
        self.matches: list[Match] = []
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}
        self.data_rows = self.blank_rows = 0
        self.divisions: dict[str, None] = {}
        self.new_teams: dict[str, None] = {}

    def row(self, cells: list[str], line: int) -> None:
        if not any(c.strip() for c in cells):
            self.blank_rows += 1
            return
        self.data_rows += 1
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        elif len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
            self._problem(line, None, f"{len(cells)} cells but {self.width} columns: the extra"
                          " cells are ignored", _IGNORE)
        try:
            match = self._match(cells, line)
        except _RowError as exc:
            self._problem(line, exc.column, exc.reason, _SKIP)
            return
        first = self.lines.get(match.event_id)
        if first is not None:
            self._problem(line, None, f"the same match as line {first} ({match.event_id})", _SKIP)
            return
        self.lines[match.event_id] = line
        self.divisions.setdefault(match.division)
        self.matches.append(match)

    def result(self) -> ParsedFile:
        season = season_of([m.match_date for m in self.matches])
        matches = tuple(replace(m, season=season) for m in self.matches) if season else ()
        return ParsedFile(
            name=self.name, matches=matches, problems=tuple(self.problems),
            columns=tuple(self.plan.notes), data_rows=self.data_rows, blank_rows=self.blank_rows,
            divisions=tuple(self.divisions), season=season, new_teams=tuple(self.new_teams),
        )

    def _problem(self, line: int, column: str | None, reason: str, action: ProblemAction) -> None:
        self.problems.append(Problem(self.name, line, column, reason, action))

    def _cell(self, cells: list[str], index: int | None) -> str:
        return cells[index].strip() if index is not None else ""

    def _required(self, cells: list[str], index: int) -> str:
        value = cells[index].strip()
        if not value:
            raise _RowError(self.plan.names[index], "is empty")
        return value

    def _count(self, cells: list[str], index: int) -> int:
        try:
            return parse_count(self._required(cells, index))
        except CellError as exc:
            raise _RowError(self.plan.names[index], str(exc)) from None

    def _match(self, cells: list[str], line: int) -> Match:
        names = self.plan.names
        division = self._required(cells, self.i_div)
        if not _DIVISION.match(division):
            raise _RowError(names[self.i_div], f"{division!r} is not a division code")
        try:
            day = parse_date(self._required(cells, self.i_date))
        except CellError as exc:
            raise _RowError(names[self.i_date], str(exc)) from None
        clock = None
        time_text = self._cell(cells, self.i_time)
        if time_text:
            try:
                clock = parse_time(time_text)
            except CellError as exc:
                self._problem(line, names[self.i_time or 0], f"{exc}: the start is 00:00 UTC", _IGNORE)
        home = team(self._required(cells, self.i_home))
        away = team(self._required(cells, self.i_away))
        if home.id == away.id:
            raise _RowError(names[self.i_away], f"{away.file_name!r} plays itself")
        for side in (home, away):
            if not known_team(side.file_name):
                self.new_teams.setdefault(side.file_name)
        home_goals, away_goals = self._count(cells, self.i_hg), self._count(cells, self.i_ag)
        result = self._cell(cells, self.i_res)
        if result and result != _result(home_goals, away_goals):
            raise _RowError(names[self.i_res or 0], f"says {result!r} but the score is "
                            f"{home_goals}-{away_goals}")
        ht_home, ht_away = self._half_time(cells, line, home_goals, away_goals)
        referee = self._cell(cells, self.i_ref)[:100] or None
        return Match(
            file=self.name, line=line, event_id=event_id(division, day, home, away),
            division=division, competition_id=competition_id(division), season="",
            match_date=day, start_time=kickoff_utc(day, clock), kickoff_known=clock is not None,
            home=home, away=away, home_goals=home_goals, away_goals=away_goals,
            ht_home_goals=ht_home, ht_away_goals=ht_away, referee=referee,
            statistics=self._statistics(cells, line), markets=self._markets(cells, line),
            bookmaker_counts=self._counts(cells, line),
        )

    def _half_time(self, cells: list[str], line: int, home: int, away: int) -> tuple[int | None, int | None]:
        """Half-time goals, or (None, None) when absent or inconsistent (reported)."""
        if self.i_hthg is None or self.i_htag is None:
            return None, None
        texts = self._cell(cells, self.i_hthg), self._cell(cells, self.i_htag)
        if not texts[0] and not texts[1]:
            return None, None
        names = self.plan.names
        try:
            ht_home, ht_away = parse_count(texts[0]), parse_count(texts[1])
        except CellError as exc:
            self._problem(line, names[self.i_hthg], f"half-time score: {exc}", _IGNORE)
            return None, None
        reason = None
        if ht_home > home or ht_away > away:
            reason = f"half-time {ht_home}-{ht_away} exceeds full-time {home}-{away}"
        elif (htr := self._cell(cells, self.i_htr)) and htr != _result(ht_home, ht_away):
            reason = f"HTR says {htr!r} but the half-time score is {ht_home}-{ht_away}"
        if reason:
            self._problem(line, names[self.i_hthg], f"{reason}: half-time left out", _IGNORE)
            return None, None
        return ht_home, ht_away

    def _statistics(self, cells: list[str], line: int) -> Statistics:
        return Statistics(**self._whole_numbers(cells, line, self.plan.statistics))

    def _counts(self, cells: list[str], line: int) -> dict[str, int]:
        return self._whole_numbers(cells, line, self.plan.counts)

    def _whole_numbers(self, cells: list[str], line: int,
                       columns: list[tuple[str, int, str]]) -> dict[str, int]:
        """The non-empty cells of ``(name, index, column)`` columns, bad ones reported."""
        values: dict[str, int] = {}
        for name, index, column in columns:
            text = cells[index].strip()
            if text:
                try:
                    values[name] = parse_count(text)
                except CellError as exc:
                    self._problem(line, column, str(exc), _IGNORE)
        return values

    def _markets(self, cells: list[str], line: int) -> tuple[MarketPrices, ...]:
        # The hot loop of the reader (some 55 prices a row): locals, no strip unless needed.
        markets: list[MarketPrices] = []
        price = parse_price
        for g in self.plan.groups:
            prices: list[tuple[str, Decimal]] = []
            for outcome, index, column in g.outcomes:
                text = cells[index]
                if text:
                    try:
                        prices.append((outcome, price(text)))
                    except CellError:
                        if not text.isspace():
                            self._bad_price(prices, outcome, text, line, column)
            if not prices:
                continue
            market_line = g.line
            if g.line_index is not None:
                market_line = self._handicap_line(cells[g.line_index].strip(), g, line)
                if market_line is None:
                    continue
            markets.append(MarketPrices(g.bookmaker, g.market, market_line, g.phase, tuple(prices)))
        return tuple(markets)

    def _bad_price(self, prices: list[tuple[str, Decimal]], outcome: str, text: str, line: int,
                   column: str) -> None:
        """A price cell that did not parse as it is: padded with spaces, or bad (reported)."""
        try:
            prices.append((outcome, parse_price(text.strip())))
        except CellError as exc:
            self._problem(line, column, str(exc), _IGNORE)

    def _handicap_line(self, text: str, g: OddsGroup, line: int) -> Decimal | None:
        """This row's line of a handicap group, None (reported) when it has none."""
        if not text:
            self._problem(line, g.line_column, f"is empty, so the {g.phase.value} Asian"
                          f" handicap prices of {g.code} are left out", _IGNORE)
            return None
        try:
            return parse_line(text)
        except CellError as exc:
            self._problem(line, g.line_column, f"{exc}: the {g.phase.value} Asian handicap"
                          f" prices of {g.code} are left out", _IGNORE)
            return None


def _result(home: int, away: int) -> str:
    return "D" if home == away else "H" if home > away else "A"


__all__ = ["OddsPhase", "decode", "event_id", "read_bytes", "read_file"]
