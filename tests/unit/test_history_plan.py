"""What an import writes, decided without a database: new, unchanged and corrected matches."""

from __future__ import annotations

import json
from dataclasses import replace

from services.history.plan import (
    Existing,
    message_id,
    periods_json,
    plan_file,
    row_hash,
    settlement_hash,
    settlements_of,
)
from services.history.store import write_statements
from shared.footballdata import Match, read_bytes, read_file
from tests.support.history import FIXTURES


def first_matches() -> tuple[Match, ...]:
    return read_file(FIXTURES / "E0_1920_head.csv").matches


def existing_of(matches: tuple[Match, ...], version: int = 1) -> dict[str, Existing]:
    return {m.event_id: Existing(version, row_hash(m), settlement_hash(settlements_of(m), m.start_time))
            for m in matches}


def test_new_matches_write_every_table_at_version_1() -> None:
    matches = first_matches()
    plan = plan_file(matches, {}, run_id=7)
    assert plan.inserted == [m.event_id for m in matches]
    assert not plan.updated
    events = plan.rows["events"]
    assert {row[-1] for row in events} == {1}
    assert len(plan.rows["history_odds"]) == sum(len(m.markets) for m in matches)
    liverpool = next(r for r in plan.rows["history_matches"] if r[0].endswith("liverpool:norwich"))
    assert liverpool[-1] == 7
    assert liverpool[2:4] == ("E0", "2019/20")
    keys = {r[1] for r in plan.rows["markets"] if r[0].endswith("liverpool:norwich")}
    assert keys == {"1x2", "totals|total=2.5", "handicap|hcp=-2.25"}


def test_the_same_rows_again_write_nothing() -> None:
    matches = first_matches()
    plan = plan_file(matches, existing_of(matches), run_id=8)
    assert plan.unchanged == [m.event_id for m in matches]
    assert all(not rows for rows in plan.rows.values())
    assert list(write_statements(plan)) == []


def test_the_same_data_in_another_layout_hashes_alike() -> None:
    data = (FIXTURES / "E0_1920_head.csv").read_bytes().decode()
    header, *rows = data.split("\r\n")
    columns = header.split(",")
    order = list(reversed(range(len(columns))))  # every column moved
    moved = "\r\n".join(",".join(line.split(",")[i] for i in order) for line in [header, *rows] if line)
    again = read_bytes(moved.encode(), "moved.csv").matches
    assert [row_hash(m) for m in again] == [row_hash(m) for m in first_matches()]


def test_a_corrected_score_bumps_the_version_and_resettles() -> None:
    matches = first_matches()
    fixed = replace(matches[0], home_goals=1)  # 4-1 was really 1-1: every market settles anew
    plan = plan_file([fixed, *matches[1:]], existing_of(matches, version=3), run_id=9)
    assert plan.updated == [fixed.event_id]
    assert len(plan.unchanged) == len(matches) - 1
    assert plan.rows["events"][0][-1] == 4
    assert plan.resettled == {fixed.event_id: message_id(fixed.event_id, 4)}
    statements = list(write_statements(plan))
    assert statements[0].startswith("DELETE FROM history_odds WHERE event_id IN ('fd:match:E0:2019-08-09")
    assert any(s.startswith("UPDATE settlements SET superseded_at") for s in statements)
    assert {r[0] for r in plan.rows["settlements"]} == {fixed.event_id}


def test_a_correction_that_settles_alike_keeps_the_settlements() -> None:
    matches = first_matches()
    fixed = replace(matches[0], home_goals=5, referee="A Referee")  # 5-1 settles as 4-1 did
    plan = plan_file([fixed], existing_of(matches), run_id=9)
    assert plan.updated == [fixed.event_id]
    assert plan.resettled == {}
    assert plan.rows["settlements"] == []
    assert plan.rows["markets"] == []
    assert len(plan.rows["history_odds"]) == len(fixed.markets)


def test_the_live_state_holds_both_halves() -> None:
    match = first_matches()[0]  # 4-1, 4-0 at half time
    assert json.loads(periods_json(match)) == [
        {"period": "1h", "home": 4, "away": 0}, {"period": "2h", "home": 0, "away": 1}]
    assert periods_json(replace(match, ht_home_goals=None, ht_away_goals=None)) == "[]"
