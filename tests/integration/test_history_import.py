"""The history import against the real MariaDB: golden excerpt, REST views, idempotence,
corrections, bad rows, and every shared real file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.distribution.service import DistributionService
from services.history.__main__ import main as history_main
from shared.footballdata import RunOutcome
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import api_session, get_json, running_service, service_settings
from tests.support.history import FIXTURES, SHARED_DATA, import_paths, query, snapshot_counts

pytestmark = pytest.mark.integration

LIVERPOOL = "fd:match:E0:2019-08-09:liverpool:norwich"


@pytest.fixture
async def api(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings
) -> AsyncIterator[tuple[DistributionService, aiohttp.ClientSession]]:
    """The distribution service on the test database (import into it first)."""
    settings = service_settings(kafka_settings, mysql_settings, redis_settings, detail_cache_s=0)
    async with running_service(settings) as service, api_session() as session:
        yield service, session


async def fetch(api: tuple[DistributionService, aiohttp.ClientSession], path: str) -> tuple[int, Any]:
    service, session = api
    return await get_json(session, service.rest_url + path)


async def test_golden_excerpt_imports_as_ordinary_events_seen_through_rest(
    mysql_settings: MySQLSettings, api: Any
) -> None:
    (result,) = await import_paths(mysql_settings, FIXTURES / "E0_1920_head.csv")
    run = result.run
    assert (run.outcome, run.events_inserted, run.odds_quotes) == (RunOutcome.OK, 5, 400)

    status, page = await fetch(api, "/v1/events?competition=fd:competition:E0")
    assert status == 200
    first = page["events"][0]
    assert (first["id"], first["status"]) == (LIVERPOOL, "closed")
    assert first["start_time"] == "2019-08-09T19:00:00Z"
    assert first["competition"] == {"id": "fd:competition:E0", "name": "Premier League",
                                    "country": "England", "season": None}
    assert [c["name"] for c in first["competitors"]] == ["Liverpool", "Norwich"]

    status, event = await fetch(api, f"/v1/events/{LIVERPOOL}")
    assert (status, event["source"], event["version"]) == (200, "mysql", 1)
    assert event["live"]["score"] == {"home": 4, "away": 1, "periods": [
        {"period": "1h", "home": 4, "away": 0, "tiebreak_home": None, "tiebreak_away": None},
        {"period": "2h", "home": 0, "away": 1, "tiebreak_home": None, "tiebreak_away": None}]}
    assert {m["market_key"]: m["status"] for m in event["markets"]} == {
        "1x2": "settled", "totals|total=2.5": "settled", "handicap|hcp=-2.25": "settled"}

    status, settled = await fetch(api, f"/v1/settlements?event_id={LIVERPOOL}")
    results = {(s["market_key"], s["outcome_id"]): (s["result"], s["void_factor"])
               for s in settled["settlements"]}
    assert results[("1x2", "home")] == ("won", "0")
    assert results[("totals|total=2.5", "over")] == ("won", "0")
    assert results[("handicap|hcp=-2.25", "home")] == ("won", "0")  # won by 3 against -2.25

    status, odds = await fetch(api, f"/v1/events/{LIVERPOOL}/bookmaker-odds?bookmaker=pinnacle&phase=closing")
    assert status == 200
    assert {(o["market_key"], o["outcome_id"]): o["price"] for o in odds["odds"]} == {
        ("1x2", "home"): "1.14", ("1x2", "draw"): "10.43", ("1x2", "away"): "19.63",
        ("totals|total=2.5", "over"): "1.34", ("totals|total=2.5", "under"): "3.44",
        ("handicap|hcp=-2.25", "home"): "1.94", ("handicap|hcp=-2.25", "away"): "1.98"}

    status, state = await fetch(api, "/v1/history/status")
    assert state["seasons"][0]["season"] == "2019/20"
    assert state["seasons"][0]["events"] == 5
    assert state["runs"][0]["outcome"] == "ok"
    assert state["totals"]["prices"] == 400
    status, comps = await fetch(api, "/v1/competitions")
    assert comps["competitions"][0]["seasons"] == [{"season": "2019/20", "events": 5, "finished": 5}]


async def test_importing_the_same_file_twice_changes_nothing(mysql_settings: MySQLSettings) -> None:
    files = [FIXTURES / "E0_1213_head.csv", FIXTURES / "E0_1415_tail.csv", FIXTURES / "SP1_1819_head.csv"]
    await import_paths(mysql_settings, *files)
    before = await snapshot_counts(mysql_settings)
    again = await import_paths(mysql_settings, *files)
    assert [(r.run.events_inserted, r.run.events_updated) for r in again] == [(0, 0)] * 3
    assert [r.run.events_unchanged for r in again] == [4, 3, 3]
    assert await snapshot_counts(mysql_settings) == before
    (runs,), = await query(mysql_settings, "SELECT COUNT(*) FROM history_runs")
    assert runs == 6  # every run is recorded, even one that changed nothing


async def test_a_corrected_row_updates_its_event_and_supersedes_its_old_settlements(
    mysql_settings: MySQLSettings, tmp_path: Path, api: Any
) -> None:
    original = FIXTURES / "E0_1920_head.csv"
    await import_paths(mysql_settings, original)
    lines = original.read_bytes().split(b"\r\n")
    # Liverpool 4-1 Norwich corrected to 1-1 (FTHG, FTR and the half-time score).
    lines[1] = lines[1].replace(b"Norwich,4,1,H,4,0,H", b"Norwich,1,1,D,1,0,H")
    corrected = tmp_path / "E0_1920_head.csv"
    corrected.write_bytes(b"\r\n".join(lines))
    (result,) = await import_paths(mysql_settings, corrected)
    assert (result.run.events_updated, result.run.events_unchanged) == (1, 4)

    _, event = await fetch(api, f"/v1/events/{LIVERPOOL}")
    assert (event["version"], event["live"]["score"]["home"]) == (2, 1)
    assert {(m["status"], m["resolution"]) for m in event["markets"]} == {("settled", "confirmed")}
    _, settled = await fetch(api, f"/v1/settlements?event_id={LIVERPOOL}")
    rows = settled["settlements"]
    in_force = {(s["market_key"], s["outcome_id"]): s["result"] for s in rows if s["in_force"]}
    old = [s for s in rows if not s["in_force"]]
    assert in_force[("1x2", "draw")] == "won"
    assert in_force[("1x2", "home")] == "lost"
    assert len(old) == len(in_force)
    assert {s["superseded_by"] for s in old} == {f"{LIVERPOOL}:v2"}
    assert all(s["rolled_back_by"] is None for s in old)
    (odds,), = await query(mysql_settings,
                           "SELECT COUNT(*) FROM history_odds WHERE event_id = %s", LIVERPOOL)
    assert odds == 32  # 16 1x2, 8 totals, 8 handicap rows: replaced, not doubled


async def test_a_bad_row_is_skipped_named_and_recorded_and_the_import_goes_on(
    mysql_settings: MySQLSettings, tmp_path: Path
) -> None:
    lines = (FIXTURES / "SP1_1819_head.csv").read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b"SP1,17/08/2018", b"SP1,17/13/2018")
    bad = tmp_path / "SP1_bad.csv"
    bad.write_bytes(b"\r\n".join(lines))
    (result,) = await import_paths(mysql_settings, bad)
    run = result.run
    assert (run.outcome, run.events_inserted, run.rows_skipped) == (RunOutcome.PARTIAL, 2, 1)
    problems = await query(mysql_settings, "SELECT line, column_name, reason, action"
                           " FROM history_run_problems WHERE run_id = %s", result.run_id)
    assert problems == [(3, "Date", "'17/13/2018' is not a date", "row_skipped")]


async def test_a_file_that_is_not_football_data_fails_alone_and_the_command_exits_1(
    mysql_settings: MySQLSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    (tmp_path / "SP1_1819_head.csv").write_bytes((FIXTURES / "SP1_1819_head.csv").read_bytes())
    for name, value in mysql_settings.model_dump().items():
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        monkeypatch.setenv(f"SPORTSFEED_MYSQL_{name.upper()}", str(raw))
    monkeypatch.setenv("SPORTSFEED_HISTORY_INVALIDATE_CACHE", "false")
    assert await asyncio.to_thread(history_main, ["import", "--no-progress", str(tmp_path)]) == 1
    runs = await query(mysql_settings,
                       "SELECT file_name, outcome, events_inserted FROM history_runs ORDER BY id")
    assert runs == [("SP1_1819_head.csv", "ok", 3), ("notes.csv", "failed", 0)]
    dry = ["import", "--dry-run", "--no-progress", str(tmp_path / "SP1_1819_head.csv")]
    assert await asyncio.to_thread(history_main, dry) == 0
    assert await asyncio.to_thread(history_main, ["status"]) == 0


async def test_skip_imported_leaves_out_files_imported_before_unchanged(
    mysql_settings: MySQLSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("SP1_1819_head.csv", "E0_1920_head.csv"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    for name, value in mysql_settings.model_dump().items():
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        monkeypatch.setenv(f"SPORTSFEED_MYSQL_{name.upper()}", str(raw))
    monkeypatch.setenv("SPORTSFEED_HISTORY_INVALIDATE_CACHE", "false")
    once = ["import", "--no-progress", "--skip-imported", str(tmp_path / "SP1_1819_head.csv")]
    assert await asyncio.to_thread(history_main, once) == 0
    both = ["import", "--no-progress", "--skip-imported", str(tmp_path)]
    assert await asyncio.to_thread(history_main, both) == 0
    assert "1 of 2 files imported before, unchanged: skipped" in capsys.readouterr().out
    assert await asyncio.to_thread(history_main, both) == 0
    assert "2 of 2 files imported before" in capsys.readouterr().out
    runs = await query(mysql_settings, "SELECT file_name FROM history_runs ORDER BY id")
    assert runs == [("SP1_1819_head.csv",), ("E0_1920_head.csv",)]


async def test_all_shared_real_files_import_with_nothing_unexplained_and_again_change_nothing(
    mysql_settings: MySQLSettings, api: Any
) -> None:
    results = await import_paths(mysql_settings, SHARED_DATA)
    assert len(results) == 19
    for r in results:
        parsed = r.parsed
        assert parsed is not None
        assert r.run.outcome is not RunOutcome.FAILED, r.run.error
        # every column known or reported; every data row imported or skipped with a reason
        assert r.run.unknown_columns == len(parsed.unknown_columns)
        assert r.run.data_rows == r.run.events_inserted + r.run.rows_skipped, r.path.name
        recorded = await query(mysql_settings, "SELECT COUNT(*) FROM history_run_problems WHERE run_id = %s",
                               r.run_id)
        assert recorded[0][0] == len(parsed.problems)
    assert sum(r.run.events_inserted for r in results) == 7146
    # the only problems of the real files: two 0 prices, E0_2122.csv line 168
    problems = [str(p) for r in results if r.parsed for p in r.parsed.problems]
    assert problems == [
        "E0_2122.csv:168 B365C>2.5: price 0 is not decimal odds (1.001 to 100000) (value ignored)",
        "E0_2122.csv:168 B365C<2.5: price 0 is not decimal odds (1.001 to 100000) (value ignored)"]
    before = await snapshot_counts(mysql_settings)
    again = await import_paths(mysql_settings, SHARED_DATA)
    assert sum(r.run.events_unchanged for r in again) == 7146
    assert await snapshot_counts(mysql_settings) == before

    # The 2018/19 Premier League table, checked by hand against E0_1819.csv (see docs/history.md).
    status, table = await fetch(api, "/v1/competitions/fd:competition:E0/table?season=2018/19")
    assert status == 200
    assert table["matches"] == 380
    top = [(r["competitor"]["name"], r["played"], r["points"], r["goals_for"], r["goals_against"])
           for r in table["rows"]]
    assert top[:6] == [("Man City", 38, 98, 95, 23), ("Liverpool", 38, 97, 89, 22),
                       ("Chelsea", 38, 72, 63, 39), ("Tottenham", 38, 71, 67, 39),
                       ("Arsenal", 38, 70, 73, 51), ("Man United", 38, 66, 65, 54)]
    assert top[-3:] == [("Cardiff", 38, 34, 34, 69), ("Fulham", 38, 26, 34, 81),
                        ("Huddersfield", 38, 16, 22, 76)]
    assert table["rows"][0]["form"] == "WWWWW"


async def test_a_redis_rebuild_leaves_imported_history_out_of_the_live_state(
    mysql_settings: MySQLSettings, redis_settings: RedisSettings,
) -> None:
    from services.processors.rebuild import rebuild
    from services.processors.settings import ProcessorSettings
    from shared.cache import open_cache
    from shared.enums import Sport

    await import_paths(mysql_settings, FIXTURES / "E0_1213_head.csv")
    settings = ProcessorSettings(mysql=mysql_settings, redis=redis_settings)
    counts = await rebuild(settings, [Sport.FOOTBALL])
    assert counts[Sport.FOOTBALL] == 0  # served from MySQL on demand, never pushed as live
    async with open_cache(redis_settings) as cache:
        assert await cache.event_ids(Sport.FOOTBALL) == []
