"""What a person reads: the progress bar, the end-of-import summary and the status.

Rich draws the progress bar only on a terminal; piped output gets the plain tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.history.importer import FileResult, unknown_divisions
from shared.footballdata.bookmakers import bookmaker_name
from shared.storage.history import HistoryStatus


def progress(console: Console, enabled: bool) -> Progress:
    """A bar over the files of an import (hidden when off or not on a terminal)."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("files"), TimeElapsedColumn(),
        console=console, transient=True, disable=not enabled,
    )


def summary(console: Console, results: Sequence[FileResult], *, dry_run: bool, problems_shown: int) -> None:
    """One line per file, the totals, then each file's problems and reported columns."""
    table = Table(title="dry run: nothing written" if dry_run else "import", title_justify="left")
    for name in ("file", "season", "rows", "inserted", "updated", "unchanged", "skipped",
                 "ignored", "prices", "odds rows", "unknown cols", "outcome", "ms"):
        table.add_column(name, justify="left" if name in ("file", "season", "outcome") else "right")
    for r in results:
        run = r.run
        table.add_row(
            r.path.name, run.season or "-", str(run.data_rows),
            *(("-", "-", "-") if dry_run else (str(run.events_inserted), str(run.events_updated),
                                               str(run.events_unchanged))),
            str(run.rows_skipped), str(run.values_ignored), f"{run.odds_quotes:,}",
            "-" if dry_run else f"{run.odds_rows_written:,}", str(run.unknown_columns),
            run.outcome.value, f"{r.seconds * 1000:.0f}",
        )
    console.print(table)
    failed = [r for r in results if r.failed]
    total_s = sum(r.seconds for r in results)
    console.print(
        f"{len(results)} files in {total_s:.2f} s: {len(results) - len(failed)} "
        + ("read" if dry_run else "imported")
        + (f", [red]{len(failed)} failed[/red]" if failed else "")
        + ("" if dry_run else f"; events inserted {sum(r.run.events_inserted for r in results)}, "
           f"updated {sum(r.run.events_updated for r in results)}, "
           f"unchanged {sum(r.run.events_unchanged for r in results)}")
    )
    for r in results:
        _details(console, r, problems_shown)


def _details(console: Console, r: FileResult, problems_shown: int) -> None:
    lines: list[str] = []
    if r.run.error:
        lines.append(f"[red]failed[/red]: {r.run.error}")
    parsed = r.parsed
    if parsed is not None:
        for note in parsed.columns:
            lines.append(f"column {note.name!r} ({note.status.value}): {note.detail}")
        for code in unknown_divisions(parsed):
            lines.append(f"division {code!r} is not in the division table: named by its code")
        if parsed.new_teams:
            lines.append("teams not in the club table (each has an id of its own): "
                         + ", ".join(parsed.new_teams))
        for problem in parsed.problems[:problems_shown]:
            lines.append(str(problem))
        if len(parsed.problems) > problems_shown:
            lines.append(f"... and {len(parsed.problems) - problems_shown} more problems"
                         + (f" (history_run_problems, run {r.run_id})" if r.run_id else ""))
    if lines:
        console.print(f"[bold]{r.path.name}[/bold]" + (f" (run {r.run_id})" if r.run_id else ""))
        for line in lines:
            console.print(f"  {line}", highlight=False, markup=line.startswith("[red]"))


def status(console: Console, state: HistoryStatus) -> None:
    """Competitions and seasons, odds by bookmaker and phase, recent runs."""
    seasons = Table(title="competitions and seasons", title_justify="left")
    for name in ("competition", "name", "season", "events", "finished", "from", "to"):
        seasons.add_column(name)
    for s in state.seasons:
        seasons.add_row(s.competition_id, f"{s.name} ({s.country})" if s.country else s.name,
                        s.season, str(s.events), str(s.finished), str(s.first_date), str(s.last_date))
    console.print(seasons)
    odds = Table(title="bookmaker odds", title_justify="left")
    for name in ("bookmaker", "name", "phase", "rows", "prices"):
        odds.add_column(name)
    for o in state.odds:
        odds.add_row(o.bookmaker, bookmaker_name(o.bookmaker), o.phase, f"{o.rows:,}", f"{o.prices:,}")
    console.print(odds)
    runs = Table(title="recent runs", title_justify="left")
    for name in ("run", "file", "started (UTC)", "outcome", "rows", "ins", "upd", "same", "skipped",
                 "ignored", "unknown cols", "ms"):
        runs.add_column(name)
    for r in state.runs:
        runs.add_row(str(r.id), r.file_name, r.started_at.strftime("%Y-%m-%d %H:%M:%S"), r.outcome,
                     str(r.data_rows), str(r.events_inserted), str(r.events_updated),
                     str(r.events_unchanged), str(r.rows_skipped), str(r.values_ignored),
                     str(r.unknown_columns), str(r.duration_ms))
    console.print(runs)
    if not state.seasons and not state.runs:
        console.print("nothing imported yet: python -m services.history import PATH")
