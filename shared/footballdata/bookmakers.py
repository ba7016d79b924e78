"""Bookmaker codes of the football-data.co.uk columns, in one table.

A column such as ``B365H`` is a code (``B365``) and a pattern (``H``: 1X2 home). The
code names the bookmaker; several codes may name one (Pinnacle is ``PS`` in the 1X2
columns and ``P`` in the over/under and Asian handicap ones). The ids are what the
database stores; a code missing here still imports, under the code itself, and is
reported as a new bookmaker (add it here to give it a name).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bookmaker:
    """A source of prices: a bookmaker, an exchange, or a market-wide maximum or average."""

    id: str
    name: str


_B = Bookmaker
BOOKMAKERS: dict[str, Bookmaker] = {
    "B365": _B("bet365", "Bet365"),
    "BW": _B("bwin", "Bet&Win (bwin)"),
    "IW": _B("interwetten", "Interwetten"),
    "PS": _B("pinnacle", "Pinnacle"),
    "P": _B("pinnacle", "Pinnacle"),
    "WH": _B("william_hill", "William Hill"),
    "VC": _B("vc_bet", "VC Bet"),
    "LB": _B("ladbrokes", "Ladbrokes"),
    "SJ": _B("stan_james", "Stan James"),
    "GB": _B("gamebookers", "Gamebookers"),
    "BS": _B("blue_square", "Blue Square"),
    "SB": _B("sportingbet", "Sportingbet"),
    "SO": _B("sporting_odds", "Sporting Odds"),
    "SY": _B("stanleybet", "Stanleybet"),
    "1XB": _B("1xbet", "1XBet"),
    "BF": _B("betfair", "Betfair"),
    "BFE": _B("betfair_exchange", "Betfair Exchange"),
    "BFD": _B("betfred", "Betfred"),
    "BMGM": _B("betmgm", "BetMGM"),
    "BV": _B("betvictor", "BetVictor"),
    "CL": _B("coral", "Coral"),
    "Max": _B("market_max", "Market maximum"),
    "Avg": _B("market_avg", "Market average"),
    "BbMx": _B("betbrain_max", "Betbrain maximum"),
    "BbAv": _B("betbrain_avg", "Betbrain average"),
}
"""Code -> bookmaker. ``Max``/``Avg`` (2019/20 on) and ``BbMx``/``BbAv`` (before) are the
best and the mean price over many bookmakers, kept apart since their sources differ."""

BETBRAIN_FAMILY = ("BbMx", "BbAv")
"""Codes whose Asian handicap line is ``BbAHh`` (the Betbrain line), not ``AHh``."""

NAMES: dict[str, str] = {b.id: b.name for b in BOOKMAKERS.values()}
"""Bookmaker id -> display name (an unknown code is its own name)."""


def bookmaker_name(bookmaker_id: str) -> str:
    """The display name of a stored bookmaker id."""
    return NAMES.get(bookmaker_id, bookmaker_id)
