"""A few columns of the real football-data.co.uk files, for tests and measurements of fitting.

Not the project's CSV reader (that one lives in ``shared/footballdata``): this reads only
Date, HomeTeam, AwayTeam, FTHG and FTAG, as the pricing tests need them, and skips rows
without a result (``E0_1415.csv`` ends with an all-empty one). Files are read as they
are: a UTF-8 BOM, CRLF line ends, ``dd/mm/yy`` or ``dd/mm/yyyy`` dates, goals as ``4.0``.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from shared.pricing.football_fit import MatchResult

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "football-data"


def data_file(name: str) -> Path:
    """The path of one shared data file (``E0_2223.csv``)."""
    return DATA / name


def _date(text: str) -> date:
    fmt = "%d/%m/%Y" if len(text.split("/")[-1]) == 4 else "%d/%m/%y"
    return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time


def read_results(*names: str) -> list[MatchResult]:
    """Every played match of the named files, in file order."""
    out: list[MatchResult] = []
    for name in names:
        with data_file(name).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if not row.get("FTHG") or not row.get("HomeTeam"):
                    continue
                out.append(MatchResult(
                    date=_date(row["Date"]), home=row["HomeTeam"], away=row["AwayTeam"],
                    home_goals=int(float(row["FTHG"])), away_goals=int(float(row["FTAG"])),
                ))
    return out
