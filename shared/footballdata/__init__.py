"""football-data.co.uk files: the pure reader every service shares (history, pricing, trading).

``read_file(path)`` / ``read_bytes(data, name)`` return a
:class:`~shared.footballdata.model.ParsedFile`: each match with its UTC start, clubs
(stable ids), scores, statistics and every bookmaker quote, plus the problems and
unknown columns met. ``settle`` settles the markets a score decides, ``standings``
builds a league table. Nothing here touches a database or logs.
"""

from shared.footballdata.model import (
    ColumnNote,
    ColumnStatus,
    FootballDataError,
    MarketPrices,
    Match,
    OddsPhase,
    ParsedFile,
    Problem,
    ProblemAction,
    Quote,
    RunOutcome,
    Statistics,
    Team,
)
from shared.footballdata.reader import read_bytes, read_file

__all__ = [
    "ColumnNote", "ColumnStatus", "FootballDataError", "MarketPrices", "Match", "OddsPhase", "ParsedFile",
    "Problem", "ProblemAction", "Quote", "RunOutcome", "Statistics", "Team", "read_bytes",
    "read_file",
]
