"""SQL literals rendered by hand: exactly MySQL's escapes, whatever the text."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pymysql.converters
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.enums import MarketStatus
from shared.storage.sqltext import (
    MAX_STATEMENT,
    PACKET_MARGIN,
    StatementTooLarge,
    escape_string,
    insert_statements,
    literal,
    quote,
    run_script,
    statements,
)


@given(st.text())
def test_escaping_matches_pymysqls_own_escaping_for_any_text(text: str) -> None:
    # PyMySQL's escaping (what the driver does when it binds a parameter on a connection
    # with backslash escapes, which every pool connection pins through its sql_mode).
    assert escape_string(text) == pymysql.converters.escape_string(text)
    assert quote(text) == pymysql.converters.escape_item(text, "utf8mb4")


@given(st.text(alphabet=st.sampled_from("\\'\"\0\n\r\x1a%_ab\u00e9\U0001f600")))
def test_escaping_matches_pymysql_on_strings_dense_in_special_characters(text: str) -> None:
    assert quote(text) == pymysql.converters.escape_item(text, "utf8mb4")


@pytest.mark.parametrize(("text", "sql"), [
    ("o'neil", r"'o\'neil'"), ("a\\b", r"'a\\b'"), ("x\ny", r"'x\ny'"), ('q"', r"'q\"'"),
    ("z\0", r"'z\0'"), ("s\x1a", r"'s\Z'"), ("1x2", "'1x2'"),
])
def test_special_characters_are_escaped(text: str, sql: str) -> None:
    assert literal(text) == sql


def test_values_of_every_type_render_as_mysql_literals() -> None:
    cet = timezone(timedelta(hours=1))
    assert literal(None) == "NULL"
    assert literal(True) == "1"
    assert literal(7) == "7"
    assert literal(Decimal("2.05")) == "2.05"
    assert literal(MarketStatus.SUSPENDED) == "'suspended'"
    assert literal(datetime(2026, 5, 1, 13, 0, 0, 250000, tzinfo=cet)) == "'2026-05-01 12:00:00.250000'"
    with pytest.raises(ValueError, match="naive"):
        literal(datetime(2026, 5, 1, 12, 0))  # noqa: DTZ001 - the point of the test
    with pytest.raises(TypeError):
        literal(object())


def test_statements_are_cut_below_the_size_limit() -> None:
    rows = [f"({i}, '{'x' * 1000}')" for i in range(3000)]
    out = statements("INSERT INTO t (a, b)", rows)
    assert len(out) > 1
    assert all(len(s) <= MAX_STATEMENT for s in out)
    assert sum(s.count("'x") for s in out) == 3000


def test_insert_statements_upsert_and_are_cut_below_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.storage.sqltext.MAX_STATEMENT", 2000)
    rows = [(n, f"name {n}") for n in range(1000)]
    found = list(insert_statements("t", ("id", "name"), rows, upsert=("name",)))
    assert len(found) > 5
    assert all(len(s) <= 2000 for s in found)
    assert all(s.endswith("ON DUPLICATE KEY UPDATE name = VALUES(name)") for s in found)
    assert sum(s.count("'name ") for s in found) == 1000
    assert literal(date(2023, 5, 28)) == "'2023-05-28'"


class Connection:
    """What run_script asks of aiomysql's connection."""

    encoding = "utf8"

    def __init__(self, max_allowed_packet: int) -> None:
        self.max_allowed_packet = max_allowed_packet


class Cursor:
    """A cursor that records what is sent and answers the packet-size query."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sent: list[bytes] = []
        self.asked = 0
        self._row: tuple[Any, ...] | None = None

    async def execute(self, query: str | bytes) -> None:
        if query == "SELECT @@SESSION.max_allowed_packet":
            self.asked += 1
            self._row = (self.connection.max_allowed_packet,)
            return
        assert isinstance(query, bytes)
        self.sent.append(query)

    async def fetchone(self) -> tuple[Any, ...] | None:
        return self._row

    async def nextset(self) -> bool:
        return False


def test_any_statement_fits_the_smallest_packet_servers_run_with() -> None:
    # Four bytes a character at most in UTF-8; 1 MiB was the default of older servers.
    assert MAX_STATEMENT * 4 + PACKET_MARGIN <= 1024 * 1024


async def test_scripts_fit_the_connections_max_allowed_packet_in_bytes() -> None:
    conn = Connection(max_allowed_packet=64 * 1024)
    cur = Cursor(conn)
    # 3 bytes a character: 2,000 characters are 6,000 bytes, 40 of them 240 kB.
    sql = [f"INSERT INTO t VALUES ('{'東' * 2000}', {n})" for n in range(40)]
    await run_script(cur, sql)
    again = Cursor(conn)  # the same connection: its limit is known already
    await run_script(again, ["COMMIT"])
    assert (cur.asked, again.asked, again.sent) == (1, 0, [b"COMMIT"])
    assert len(cur.sent) >= 4
    assert all(len(script) <= 64 * 1024 - PACKET_MARGIN for script in cur.sent)
    statements_sent = [s for script in cur.sent for s in script.split(b";\n")]
    assert statements_sent == [s.encode() for s in sql]  # all of them, in order


async def test_a_statement_larger_than_a_packet_is_refused_before_anything_is_sent() -> None:
    cur = Cursor(Connection(max_allowed_packet=16 * 1024))
    with pytest.raises(StatementTooLarge, match=r"of 30,0\d\d bytes .* \(16,384 bytes\)"):
        await run_script(cur, ["SELECT 1", f"SELECT '{'é' * 15000}'"])
    assert cur.sent == []
