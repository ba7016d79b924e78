"""The football-data reader on excerpts of real files and on layouts never seen."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from shared.footballdata import (
    ColumnStatus,
    FootballDataError,
    OddsPhase,
    ProblemAction,
    read_bytes,
    read_file,
)
from shared.footballdata.columns import plan_columns
from tests.support.history import FIXTURES, parsed_as_json, write_csv

HEADER = ["Div", "Date", "Time", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR", "HTHG", "HTAG", "HTR",
          "B365H", "B365D", "B365A"]
ROW = ["E0", "05/08/2022", "20:00", "Crystal Palace", "Arsenal", "0", "2", "A", "0", "1", "A",
       "4.2", "3.6", "1.85"]


def one_file(tmp_path: Path, header: list[str], *rows: list[str]) -> Path:
    return write_csv(tmp_path / "E0_test.csv", header, [list(r) for r in rows])


def test_golden_excerpt_of_the_2019_20_file_reads_as_recorded() -> None:
    parsed = read_file(FIXTURES / "E0_1920_head.csv")
    expected = json.loads((FIXTURES / "E0_1920_head.expected.json").read_text())
    assert json.loads(json.dumps(parsed_as_json(parsed))) == expected


def test_2019_20_layout_reads_pinnacle_closing_totals_and_both_handicap_lines() -> None:
    match = read_file(FIXTURES / "E0_1920_head.csv").matches[0]
    odds = {(p.bookmaker, p.market_key, p.phase): dict(p.prices) for p in match.markets}
    assert odds[("pinnacle", "1x2", OddsPhase.CLOSING)] == {
        "home": Decimal("1.14"), "draw": Decimal("10.43"), "away": Decimal("19.63")}
    assert odds[("pinnacle", "totals|total=2.5", OddsPhase.OPENING)]["under"] == Decimal("3.11")
    assert odds[("pinnacle", "totals|total=2.5", OddsPhase.CLOSING)]["over"] == Decimal("1.34")
    assert odds[("market_max", "handicap|hcp=-2.25", OddsPhase.CLOSING)]["away"] == Decimal("2.07")
    assert match.quote_count == 80
    assert len(match.quotes) == 80
    assert match.start_time == datetime(2019, 8, 9, 19, 0, tzinfo=UTC)  # 20:00 BST
    assert match.kickoff_known


def test_2012_13_layout_reads_two_digit_years_betbrain_columns_and_counts() -> None:
    parsed = read_file(FIXTURES / "E0_1213_head.csv")
    assert parsed.problems == ()
    assert parsed.columns == ()
    match = parsed.matches[0]
    assert match.match_date == date(2012, 8, 18)
    assert (match.start_time, match.kickoff_known) == (datetime(2012, 8, 18, tzinfo=UTC), False)
    assert match.bookmaker_counts == {"1x2": 39, "totals": 33, "handicap": 23}
    odds = {(p.bookmaker, p.market_key, p.phase): dict(p.prices) for p in match.markets}
    assert odds[("betbrain_max", "handicap|hcp=-1.25", OddsPhase.OPENING)] == {
        "home": Decimal("2.02"), "away": Decimal("1.96")}
    assert odds[("betbrain_avg", "totals|total=2.5", OddsPhase.OPENING)] == {
        "over": Decimal("1.76"), "under": Decimal("2.05")}
    assert odds[("gamebookers", "1x2", OddsPhase.OPENING)]["away"] == Decimal(9)  # written 9.0
    assert odds[("pinnacle", "1x2", OddsPhase.CLOSING)]["home"] == Decimal("1.44")
    assert parsed.season == "2012/13"


def test_integers_written_4_0_the_trailing_empty_row_and_missing_odds() -> None:
    parsed = read_file(FIXTURES / "E0_1415_tail.csv")
    assert (parsed.data_rows, parsed.blank_rows, parsed.problems) == (3, 1, ())
    last = parsed.matches[-1]
    assert (last.home.name, last.away.name, last.home_goals, last.away_goals) == ("Stoke", "Liverpool", 6, 1)
    assert (last.ht_home_goals, last.ht_away_goals, last.statistics.home_shots) == (5, 0, 15)
    books = {p.bookmaker for p in last.markets}
    assert "stan_james" not in books  # SJH/SJD/SJA are empty in the last rounds: simply absent
    assert "betbrain_max" in books
    assert parsed.season == "2014/15"


def test_a_utf8_bom_is_not_part_of_the_first_column() -> None:
    data = (FIXTURES / "SP1_1819_head.csv").read_bytes()
    plain, with_bom = read_bytes(data, "a.csv"), read_bytes(b"\xef\xbb\xbf" + data, "a.csv")
    assert with_bom.columns == ()
    assert with_bom.matches == plain.matches
    assert plain.matches[0].referee is None


def test_windows_1252_files_are_read() -> None:
    row = ",".join(ROW).replace("Arsenal", "N\xfcrnberg")
    data = ",".join(HEADER).encode() + b"\r\n" + row.encode("cp1252")
    away = read_bytes(data, "x.csv").matches[0].away
    assert (away.file_name, away.id) == ("Nürnberg", "fd:team:nurnberg")


def test_uk_kick_off_times_become_utc_in_summer_and_winter(tmp_path: Path) -> None:
    winter = [*ROW[:1], "07/12/2019", "15:00", *ROW[3:]]
    parsed = read_file(one_file(tmp_path, HEADER, ROW, winter))
    assert [m.start_time for m in parsed.matches] == [
        datetime(2022, 8, 5, 19, 0, tzinfo=UTC), datetime(2019, 12, 7, 15, 0, tzinfo=UTC)]


def test_a_new_bookmaker_imports_under_its_code_and_unknown_columns_are_reported(tmp_path: Path) -> None:
    header = [*HEADER, "XYZH", "XYZD", "XYZA", "XYZCH", "XYZCD", "XYZCA", "XYZ>2.5", "XYZ<2.5",
              "Weather", "QQA", "BFEH", "BFED", "BFEA"]
    row = [*ROW, "4", "3.5", "1.9", "4.1", "3.4", "1.95", "2.1", "1.8", "sunny", "7", "4.4", "3.7", "1.9"]
    parsed = read_file(one_file(tmp_path, header, row))
    notes = {c.name: c.status for c in parsed.columns}
    assert notes["XYZCH"] is ColumnStatus.NEW_BOOKMAKER
    assert notes["XYZ>2.5"] is ColumnStatus.NEW_BOOKMAKER
    assert notes["Weather"] is ColumnStatus.UNKNOWN
    assert notes["QQA"] is ColumnStatus.UNKNOWN
    assert "BFEH" not in notes
    odds = {(p.bookmaker, p.market_key, p.phase): dict(p.prices) for p in parsed.matches[0].markets}
    assert odds[("XYZ", "1x2", OddsPhase.CLOSING)]["home"] == Decimal("4.1")
    assert odds[("XYZ", "totals|total=2.5", OddsPhase.OPENING)] == {
        "over": Decimal("2.1"), "under": Decimal("1.8")}
    assert odds[("betfair_exchange", "1x2", OddsPhase.OPENING)]["draw"] == Decimal("3.7")
    assert parsed.unknown_columns == ("Weather", "QQA")


@pytest.mark.parametrize(("name", "code", "phase"), [
    ("PSCH", "pinnacle", OddsPhase.CLOSING), ("PSH", "pinnacle", OddsPhase.OPENING),
    ("PC>2.5", "pinnacle", OddsPhase.CLOSING), ("P>2.5", "pinnacle", OddsPhase.OPENING),
    ("BbMxH", "betbrain_max", OddsPhase.OPENING), ("BbAvH", "betbrain_avg", OddsPhase.OPENING),
    ("MaxCH", "market_max", OddsPhase.CLOSING), ("BFDH", "betfred", OddsPhase.OPENING),
    ("BFECH", "betfair_exchange", OddsPhase.CLOSING), ("1XBCH", "1xbet", OddsPhase.CLOSING),
    ("PCAHH", "pinnacle", OddsPhase.CLOSING),
])
def test_ambiguous_column_names_resolve_to_the_right_bookmaker_and_phase(
    name: str, code: str, phase: OddsPhase
) -> None:
    plan = plan_columns(["AHh", "AHCh", name])
    assert [(g.bookmaker, g.phase) for g in plan.groups] == [(code, phase)]
    assert plan.notes == []


def test_betbrain_counts_are_not_odds_and_betbrain_handicap_uses_its_own_line() -> None:
    plan = plan_columns(["Bb1X2", "BbOU", "BbAH", "BbAHh", "AHh", "BbMxAHH", "BbMxAHA", "B365AHH", "B365AHA"])
    assert [c[0] for c in plan.counts] == ["1x2", "totals", "handicap"]
    lines = {g.bookmaker: g.line_column for g in plan.groups}
    assert lines == {"betbrain_max": "BbAHh", "bet365": "AHh"}


def test_a_bad_row_is_skipped_and_named_with_file_line_column_and_reason(tmp_path: Path) -> None:
    bad_date = [*ROW[:1], "31/02/2022", *ROW[2:]]
    bad_goals = [*ROW[:5], "x", *ROW[6:]]
    wrong_result = [*ROW[:7], "H", *ROW[8:]]
    bad_price = [*ROW[:11], "0.5", *ROW[12:]]
    parsed = read_file(one_file(tmp_path, HEADER, bad_date, bad_goals, wrong_result, bad_price))
    assert [str(p) for p in parsed.problems] == [
        "E0_test.csv:2 Date: '31/02/2022' is not a date (row skipped)",
        "E0_test.csv:3 FTHG: 'x' is not a whole number (row skipped)",
        "E0_test.csv:4 FTR: says 'H' but the score is 0-2 (row skipped)",
        "E0_test.csv:5 B365H: price 0.5 is not decimal odds (1.001 to 100000) (value ignored)",
    ]
    assert [p.action for p in parsed.problems][-1] is ProblemAction.VALUE_IGNORED
    assert len(parsed.matches) == 1
    assert dict(parsed.matches[0].markets[0].prices) == {
        "draw": Decimal("3.6"), "away": Decimal("1.85")}


def test_the_same_match_twice_in_a_file_is_skipped_the_second_time(tmp_path: Path) -> None:
    parsed = read_file(one_file(tmp_path, HEADER, ROW, ROW))
    assert len(parsed.matches) == 1
    assert str(parsed.problems[0]).startswith("E0_test.csv:3: the same match as line 2")


def test_team_spellings_map_to_one_club_and_unlisted_names_get_their_own_id(tmp_path: Path) -> None:
    rows = [[*ROW[:3], "Man United", "Everton", *ROW[5:]],
            [*ROW[:1], "06/08/2022", ROW[2], "Manchester United", "Brand New FC", *ROW[5:]]]
    parsed = read_file(one_file(tmp_path, HEADER, *rows))
    homes = {m.home.id for m in parsed.matches}
    assert homes == {"fd:team:man-united"}
    assert parsed.matches[1].away.id == "fd:team:brand-new-fc"
    assert parsed.new_teams == ("Brand New FC",)


def test_an_unknown_division_imports_named_by_its_code(tmp_path: Path) -> None:
    parsed = read_file(one_file(tmp_path, HEADER, ["ZZ9", *ROW[1:]]))
    assert parsed.matches[0].competition_id == "fd:competition:ZZ9"
    assert parsed.divisions == ("ZZ9",)


def test_the_season_is_the_files_even_for_july_rounds_of_2019_20(tmp_path: Path) -> None:
    days = ["09/08/2019", "14/12/2019", "01/03/2020", "26/07/2020"]
    rows = [[ROW[0], d, ROW[2], f"Home {n}", f"Away {n}", *ROW[5:]] for n, d in enumerate(days)]
    assert {m.season for m in read_file(one_file(tmp_path, HEADER, *rows)).matches} == {"2019/20"}


def test_a_file_without_the_required_columns_is_refused_whole(tmp_path: Path) -> None:
    with pytest.raises(FootballDataError, match="no away_goals"):
        read_file(one_file(tmp_path, HEADER[:6], ROW[:6]))
    with pytest.raises(FootballDataError, match="empty"):
        read_bytes(b"", "empty.csv")
