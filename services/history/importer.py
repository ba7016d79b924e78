"""One file end to end: read, plan against MySQL, write in one transaction, record the run.

A file that cannot be read, or whose write fails, is recorded as a failed run (and
nothing of it stays written); the next file goes on regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import aiomysql

from services.history.plan import FilePlan, plan_file
from services.history.store import HistoryStore, RunRecord, write_statements
from services.history.threads import iterate_in_thread
from shared.footballdata import FootballDataError, ParsedFile, RunOutcome, read_bytes
from shared.footballdata.model import ProblemAction
from shared.footballdata.names import DIVISIONS


@dataclass
class FileResult:
    """What happened to one file (``run_id`` None: a dry run, or the record failed too)."""

    path: Path
    run: RunRecord
    parsed: ParsedFile | None = None
    run_id: int | None = None
    seconds: float = 0.0
    updated_ids: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when nothing of the file was imported."""
        return self.run.outcome is RunOutcome.FAILED


def csv_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to import: each file named, and the ``*.csv`` files of each folder (sorted)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv"))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _joined(values: Iterable[str], limit: int) -> str | None:
    text = ",".join(values)
    return text[:limit] or None


def _record(path: Path, data: bytes, started: datetime, parsed: ParsedFile | None) -> RunRecord:
    run = RunRecord(file_name=path.name, file_path=str(path)[:1000],
                    sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), started_at=started)
    if parsed is None:
        return run
    skipped = sum(1 for p in parsed.problems if p.action is ProblemAction.ROW_SKIPPED)
    ignored = len(parsed.problems) - skipped
    new_codes = dict.fromkeys(c.bookmaker for c in parsed.columns if c.bookmaker is not None)
    return replace(
        run, divisions=_joined(parsed.divisions, 200), season=parsed.season,
        data_rows=parsed.data_rows, blank_rows=parsed.blank_rows, rows_skipped=skipped,
        values_ignored=ignored, odds_quotes=parsed.quote_count,
        unknown_columns=len(parsed.unknown_columns), new_bookmakers=_joined(new_codes, 500),
        new_teams=_joined(parsed.new_teams, 2000),
        outcome=RunOutcome.PARTIAL if parsed.problems else RunOutcome.OK,
    )


def unknown_divisions(parsed: ParsedFile) -> list[str]:
    """Division codes of the file that the division table does not name."""
    return [d for d in parsed.divisions if d not in DIVISIONS]


def read_one(path: Path) -> tuple[bytes, ParsedFile | None, str | None]:
    """The file's bytes and what was read, or the reason it could not be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return b"", None, f"cannot read {path}: {exc.strerror or exc}"
    try:
        return data, read_bytes(data, path.name), None
    except FootballDataError as exc:
        return data, None, str(exc)


async def import_file(store: HistoryStore | None, path: Path,
                      read: tuple[bytes, ParsedFile | None, str | None] | None = None) -> FileResult:
    """Import one file (``store`` None: a dry run that reads and checks only).

    ``read`` is :func:`read_one`'s answer when the caller read the file ahead.
    """
    began, started = time.perf_counter(), datetime.now(UTC)
    data, parsed, error = read if read is not None else read_one(path)
    run = _record(path, data, started, parsed)
    result = FileResult(path, run, parsed)
    if parsed is None:
        result.run = replace(run, outcome=RunOutcome.FAILED, error=(error or "")[:1000])
    elif store is not None:
        await _write(store, result, parsed)
    if store is not None and result.failed:
        try:
            result.run_id = await store.record_failed_run(result.run, datetime.now(UTC))
        except aiomysql.Error:
            result.run_id = None  # the database is the problem: the summary says so
    result.seconds = time.perf_counter() - began
    return result


async def import_files(store: HistoryStore | None, paths: Sequence[Path],
                       done: Callable[[FileResult], None] = lambda _: None) -> list[FileResult]:
    """Import the files in order, each read in a worker thread while the one before is written."""
    results: list[FileResult] = []
    ahead = asyncio.ensure_future(asyncio.to_thread(read_one, paths[0])) if paths else None
    for n, path in enumerate(paths):
        assert ahead is not None
        read = await ahead
        if n + 1 < len(paths):
            ahead = asyncio.ensure_future(asyncio.to_thread(read_one, paths[n + 1]))
        result = await import_file(store, path, read)
        results.append(result)
        done(result)
    return results


async def _write(store: HistoryStore, result: FileResult, parsed: ParsedFile) -> None:
    try:
        existing = await store.existing([m.event_id for m in parsed.matches])
        run_id = await store.start_run(result.run)
        planned: list[FilePlan] = []

        def statements() -> Iterator[str]:  # runs in a worker thread: plan, then render
            plan = plan_file(parsed.matches, existing, run_id)
            planned.append(plan)
            return write_statements(plan)

        async for sql in iterate_in_thread(statements):
            await store.execute(sql)
        plan = planned[0]
        await store.write_report(run_id, parsed.problems, parsed.columns)
        result.run = replace(result.run, events_inserted=len(plan.inserted),
                             events_updated=len(plan.updated), events_unchanged=len(plan.unchanged),
                             odds_rows_written=plan.odds_rows)
        await store.finish_run(run_id, result.run, datetime.now(UTC))
        await store.commit()
        result.run_id = run_id
        result.updated_ids = plan.updated
    except Exception as exc:  # any failure fails this file only: the next one goes on
        with contextlib.suppress(aiomysql.Error, OSError):
            await store.rollback()
        result.run = replace(result.run, outcome=RunOutcome.FAILED,
                             error=f"writing to MySQL failed, nothing kept: {exc!r}"[:1000])
