"""Migrations without a database: discovery, ordering, checksums, statement splitting,
and the schema files themselves checked against the canonical model."""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest
from annotated_types import MaxLen
from pydantic import BaseModel

from shared.enums import (
    Disposition,
    EventStatus,
    MarketStatus,
    MessageKind,
    Resolution,
    SettlementResult,
    Sport,
)
from shared.footballdata.model import ColumnStatus, OddsPhase, ProblemAction, RunOutcome
from shared.markets import Market, Outcome
from shared.model import Competitor, FeedMessage, LiveBody, SettlementBody
from shared.storage.migrate import (
    DEFAULT_MIGRATIONS_DIR,
    Applied,
    ChecksumMismatchError,
    Migration,
    MigrationError,
    checksum,
    discover,
    plan,
    split_statements,
    status,
)
from shared.trading.model import BetPhase, BetStatus, LedgerKind, StrategyKind

# --- discovery, ordering, checksums ---------------------------------------------------


def write(directory: Path, name: str, text: str = "CREATE TABLE t (a INT);\n") -> None:
    (directory / name).write_text(text)


def test_discover_orders_by_version_number_and_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path, "0010_later.sql")
    write(tmp_path, "0002_earlier.sql")
    write(tmp_path, "0001_first.sql")
    write(tmp_path, "README.md", "not a migration")

    found = discover(tmp_path)

    assert [(m.version, m.name, m.filename) for m in found] == [
        (1, "first", "0001_first.sql"),
        (2, "earlier", "0002_earlier.sql"),
        (10, "later", "0010_later.sql"),
    ]


def test_discover_refuses_a_sql_file_that_is_not_named_like_a_migration(tmp_path: Path) -> None:
    write(tmp_path, "0001_first.sql")
    write(tmp_path, "2_oops.sql")
    with pytest.raises(MigrationError, match=r"2_oops\.sql"):
        discover(tmp_path)


def test_discover_refuses_two_files_with_one_version(tmp_path: Path) -> None:
    write(tmp_path, "0003_a.sql")
    write(tmp_path, "0003_b.sql")
    with pytest.raises(MigrationError, match="version 3"):
        discover(tmp_path)


def test_discover_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        discover(tmp_path / "nope")


def test_checksum_is_sha256_of_the_text_and_ignores_crlf_line_ends() -> None:
    assert checksum("SELECT 1;\n") == checksum("SELECT 1;\r\n")
    assert checksum("SELECT 1;\n") != checksum("SELECT 2;\n")
    assert re.fullmatch(r"[0-9a-f]{64}", checksum("x"))


def test_discovered_checksum_follows_the_file_text(tmp_path: Path) -> None:
    write(tmp_path, "0001_a.sql", "CREATE TABLE a (x INT);")
    before = discover(tmp_path)[0].checksum
    write(tmp_path, "0001_a.sql", "CREATE TABLE a (x BIGINT);")
    assert discover(tmp_path)[0].checksum != before
    assert before == checksum("CREATE TABLE a (x INT);")


def migration(version: int, text: str = "SELECT 1") -> Migration:
    return Migration(version, f"m{version}", f"{version:04d}_m{version}.sql", text, checksum(text))


def applied(m: Migration, digest: str | None = None) -> Applied:
    return Applied(m.version, m.name, digest or m.checksum)


def test_plan_returns_only_unapplied_migrations_in_order() -> None:
    one, two, three = migration(1), migration(2), migration(3)
    assert plan([one, two, three], {1: applied(one)}) == [two, three]
    assert plan([one, two, three], {m.version: applied(m) for m in (one, two, three)}) == []


def test_plan_refuses_everything_when_an_applied_file_changed() -> None:
    one, two = migration(1), migration(2)
    with pytest.raises(ChecksumMismatchError, match=r"0001_m1\.sql"):
        plan([one, two], {1: applied(one, checksum("something else"))})


def test_status_names_applied_pending_changed_and_missing_files() -> None:
    one, two, three = migration(1), migration(2), migration(3)
    recorded = {
        1: applied(one),
        2: applied(two, checksum("edited")),
        7: Applied(7, "from_newer_code", checksum("z")),
    }
    assert status([one, two, three], recorded) == [
        (1, "0001_m1.sql", "applied"),
        (2, "0002_m2.sql", "changed"),
        (3, "0003_m3.sql", "pending"),
        (7, "0007_from_newer_code.sql", "missing"),
    ]


# --- statement splitting --------------------------------------------------------------


def test_split_separates_statements_and_drops_comments_and_empty_ones() -> None:
    sql = """
    -- a leading comment; with a semicolon
    CREATE TABLE a (x INT); # another; comment
    /* block; comment */ CREATE TABLE b (y INT)
    ;;
    -- trailing comment only
    """
    assert [" ".join(s.split()) for s in split_statements(sql)] == [
        "CREATE TABLE a (x INT)",
        "CREATE TABLE b (y INT)",
    ]


def test_split_keeps_semicolons_inside_quotes_and_backticks() -> None:
    sql = (
        "INSERT INTO t VALUES ('a;b', 'it''s; fine', 'back\\'slash;');"
        ' SELECT "x;y", `odd;name` FROM t;'
    )
    assert split_statements(sql) == [
        "INSERT INTO t VALUES ('a;b', 'it''s; fine', 'back\\'slash;')",
        'SELECT "x;y", `odd;name` FROM t',
    ]


def test_split_keeps_comment_markers_inside_strings() -> None:
    sql = "INSERT INTO t VALUES ('-- not a comment', '# nor this', '/* nor */');"
    assert split_statements(sql) == [sql[:-1]]


def test_split_treats_double_dash_without_a_space_as_minus_minus() -> None:
    assert split_statements("SELECT 1--1;") == ["SELECT 1--1"]


def test_split_refuses_unterminated_quotes_and_comments() -> None:
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements("SELECT 'oops;")
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements("SELECT 1; /* never closed")


def test_split_refuses_delimiter_blocks() -> None:
    with pytest.raises(MigrationError, match="DELIMITER"):
        split_statements("DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//")


# --- the repository's schema files ----------------------------------------------------


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    definition: str  # everything after the name, as written


def _top_level_parts(body: str) -> list[str]:
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(body):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'`\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


_CREATE_RE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+) \(", re.S)


def _split_create(statement: str) -> tuple[str, str, str] | None:
    """``CREATE TABLE IF NOT EXISTS name (body) options`` as (name, body, options)."""
    match = _CREATE_RE.match(statement)
    if not match:
        return None
    depth, quote = 1, ""
    for i in range(match.end(), len(statement)):
        ch = statement[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'`\"":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
            if depth == 0:
                return match[1], statement[match.end() : i], statement[i + 1 :]
    return None
_NOT_A_COLUMN = ("PRIMARY ", "KEY ", "UNIQUE ", "INDEX ", "CONSTRAINT ")


_ADD_COLUMN_RE = re.compile(r"^ALTER TABLE (\w+) ADD COLUMN (\w+)\s+(.*)$", re.S)


def schema_tables() -> dict[str, tuple[list[Column], str]]:
    """Every table of the real migrations: its columns and its table options.

    Statements are re-runnable ``CREATE TABLE IF NOT EXISTS``, ``ALTER TABLE t ADD
    COLUMN c ...`` (one column each: the runner skips a column that exists) or data
    backfills (``UPDATE``, re-runnable by their WHERE clause).
    """
    tables: dict[str, tuple[list[Column], str]] = {}
    for m in discover(DEFAULT_MIGRATIONS_DIR):
        for statement in split_statements(m.sql):
            added = _ADD_COLUMN_RE.match(statement)
            if added:
                table, name, definition = added.groups()
                assert table in tables, f"{m.filename}: ALTER of unknown table {table}"
                assert " ADD " not in definition.upper(), f"{m.filename}: one ADD per ALTER"
                tables[table][0].append(Column(table, name, definition))
                continue
            if statement.upper().startswith("UPDATE "):
                continue
            parts = _split_create(statement)
            assert parts, f"{m.filename}: not a re-runnable CREATE TABLE: {statement[:60]!r}"
            table, body, options = parts
            columns = [
                Column(table, part.split(None, 1)[0], part.split(None, 1)[1])
                for part in _top_level_parts(body)
                if not part.upper().startswith(_NOT_A_COLUMN)
            ]
            tables[table] = (columns, options)
    return tables


def all_columns() -> list[Column]:
    return [c for columns, _ in schema_tables().values() for c in columns]


def enum_values(definition: str) -> tuple[str, ...] | None:
    match = re.match(r"ENUM\((.*?)\)", definition, re.S | re.I)
    return tuple(re.findall(r"'([^']*)'", match[1])) if match else None


def literal_values(model: type[BaseModel], field: str) -> tuple[str, ...]:
    annotation = model.model_fields[field].annotation
    return tuple(
        value for arg in typing.get_args(annotation) for value in typing.get_args(arg)
    ) or typing.get_args(annotation)


def values_of(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


EXPECTED_ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("competitions", "sport"): values_of(Sport),
    ("events", "sport"): values_of(Sport),
    ("events", "status"): values_of(EventStatus),
    ("live_state", "status"): values_of(EventStatus),
    ("live_state", "server"): literal_values(LiveBody, "server"),
    ("markets", "status"): values_of(MarketStatus),
    ("odds_history", "market_status"): values_of(MarketStatus),
    ("settlements", "result"): values_of(SettlementResult),
    ("settlements", "certainty"): literal_values(SettlementBody, "certainty"),
    ("ledger", "sport"): values_of(Sport),
    ("ledger", "kind"): values_of(MessageKind),
    ("ledger", "disposition"): values_of(Disposition),
    ("ledger_duplicates", "sport"): values_of(Sport),
    ("ledger_duplicates", "kind"): values_of(MessageKind),
    ("markets", "resolution"): values_of(Resolution),
    ("markets", "status_before_final"): values_of(MarketStatus),
    ("ledger_refusals", "sport"): values_of(Sport),
    ("history_odds", "phase"): values_of(OddsPhase),
    ("history_runs", "outcome"): values_of(RunOutcome),
    ("history_run_problems", "action"): values_of(ProblemAction),
    ("history_run_columns", "status"): values_of(ColumnStatus),
    ("pricing_models", "sport"): values_of(Sport),
    ("trading_strategies", "kind"): values_of(StrategyKind),
    ("trading_bets", "sport"): values_of(Sport),
    ("trading_bets", "phase"): values_of(BetPhase),
    ("trading_bets", "status"): values_of(BetStatus),
    ("trading_bets", "certainty"): literal_values(SettlementBody, "certainty"),
    ("trading_ledger", "kind"): values_of(LedgerKind),
    ("trading_events", "sport"): values_of(Sport),
    ("trading_events", "status"): values_of(EventStatus),
}


def test_every_sql_enum_lists_the_python_values_in_the_same_order() -> None:
    found = {
        (c.table, c.name): values
        for c in all_columns()
        if (values := enum_values(c.definition)) is not None
    }
    assert set(found) == set(EXPECTED_ENUMS), "an ENUM column was added or removed: map it here"
    for key, expected in EXPECTED_ENUMS.items():
        assert expected, f"{key}: no Python values found"
        assert found[key] == expected, f"{key[0]}.{key[1]} drifted from the Python enum"


def test_migrations_create_the_tables_the_services_use() -> None:
    assert set(schema_tables()) == {
        "competitions", "competitors", "events", "live_state", "markets", "outcomes",
        "odds_history", "settlements", "cancellations", "provider_liveness", "ledger",
        "ledger_duplicates", "ledger_refusals", "history_matches", "history_odds", "history_runs",
        "history_run_problems", "history_run_columns", "pricing_models",
        "trading_strategies", "trading_bets", "trading_ledger", "trading_events",
    }


def test_migration_versions_run_from_one_without_gaps() -> None:
    versions = [m.version for m in discover(DEFAULT_MIGRATIONS_DIR)]
    assert versions == list(range(1, len(versions) + 1))


def test_every_table_is_innodb_utf8mb4() -> None:
    for table, (_, options) in schema_tables().items():
        assert "ENGINE=InnoDB" in options, table
        assert "CHARSET=utf8mb4" in options, table


def test_every_time_column_is_datetime6_documented_as_utc() -> None:
    times = [c for c in all_columns() if re.match(r"(DATETIME|TIMESTAMP)\b", c.definition, re.I)]
    assert len(times) > 20
    for column in times:
        where = f"{column.table}.{column.name}"
        assert column.definition.startswith("DATETIME(6)"), f"{where}: use DATETIME(6)"
        assert re.search(r"COMMENT 'UTC\b", column.definition), f"{where}: comment it as UTC"


def test_no_column_is_floating_point_and_prices_are_decimal_10_4() -> None:
    for column in all_columns():
        assert not re.match(r"(FLOAT|DOUBLE|REAL)\b", column.definition, re.I), column
        if column.name == "price":
            assert column.definition.startswith("DECIMAL(10,4) NULL"), column


def _max_len(model: type[BaseModel], field: str) -> int:
    (limit,) = [m.max_length for m in model.model_fields[field].metadata if isinstance(m, MaxLen)]
    return int(limit)


ID_WIDTHS = {
    "event_id": _max_len(FeedMessage, "event_id"),
    "competition_id": _max_len(Competitor, "id"),
    "home_id": _max_len(Competitor, "id"),
    "away_id": _max_len(Competitor, "id"),
    "message_id": _max_len(FeedMessage, "message_id"),
    "rolled_back_by": _max_len(FeedMessage, "message_id"),
    "market_key": _max_len(Market, "market_key"),
    "outcome_id": _max_len(Outcome, "id"),
    "provider": _max_len(FeedMessage, "provider"),
}


def test_identifier_columns_fit_the_model_and_compare_case_sensitively() -> None:
    checked = 0
    for column in all_columns():
        width = ID_WIDTHS.get(column.name)
        if width is None:
            continue
        checked += 1
        assert column.definition.startswith(f"VARCHAR({width})"), column
        if column.name != "provider":  # provider names are lower case by the model
            assert "COLLATE utf8mb4_bin" in column.definition, column
    assert checked > 20
