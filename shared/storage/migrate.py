"""Schema migrations: ``python -m shared.storage.migrate [--status]``.

Migrations are the files ``NNNN_name.sql`` in ``infra/mysql/migrations`` (or in
``$SPORTSFEED_MYSQL_MIGRATIONS_DIR``), applied in version order. Each applied file is
recorded in ``schema_migrations`` with the SHA-256 of its text; a recorded file whose text
changed is refused, since the database no longer matches what the file says.

DDL auto-commits in MySQL and MariaDB: a migration that fails part-way stays half
applied and is not recorded. Migration files are therefore small and re-runnable
(``CREATE TABLE IF NOT EXISTS``; ``ALTER TABLE t ADD COLUMN c ...`` and ``ADD KEY|INDEX``,
one per statement, which the runner skips when the column or index exists, since MySQL 8
has no ``IF NOT EXISTS`` there; ``UPDATE`` backfills whose WHERE makes them no-ops the
second time), so the fix is to correct the file and run again.
Concurrent runs (several services starting at once) serialise on a named lock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiomysql

from shared.settings import MySQLSettings
from shared.storage.pool import connect_kwargs

MIGRATIONS_DIR_ENV = "SPORTSFEED_MYSQL_MIGRATIONS_DIR"
DEFAULT_MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "infra" / "mysql" / "migrations"
FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LOCK_TIMEOUT_S = 120

SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INT NOT NULL,
    name        VARCHAR(200) NOT NULL,
    checksum    CHAR(64) NOT NULL COMMENT 'sha256 of the file text, LF line ends',
    applied_at  DATETIME(6) NOT NULL COMMENT 'UTC',
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""


class MigrationError(Exception):
    """A migration cannot be discovered, planned or applied."""


class ChecksumMismatchError(MigrationError):
    """An applied migration's file no longer has the text that was applied."""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    filename: str
    sql: str
    checksum: str


@dataclass(frozen=True)
class Applied:
    """One row of ``schema_migrations``."""

    version: int
    name: str
    checksum: str


State = Literal["applied", "pending", "changed", "missing"]


# --- pure parts -----------------------------------------------------------------------


def checksum(text: str) -> str:
    """SHA-256 of a migration's text; line ends are normalised so a CRLF checkout agrees."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def migrations_dir() -> Path:
    """The migrations folder: ``$SPORTSFEED_MYSQL_MIGRATIONS_DIR`` or the repo's own."""
    override = os.environ.get(MIGRATIONS_DIR_ENV)
    return Path(override) if override else DEFAULT_MIGRATIONS_DIR


def discover(directory: Path) -> list[Migration]:
    """The migration files of ``directory`` in version order.

    Files not ending in ``.sql`` are ignored; a ``.sql`` file not named ``NNNN_name.sql``
    or a version used twice is an error rather than a silently skipped migration.
    """
    if not directory.is_dir():
        raise MigrationError(f"migrations folder {directory} does not exist")
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = FILE_RE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        version = int(match[1])
        if version in found:
            raise MigrationError(
                f"{path.name}: version {version} is also used by {found[version].filename}"
            )
        text = path.read_text(encoding="utf-8")
        found[version] = Migration(version, match[2], path.name, text, checksum(text))
    return [found[v] for v in sorted(found)]


def plan(migrations: Sequence[Migration], applied: Mapping[int, Applied]) -> list[Migration]:
    """The migrations still to apply; raises if an applied file's text changed."""
    changed = [
        f"{m.filename} (applied {applied[m.version].checksum[:12]}, file {m.checksum[:12]})"
        for m in migrations
        if m.version in applied and applied[m.version].checksum != m.checksum
    ]
    if changed:
        raise ChecksumMismatchError(
            "refusing to migrate: applied migration changed since it was applied: "
            + ", ".join(changed)
            + ". Never edit an applied migration; add a new one."
        )
    return [m for m in migrations if m.version not in applied]


def status(
    migrations: Sequence[Migration], applied: Mapping[int, Applied]
) -> list[tuple[int, str, State]]:
    """Every known version with its name and state, in version order."""
    rows: dict[int, tuple[int, str, State]] = {}
    for m in migrations:
        if m.version not in applied:
            rows[m.version] = (m.version, m.filename, "pending")
        elif applied[m.version].checksum != m.checksum:
            rows[m.version] = (m.version, m.filename, "changed")
        else:
            rows[m.version] = (m.version, m.filename, "applied")
    for version, row in applied.items():
        rows.setdefault(version, (version, f"{version:04d}_{row.name}.sql", "missing"))
    return [rows[v] for v in sorted(rows)]


_QUOTES = "'\"`"
# ``--`` starts a comment only when followed by whitespace (or the end), as in MySQL.
_DASH_END = ("", " ", "\t", "\n", "\r")


def split_statements(sql: str) -> list[str]:
    """Split SQL text into statements on ``;``, dropping comments and empty statements.

    Understands quoted strings and identifiers ('', "", `` and backslash escapes) and
    ``--``, ``#`` and ``/* */`` comments. ``DELIMITER`` (stored programs) is not supported.
    """
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)

    def flush() -> None:
        text = "".join(current).strip()
        current.clear()
        if text:
            if text.split(None, 1)[0].upper() == "DELIMITER":
                raise MigrationError("DELIMITER is not supported in migration files")
            statements.append(text)

    while i < n:
        ch = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if ch in _QUOTES:
            end = i + 1
            while True:
                if end >= n:
                    raise MigrationError(f"unterminated {ch} quote starting at offset {i}")
                if sql[end] == "\\" and ch != "`":
                    end += 2
                elif sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # doubled quote: an escaped quote
                        end += 2
                    else:
                        break
                else:
                    end += 1
            current.append(sql[i : end + 1])
            i = end + 1
        elif ch == "#" or (ch == "-" and nxt == "-" and sql[i + 2 : i + 3] in _DASH_END):
            end = sql.find("\n", i)
            i = n if end < 0 else end  # keep the newline: it separates tokens
        elif ch == "/" and nxt == "*":
            end = sql.find("*/", i + 2)
            if end < 0:
                raise MigrationError(f"unterminated /* comment starting at offset {i}")
            current.append(" ")
            i = end + 2
        elif ch == ";":
            flush()
            i += 1
        else:
            current.append(ch)
            i += 1
    flush()
    return statements


# --- database -------------------------------------------------------------------------


def _lock_name(database: str) -> str:
    name = f"sportsfeed_migrate:{database}"
    # MySQL 8 limits lock names to 64 characters.
    return name if len(name) <= 64 else "sportsfeed_migrate:" + checksum(database)[:40]


async def _connect(settings: MySQLSettings, *, database: bool) -> Any:
    conn = await aiomysql.connect(**connect_kwargs(settings, database=database))
    async with conn.cursor() as cur:
        # Re-runnable DDL (IF [NOT] EXISTS) leaves "already exists" notes that the driver
        # would raise as Python warnings on every run; real warnings still come through.
        await cur.execute("SET SESSION sql_notes = 0")
    return conn


async def _applied(cur: Any) -> dict[int, Applied]:
    await cur.execute("SELECT version, name, checksum FROM schema_migrations")
    return {int(v): Applied(int(v), str(n), str(c)) for v, n, c in await cur.fetchall()}


async def _ensure_database(cur: Any, database: str) -> None:
    await cur.execute(
        f"CREATE DATABASE IF NOT EXISTS `{database}` "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    await cur.execute(f"USE `{database}`")
    await cur.execute(SCHEMA_MIGRATIONS_DDL)


async def apply_migrations(
    settings: MySQLSettings, directory: Path | None = None
) -> list[int]:
    """Create the database if missing and apply the pending migrations, in order.

    Returns the versions applied (empty when the schema was up to date). Raises
    :class:`ChecksumMismatchError` before applying anything if an applied file changed,
    and :class:`MigrationError` if a statement fails (that migration may be half applied).
    """
    migrations = discover(directory or migrations_dir())
    conn = await _connect(settings, database=False)
    try:
        async with conn.cursor() as cur:
            lock = _lock_name(settings.database)
            await cur.execute("SELECT GET_LOCK(%s, %s)", (lock, LOCK_TIMEOUT_S))
            if (await cur.fetchone()) != (1,):
                raise MigrationError(f"another migration run holds lock {lock!r}")
            try:
                await _ensure_database(cur, settings.database)
                todo = plan(migrations, await _applied(cur))
                # Split every pending file first: a malformed file stops the run before
                # anything is applied, not after the migrations before it.
                batches = [(m, split_statements(m.sql)) for m in todo]
                for migration, statements in batches:
                    await _apply_one(conn, cur, migration, statements)
            finally:
                # Closing the connection releases the lock too, should this fail.
                with contextlib.suppress(aiomysql.MySQLError):
                    await cur.execute("SELECT RELEASE_LOCK(%s)", (lock,))
        return [m.version for m in todo]
    finally:
        conn.close()


# MySQL 8 has no ``ADD COLUMN IF NOT EXISTS`` (MariaDB has): the runner makes
# ``ALTER TABLE t ADD COLUMN c ...`` and ``ALTER TABLE t ADD KEY|INDEX k ...`` re-runnable
# itself by skipping a column or index that exists. One ADD per ALTER statement.
_ADD_COLUMN = re.compile(r"^ALTER\s+TABLE\s+`?(\w+)`?\s+ADD\s+COLUMN\s+`?(\w+)`?\s", re.I)
_ADD_INDEX = re.compile(
    r"^ALTER\s+TABLE\s+`?(\w+)`?\s+ADD\s+(?:UNIQUE\s+)?(?:KEY|INDEX)\s+`?(\w+)`?\s", re.I
)


async def _already_there(cur: Any, statement: str) -> bool:
    """True when ``statement`` adds a column or index the table already has."""
    for pattern, table in ((_ADD_COLUMN, "columns"), (_ADD_INDEX, "statistics")):
        match = pattern.match(statement)
        if match:
            name_column = "column_name" if table == "columns" else "index_name"
            await cur.execute(
                f"SELECT COUNT(*) FROM information_schema.{table} WHERE table_schema = DATABASE()"
                f" AND table_name = %s AND {name_column} = %s",
                (match[1], match[2]),
            )
            row = await cur.fetchone()
            return bool(row and row[0])
    return False


async def _apply_one(
    conn: Any, cur: Any, migration: Migration, statements: Sequence[str]
) -> None:
    for number, statement in enumerate(statements, 1):
        try:
            if await _already_there(cur, statement):
                continue
            await cur.execute(statement)
        except Exception as exc:  # the driver's errors; re-raised with where it happened
            with contextlib.suppress(aiomysql.MySQLError):
                await conn.rollback()
            first_line = statement.splitlines()[0][:80]
            raise MigrationError(
                f"{migration.filename}: statement {number} of {len(statements)} "
                f"({first_line!r}) failed: {exc}. DDL auto-commits, so earlier statements "
                "stay applied; fix the file and run again."
            ) from exc
    await cur.execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
        " VALUES (%s, %s, %s, UTC_TIMESTAMP(6))",
        (migration.version, migration.name, migration.checksum),
    )
    await conn.commit()


async def migration_status(
    settings: MySQLSettings, directory: Path | None = None
) -> list[tuple[int, str, State]]:
    """The state of every migration (nothing is changed; a missing database is all pending)."""
    migrations = discover(directory or migrations_dir())
    conn = await _connect(settings, database=False)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT COUNT(*) FROM information_schema.tables"
                " WHERE table_schema = %s AND table_name = 'schema_migrations'",
                (settings.database,),
            )
            exists = (await cur.fetchone()) == (1,)
            applied = {}
            if exists:
                await cur.execute(f"USE `{settings.database}`")
                applied = await _applied(cur)
        return status(migrations, applied)
    finally:
        conn.close()


async def drop_database(settings: MySQLSettings) -> None:
    """Drop ``settings.database`` if it exists (tests drop their fresh databases with this)."""
    conn = await _connect(settings, database=False)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{settings.database}`")
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status (1 when a migration is refused or fails)."""
    parser = argparse.ArgumentParser(description="Apply the SportsFeed MySQL migrations.")
    parser.add_argument(
        "--status", action="store_true", help="list applied and pending, change nothing"
    )
    args = parser.parse_args(argv)
    settings = MySQLSettings()
    where = f"database {settings.database} on {settings.host}:{settings.port}"
    try:
        if args.status:
            rows = asyncio.run(migration_status(settings))
            for _, filename, state in rows:
                print(f"{state:8} {filename}")
            counts = {s: sum(1 for r in rows if r[2] == s) for s in ("applied", "pending")}
            changed = sum(1 for r in rows if r[2] == "changed")
            missing = sum(1 for r in rows if r[2] == "missing")
            print(
                f"migrations: {counts['applied']} applied, {counts['pending']} pending"
                + (f", {changed} CHANGED after applying" if changed else "")
                + (f", {missing} applied without a file here" if missing else "")
                + f" ({where})"
            )
            return 1 if changed else 0
        applied = asyncio.run(apply_migrations(settings))
    except (MigrationError, aiomysql.MySQLError) as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    done = ", ".join(f"{v:04d}" for v in applied) or "nothing to do"
    print(f"migrations: applied {len(applied)} ({done}) to {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
