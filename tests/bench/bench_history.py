"""History import: one season file and all the shared football-data files into MariaDB.

``python -m tests.bench.bench_history [--rounds N]``: each round imports into a fresh
database (every migration applied), first one season file (E0_2223.csv, 380 rows,
106 columns), then all the files of ``../shared/data/football-data``, then all of
them again (nothing changes: the idempotent re-run). Goals: a season file < 1 s, all
files < 5 s. Anchors measured in the same run: the CPU probe, the time to only read
(parse) the files, and the time MariaDB takes to insert the same number of plain rows
(``history_odds`` rows, without the importer), so a slow figure can be told apart
from a slow machine. The best round of each phase is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from shared.footballdata import read_file
from shared.settings import MySQLSettings
from shared.storage.migrate import apply_migrations, drop_database
from shared.storage.pool import create_pool
from tests.bench.report import cpu_probe_ms, table, write_report
from tests.support.history import SHARED_DATA, import_paths
from tests.support.stack import load_local_env, local_endpoints

SEASON_FILE = "E0_2223.csv"


def fresh_settings(endpoints: Any, n: int) -> MySQLSettings:
    return MySQLSettings(host=endpoints.mysql_host, port=endpoints.mysql_port,
                         user=endpoints.mysql_user, password=endpoints.mysql_password,
                         database=f"sportsfeed_bench_history_{n}_{int(time.time())}")


async def timed_import(settings: MySQLSettings, *paths: Path) -> tuple[float, int]:
    began = time.perf_counter()
    results = await import_paths(settings, *paths)
    failed = [r.path.name for r in results if r.failed]
    if failed:
        raise RuntimeError(f"import failed: {failed}")
    return time.perf_counter() - began, sum(r.run.odds_rows_written for r in results)


async def bare_inserts(settings: MySQLSettings, rows: int) -> float:
    """MariaDB alone: ``rows`` rows shaped like history_odds, 1 MB multi-row INSERTs."""
    async with create_pool(settings) as pool, pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("CREATE TABLE bench_rows LIKE history_odds")
        values = [f"('fd:match:E0:2022-08-05:team-{n // 20:05d}:other', 'book{n // 2 % 10}', '1x2',"
                  f" '{'opening' if n % 2 else 'closing'}', 1.5, 3.4, 4.2, NULL, NULL)"
                  for n in range(rows)]
        statements, chunk, size = [], [], 0
        for v in values:
            chunk.append(v)
            size += len(v)
            if size > 1_000_000:
                statements.append(chunk)
                chunk, size = [], 0
        statements.append(chunk)
        began = time.perf_counter()
        for part in statements:
            await cur.execute("INSERT INTO bench_rows VALUES " + ", ".join(part))
        await conn.commit()
        return time.perf_counter() - began


async def run(rounds: int) -> dict[str, Any]:
    load_local_env()
    endpoints = local_endpoints()
    files = sorted(SHARED_DATA.glob("*.csv"))
    best: dict[str, float] = {}
    odds_rows = 0
    probes = [cpu_probe_ms()]
    for n in range(rounds):
        began = time.perf_counter()
        for f in files:
            read_file(f)
        best["parse_all"] = min(best.get("parse_all", 1e9), time.perf_counter() - began)
        for phase in ("season", "all"):
            settings = fresh_settings(endpoints, n)
            await apply_migrations(settings)
            try:
                if phase == "season":
                    seconds, _ = await timed_import(settings, SHARED_DATA / SEASON_FILE)
                    best["season"] = min(best.get("season", 1e9), seconds)
                else:
                    seconds, odds_rows = await timed_import(settings, SHARED_DATA)
                    best["all"] = min(best.get("all", 1e9), seconds)
                    seconds, _ = await timed_import(settings, SHARED_DATA)
                    best["all_again"] = min(best.get("all_again", 1e9), seconds)
                    bare = await bare_inserts(settings, odds_rows)
                    best["bare_odds_inserts"] = min(best.get("bare_odds_inserts", 1e9), bare)
            finally:
                await drop_database(settings)
    probes.append(cpu_probe_ms())
    return {
        "files": len(files), "season_file": SEASON_FILE, "rounds": rounds, "odds_rows": odds_rows,
        "season_s": round(best["season"], 3), "all_s": round(best["all"], 3),
        "all_again_s": round(best["all_again"], 3), "parse_all_s": round(best["parse_all"], 3),
        "bare_odds_inserts_s": round(best["bare_odds_inserts"], 3), "cpu_probe_ms": probes,
        "goals_met": {"season_under_1s": best["season"] < 1.0, "all_under_5s": best["all"] < 5.0},
    }


def markdown(r: dict[str, Any]) -> str:
    met = {True: "met", False: "**not met**"}
    rows = [
        (f"one season file ({r['season_file']}, 380 rows)", f"{r['season_s']:.2f} s", "< 1 s",
         met[r["goals_met"]["season_under_1s"]]),
        (f"all {r['files']} shared files", f"{r['all_s']:.2f} s", "< 5 s",
         met[r["goals_met"]["all_under_5s"]]),
        ("all files again (nothing changes)", f"{r['all_again_s']:.2f} s", "-", "-"),
        ("anchor: reading (parsing) all files, no database", f"{r['parse_all_s']:.2f} s", "-", "-"),
        (f"anchor: MariaDB inserting {r['odds_rows']:,} plain odds-shaped rows",
         f"{r['bare_odds_inserts_s']:.2f} s", "-", "-"),
    ]
    return "\n".join([
        "## History import", "",
        f"Best of {r['rounds']} rounds, each on a fresh database; CPU probe "
        f"{r['cpu_probe_ms'][0]} → {r['cpu_probe_ms'][1]} ms.", "",
        table(rows, ("measure", "result", "goal", "")),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.rounds))
    text = markdown(results)
    write_report("history", results, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
