"""What each header column of a football-data file means: fields, statistics, odds.

Odds columns are recognised by their shape, not from a list, so a new bookmaker's
columns import the season they appear:

=====================================  ==============================================
``<BK>H`` ``<BK>D`` ``<BK>A``          1X2 opening (``B365H``, ``PSH``, ``MaxH``, ``BbAvH``)
``<BK>CH`` ``<BK>CD`` ``<BK>CA``       1X2 closing (``PSCH``, ``B365CH``, ``AvgCA``)
``<BK>>2.5`` ``<BK><2.5``              over/under 2.5 opening (``P>2.5``, ``BbMx<2.5``)
``<BK>C>2.5`` ``<BK>C<2.5``            over/under closing (``PC>2.5``, ``MaxC<2.5``)
``<BK>AHH`` ``<BK>AHA``                Asian handicap opening, line ``AHh`` (``BbAHh`` for Bb*)
``<BK>CAHH`` ``<BK>CAHA``              Asian handicap closing, line ``AHCh``
``AHh`` ``AHCh`` ``BbAHh`` ``<BK>AH``  the home team's handicap line (older files: per bookmaker)
``Bb1X2`` ``BbOU`` ``BbAH``            how many bookmakers Betbrain averaged: counts, not odds
=====================================  ==============================================

``<BK>`` is a bookmaker code (:data:`~shared.footballdata.bookmakers.BOOKMAKERS`). A
trailing ``C`` is read as "closing" when the code without it is known (``PSCH`` is
Pinnacle closing, not a bookmaker ``PSC``), or, for an unknown code, when the file also
has the opening column. An unknown code imports under its own name when the file has
all of its market's outcomes; a column that fits no pattern is reported, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from shared.footballdata.bookmakers import BETBRAIN_FAMILY, BOOKMAKERS
from shared.footballdata.model import MARKET_OUTCOMES, ColumnNote, ColumnStatus, OddsPhase

FIELDS: dict[str, str] = {
    "Div": "division", "Date": "date", "Time": "time",
    "HomeTeam": "home", "HT": "home", "Home": "home",
    "AwayTeam": "away", "AT": "away", "Away": "away",
    "FTHG": "home_goals", "HG": "home_goals", "FTAG": "away_goals", "AG": "away_goals",
    "FTR": "result", "Res": "result",
    "HTHG": "ht_home_goals", "HTAG": "ht_away_goals", "HTR": "ht_result",
    "Referee": "referee",
    # The "extra leagues" layout names its league and season; the dates decide here.
    "Country": "country", "League": "league", "Season": "season",
}
"""Column (and its older or other-layout aliases) -> field."""

REQUIRED = ("division", "date", "home", "away", "home_goals", "away_goals")

STATISTICS: dict[str, str] = {
    "HS": "home_shots", "AS": "away_shots",
    "HST": "home_shots_on_target", "AST": "away_shots_on_target",
    "HHW": "home_woodwork", "AHW": "away_woodwork",
    "HC": "home_corners", "AC": "away_corners",
    "HF": "home_fouls", "AF": "away_fouls",
    "HFKC": "home_free_kicks_conceded", "AFKC": "away_free_kicks_conceded",
    "HO": "home_offsides", "AO": "away_offsides",
    "HY": "home_yellow_cards", "AY": "away_yellow_cards",
    "HR": "home_red_cards", "AR": "away_red_cards",
    "HBP": "home_booking_points", "ABP": "away_booking_points",
    "Attendance": "attendance",
}

COUNTS: dict[str, str] = {"Bb1X2": "1x2", "BbOU": "totals", "BbAH": "handicap"}

HALF = Decimal("0.5")
_CODE = r"[A-Z0-9][A-Za-z0-9]{0,11}"
AH_LINE = re.compile(r"^(?P<code>(?:Bb|" + _CODE + r")?)AH(?P<closing>C?)h$")
BOOKMAKER_AH_LINE = re.compile(r"^(?P<code>" + _CODE + r")AH$")
AH_PRICE = re.compile(r"^(?P<stem>" + _CODE + r"?)AH(?P<side>[HA])$")
TOTALS_PRICE = re.compile(r"^(?P<stem>" + _CODE + r")(?P<side>[<>])(?P<line>\d{1,2}(?:\.\d{1,2})?)$")
X12_PRICE = re.compile(r"^(?P<stem>" + _CODE + r")(?P<side>[HDA])$")

_OUTCOME = {
    "1x2": {"H": "home", "D": "draw", "A": "away"},
    "totals": {">": "over", "<": "under"},
    "handicap": {"H": "home", "A": "away"},
}


@dataclass(frozen=True, slots=True)
class OddsGroup:
    """The columns of one bookmaker's market in one phase: read together per row."""

    bookmaker: str  # stored id: the table's, or the code itself when unknown
    code: str
    market: str
    phase: OddsPhase
    line: Decimal | None  # totals: from the column name
    line_index: int | None  # handicap: the column holding this row's line
    line_column: str | None
    outcomes: tuple[tuple[str, int, str], ...]  # (outcome id, column index, column name)


@dataclass
class ColumnPlan:
    """How to read every column of one header."""

    fields: dict[str, int] = field(default_factory=dict)
    statistics: list[tuple[str, int, str]] = field(default_factory=list)
    counts: list[tuple[str, int, str]] = field(default_factory=list)
    groups: list[OddsGroup] = field(default_factory=list)
    notes: list[ColumnNote] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Candidate:
    stem: str
    market: str
    side: str
    line_text: str | None
    index: int
    name: str


def _candidate(name: str, index: int) -> _Candidate | None:
    for market, pattern in (("handicap", AH_PRICE), ("totals", TOTALS_PRICE), ("1x2", X12_PRICE)):
        match = pattern.match(name)
        if match:
            line = match.groupdict().get("line")
            return _Candidate(match["stem"], market, match["side"], line, index, name)
    return None


def _line_decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def plan_columns(header: list[str]) -> ColumnPlan:
    """The reading plan of a header (names already stripped of whitespace and BOM)."""
    plan = ColumnPlan(names=list(header))
    seen: dict[str, int] = {}
    lines: dict[tuple[str, OddsPhase], tuple[int, str]] = {}
    candidates: list[_Candidate] = []
    for index, name in enumerate(header):
        if name in seen:
            plan.notes.append(ColumnNote(name or f"#{index + 1}", index, ColumnStatus.UNKNOWN,
                                         f"repeats column {seen[name] + 1}: ignored"))
            continue
        seen[name] = index
        if name in FIELDS:
            plan.fields.setdefault(FIELDS[name], index)
        elif name in STATISTICS:
            plan.statistics.append((STATISTICS[name], index, name))
        elif name in COUNTS:
            plan.counts.append((COUNTS[name], index, name))
        elif (m := AH_LINE.match(name)) is not None:
            phase = OddsPhase.CLOSING if m["closing"] else OddsPhase.OPENING
            lines[(m["code"], phase)] = (index, name)
        elif (m := BOOKMAKER_AH_LINE.match(name)) is not None and m["code"] in BOOKMAKERS:
            lines[(m["code"], OddsPhase.OPENING)] = (index, name)
        elif (c := _candidate(name, index)) is not None:
            if c.line_text is not None and Decimal(c.line_text) % HALF != 0:
                reason = f"a total of {c.line_text} goals is not a half-goal line: ignored"
                plan.notes.append(ColumnNote(name, index, ColumnStatus.UNKNOWN, reason))
                continue
            candidates.append(c)
        else:
            plan.notes.append(ColumnNote(name or f"#{index + 1}", index, ColumnStatus.UNKNOWN,
                                         "no known column or odds pattern: ignored"))
    _plan_odds(plan, candidates, lines)
    plan.notes.sort(key=lambda n: n.position)
    return plan


def _plan_odds(plan: ColumnPlan, candidates: list[_Candidate],
               lines: dict[tuple[str, OddsPhase], tuple[int, str]]) -> None:
    present = {(c.stem, c.market, c.side, c.line_text) for c in candidates}
    groups: dict[tuple[str, str, OddsPhase, str | None], list[_Candidate]] = {}
    for c in candidates:
        code, phase = _split_stem(c, present)
        groups.setdefault((code, c.market, phase, c.line_text), []).append(c)
    taken: set[tuple[str, str, str, OddsPhase, str | None]] = set()
    for (code, market, phase, line_text), members in groups.items():
        known = BOOKMAKERS.get(code)
        sides = {c.side for c in members}
        if known is None and len(sides) < len(MARKET_OUTCOMES[market]):
            for c in members:  # a lone column of an unknown code: no evidence it is odds
                plan.notes.append(ColumnNote(c.name, c.index, ColumnStatus.UNKNOWN,
                                             f"looks like {market} odds of an unknown code {code!r}"
                                             " but the file lacks its other outcomes: ignored"))
            continue
        bookmaker = known.id if known else code
        line_index = line_column = None
        if market == "handicap":
            source = _handicap_line(code, phase, lines)
            if source is None:
                for c in members:
                    plan.notes.append(ColumnNote(c.name, c.index, ColumnStatus.UNKNOWN,
                                                 "Asian handicap prices without a line column: ignored"))
                continue
            line_index, line_column = source
        outcomes = []
        for c in sorted(members, key=lambda c: c.index):
            outcome = _OUTCOME[market][c.side]
            key = (bookmaker, market, outcome, phase, line_text)
            if key in taken:
                plan.notes.append(ColumnNote(c.name, c.index, ColumnStatus.UNKNOWN,
                                             f"a second {bookmaker} {phase.value} {market} {outcome}"
                                             " column: ignored"))
                continue
            taken.add(key)
            outcomes.append((outcome, c.index, c.name))
            if known is None:
                plan.notes.append(ColumnNote(c.name, c.index, ColumnStatus.NEW_BOOKMAKER,
                                             f"{phase.value} {market} {outcome} of bookmaker code"
                                             f" {code!r}, not in the table: imported as {code!r}",
                                             code))
        if outcomes:
            plan.groups.append(OddsGroup(bookmaker, code, market, phase, _line_decimal(line_text),
                                         line_index, line_column, tuple(outcomes)))


def _split_stem(c: _Candidate, present: set[tuple[str, str, str, str | None]]) -> tuple[str, OddsPhase]:
    """(bookmaker code, phase) of a column's stem: ``PSC`` -> (``PS``, closing)."""
    stem = c.stem
    if stem.endswith("C") and stem[:-1] in BOOKMAKERS:
        return stem[:-1], OddsPhase.CLOSING
    if stem in BOOKMAKERS:
        return stem, OddsPhase.OPENING
    if len(stem) > 1 and stem.endswith("C") and (stem[:-1], c.market, c.side, c.line_text) in present:
        return stem[:-1], OddsPhase.CLOSING
    return stem, OddsPhase.OPENING


def _handicap_line(code: str, phase: OddsPhase,
                   lines: dict[tuple[str, OddsPhase], tuple[int, str]]) -> tuple[int, str] | None:
    """Where a bookmaker's Asian handicap line is: its own column, Betbrain's, or the common one."""
    for key in ((code, phase), ("Bb", phase) if code in BETBRAIN_FAMILY else None, ("", phase)):
        if key is not None and key in lines:
            return lines[key]
    return None
