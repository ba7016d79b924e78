"""``python -m services.history import PATH... [--dry-run]`` and ``python -m services.history status``.

``import`` takes files and folders (every ``*.csv`` below a folder), imports each file
in its own transaction with a progress bar, prints a summary, and exits 1 when any
file failed (0 otherwise, also when rows were skipped: those are in the summary and
the run record). ``--dry-run`` reads and checks the files without a database;
``--skip-imported`` leaves out the files an earlier run imported byte for byte (same
sha256), so ``make up`` can ask for the import every time and pay for it once.
``status`` prints what the database holds. A configuration error exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import aiomysql
from pydantic import ValidationError
from rich.console import Console

from services.history import output
from services.history.importer import FileResult, csv_files, import_files
from services.history.settings import HistorySettings
from services.history.store import open_store
from shared.cache import open_cache
from shared.enums import Sport
from shared.storage.history import read_status
from shared.storage.pool import connect_kwargs


async def run_import(settings: HistorySettings | None, paths: Sequence[Path], *, dry_run: bool,
                     console: Console, show_progress: bool) -> list[FileResult]:
    """Import (or check) every file; the results in order (``settings`` None: dry run only)."""
    with output.progress(console, show_progress and console.is_terminal) as bar:
        task = bar.add_task("reading" if dry_run else "importing", total=len(paths))

        def done(result: FileResult) -> None:
            bar.update(task, advance=1, description=result.path.name)

        if dry_run or settings is None:
            return await import_files(None, paths, done)
        async with open_store(settings.mysql, settings.lock_timeout_s) as store:
            results = await import_files(store, paths, done)
    updated = [e for r in results for e in r.updated_ids]
    if updated and settings.invalidate_cache:
        await _invalidate(settings, updated, console)
    return results


async def _invalidate(settings: HistorySettings, event_ids: list[str], console: Console) -> None:
    try:
        async with open_cache(settings.redis) as cache:
            await cache.drop(Sport.FOOTBALL, event_ids)
    except Exception as exc:  # Redis is a cache: an outage is reported, never fatal
        console.print(f"could not drop {len(event_ids)} corrected events from Redis ({exc!r}):"
                      " run python -m services.processors.rebuild if they were cached")


async def not_imported(settings: HistorySettings, paths: Sequence[Path]) -> list[Path]:
    """The files whose exact content no earlier run imported."""
    async with open_store(settings.mysql, settings.lock_timeout_s) as store:
        known = await store.imported_digests()
    return [p for p in paths if hashlib.sha256(p.read_bytes()).hexdigest() not in known]


async def run_status(settings: HistorySettings, console: Console) -> None:
    """Print the status."""
    conn = await aiomysql.connect(**connect_kwargs(settings.mysql))
    try:
        async with conn.cursor() as cur:
            state = await read_status(cur, settings.status_runs)
        await conn.commit()
    finally:
        conn.close()
    output.status(console, state)


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.history",
                                     description="Import football-data.co.uk files; show what is imported.")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import files and folders of football-data CSV files")
    imp.add_argument("paths", nargs="+", type=Path, help="CSV files, or folders of them")
    imp.add_argument("--dry-run", action="store_true", help="read and check only; no database")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    imp.add_argument("--skip-imported", action="store_true",
                     help="leave out files an earlier run imported unchanged (same sha256)")
    commands.add_parser("status", help="competitions, seasons, odds and recent runs")
    args = parser.parse_args(argv)
    # Piped output (CI logs, files) gets wide tables instead of 80 truncated columns.
    console = Console(width=None if sys.stdout.isatty() else 200)
    try:
        settings: HistorySettings | None = HistorySettings()
    except ValidationError as exc:
        if not (args.command == "import" and args.dry_run):
            print(f"history: configuration error: {exc}", file=sys.stderr)
            return 2
        settings = None  # a dry run needs no database settings
    if args.command == "status":
        assert settings is not None
        asyncio.run(run_status(settings, console))
        return 0
    paths = csv_files(args.paths)
    if not paths:
        print("history: no CSV files in " + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 1
    if args.skip_imported and settings is not None and not args.dry_run:
        fresh = asyncio.run(not_imported(settings, paths))
        if len(fresh) < len(paths):
            print(f"history: {len(paths) - len(fresh)} of {len(paths)} files imported before,"
                  " unchanged: skipped")
        if not fresh:
            return 0
        paths = fresh
    results = asyncio.run(run_import(settings, paths, dry_run=args.dry_run, console=console,
                                     show_progress=not args.no_progress))
    shown = settings.problems_shown if settings else HistorySettings.model_fields["problems_shown"].default
    output.summary(console, results, dry_run=args.dry_run, problems_shown=shown)
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
