"""UOF markets to canonical markets.

A UOF market is identified by its numeric ``id`` plus ``specifiers`` (``total=2.5``).
The main markets of each sport map onto the canonical catalogue of ``shared.rules``
with their outcome ids translated (UOF ``12`` -> ``over``); every other market is
carried as the extension market ``uof:<id>`` with its specifiers and its outcome ids
as given (``sr:player:1234``), so nothing a provider sends is dropped. The ids follow
the UOF market descriptions (``markets.xml``); ``docs/feeds.md`` lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from services.ingestion.adapters.xmlsafe import XmlPlaces
from shared.enums import MarketStatus, SettlementResult, Sport
from shared.markets import market_key


class UofProblem(Exception):
    """Something in a UOF message that cannot be carried; refuses that message."""

    def __init__(self, reason: str, element: etree._Element, attr: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.element = element
        self.attr = attr


@dataclass(frozen=True)
class MarketMapping:
    """A UOF market that is a canonical market: its type and outcome id translation."""

    type: str
    outcomes: Mapping[str, str]
    uof_name: str


_1X2 = {"1": "home", "2": "draw", "3": "away"}
_OVER_UNDER = {"12": "over", "13": "under"}
_HANDICAP = {"1714": "home", "1715": "away"}
_WINNER = {"4": "home", "5": "away"}

MAIN_MARKETS: dict[Sport, dict[str, MarketMapping]] = {
    Sport.FOOTBALL: {
        "1": MarketMapping("1x2", _1X2, "1x2"),
        "10": MarketMapping("double_chance",
                            {"9": "home_or_draw", "10": "home_or_away", "11": "draw_or_away"},
                            "Double chance"),
        "11": MarketMapping("draw_no_bet", _WINNER, "Draw no bet"),
        "16": MarketMapping("handicap", _HANDICAP, "Handicap"),
        "18": MarketMapping("totals", _OVER_UNDER, "Total"),
        "29": MarketMapping("btts", {"74": "yes", "76": "no"}, "Both teams to score"),
    },
    Sport.BASKETBALL: {
        "219": MarketMapping("moneyline", _WINNER, "Winner (incl. overtime)"),
        "223": MarketMapping("handicap", _HANDICAP, "Handicap (incl. overtime)"),
        "225": MarketMapping("totals", _OVER_UNDER, "Total (incl. overtime)"),
    },
    Sport.TENNIS: {
        "186": MarketMapping("moneyline", _WINNER, "Winner"),
        "187": MarketMapping("handicap", _HANDICAP, "Game handicap"),
        "188": MarketMapping("set_handicap", _HANDICAP, "Set handicap"),
        "189": MarketMapping("totals", _OVER_UNDER, "Total games"),
    },
    Sport.ICE_HOCKEY: {
        "1": MarketMapping("1x2", _1X2, "1x2"),
        "16": MarketMapping("handicap", _HANDICAP, "Handicap"),
        "18": MarketMapping("totals", _OVER_UNDER, "Total"),
        "406": MarketMapping("moneyline", _WINNER, "Winner (incl. overtime and penalties)"),
    },
}

MARKET_STATUS = {
    "1": MarketStatus.ACTIVE,
    "-1": MarketStatus.SUSPENDED,
    "0": MarketStatus.DEACTIVATED,
    "-2": MarketStatus.HANDED_OVER,
    "-3": MarketStatus.SETTLED,
    "-4": MarketStatus.CANCELLED,
}

RESULT = {"1": SettlementResult.WON, "0": SettlementResult.LOST}


def parse_specifiers(text: str | None) -> dict[str, str]:
    """``"a=1|b=x:y"`` to ``{"a": "1", "b": "x:y"}``; raises ValueError when malformed."""
    specifiers: dict[str, str] = {}
    for part in text.split("|") if text else ():
        name, sep, value = part.partition("=")  # values may hold "=", names never do
        if not sep or not name:
            raise ValueError(f"specifier {part!r} is not name=value")
        if name in specifiers:
            raise ValueError(f"specifier {name!r} appears twice")
        specifiers[name] = value
    return specifiers


def is_number(text: str | None) -> bool:
    """True for ASCII digits only (``str.isdigit`` also accepts "²", which int() refuses)."""
    return text is not None and text.isascii() and text.isdigit()


def market_of(sport: Sport, element: etree._Element) -> tuple[str, MarketMapping | None]:
    """The canonical key of a UOF ``<market>`` and its mapping (None: extension market)."""
    market_id = element.get("id")
    if market_id is None or not is_number(market_id):
        raise UofProblem(f"market id {market_id!r} is not a UOF market id", element, "id")
    mapping = MAIN_MARKETS[sport].get(market_id)
    try:
        specifiers = parse_specifiers(element.get("specifiers"))
        mtype = mapping.type if mapping else f"uof:{market_id}"
        return market_key(mtype, specifiers), mapping
    except ValueError as exc:
        raise UofProblem(f"market {market_id}: {exc}", element, "specifiers") from None


def _outcome_id(mapping: MarketMapping | None, element: etree._Element, market_id: str) -> str:
    outcome_id = element.get("id")
    if outcome_id is None:
        raise UofProblem("outcome has no id", element)
    if mapping is None:
        return outcome_id
    canonical = mapping.outcomes.get(outcome_id)
    if canonical is None:
        known = ", ".join(f"{k} {v}" for k, v in mapping.outcomes.items())
        raise UofProblem(
            f"outcome {outcome_id} of UOF market {market_id} ({mapping.uof_name}, canonical "
            f"{mapping.type}) is not mapped; known outcomes: {known}", element, "id")
    return canonical


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if etree.QName(child).localname == name]


def odds_markets(
    odds: etree._Element, sport: Sport, places: XmlPlaces
) -> list[dict[str, Any]]:
    """The ``<market>`` elements of an ``<odds>`` as canonical market dicts."""
    markets = []
    for i, element in enumerate(_children(odds, "market")):
        key, mapping = market_of(sport, element)
        status_code = element.get("status", "1")  # absent: active
        status = MARKET_STATUS.get(status_code)
        if status is None:
            raise UofProblem(f"market status {status_code!r} is not a UOF market status "
                             "(1, -1, 0, -2, -3, -4)", element, "status")
        places.add(f"body.markets[{i}]", element, {"market_key": "specifiers"})
        outcomes = []
        for j, outcome in enumerate(_children(element, "outcome")):
            places.add(f"body.markets[{i}].outcomes[{j}]", outcome, {"price": "odds"})
            outcomes.append(_odds_outcome(mapping, outcome, element.get("id", "")))
        markets.append({"market_key": key, "status": status, "outcomes": outcomes})
    return markets


def _odds_outcome(
    mapping: MarketMapping | None, element: etree._Element, market_id: str
) -> dict[str, Any]:
    active = element.get("active", "1")
    if active not in ("0", "1"):
        raise UofProblem(f"outcome active={active!r} is not 0 or 1", element, "active")
    odds = element.get("odds")
    outcome: dict[str, Any] = {
        "id": _outcome_id(mapping, element, market_id),
        # An outcome without odds cannot be bet on, whatever its active flag says.
        "active": active == "1" and odds is not None,
    }
    if odds is not None:
        outcome["price"] = odds
    return outcome


def settlement_markets(
    outcomes: etree._Element, sport: Sport, places: XmlPlaces
) -> list[dict[str, Any]]:
    """The ``<market>`` elements of a bet_settlement as canonical settlement dicts."""
    markets = []
    for i, element in enumerate(_children(outcomes, "market")):
        key, mapping = market_of(sport, element)
        places.add(f"body.markets[{i}]", element, {"market_key": "specifiers"})
        settled = []
        for j, outcome in enumerate(_children(element, "outcome")):
            places.add(f"body.markets[{i}].outcomes[{j}]", outcome, {"outcome_id": "id"})
            result = RESULT.get(outcome.get("result", ""))
            if result is None:
                raise UofProblem(f"result {outcome.get('result')!r} is not 1 (won) or 0 (lost)",
                                 outcome, "result")
            item: dict[str, Any] = {
                "outcome_id": _outcome_id(mapping, outcome, element.get("id", "")),
                "result": result,
            }
            for factor in ("void_factor", "dead_heat_factor"):
                if outcome.get(factor) is not None:
                    item[factor] = outcome.get(factor)
            settled.append(item)
        markets.append({"market_key": key, "outcomes": settled})
    return markets


def market_keys(
    elements: list[etree._Element], sport: Sport, places: XmlPlaces
) -> list[str]:
    """Canonical keys of the ``<market>`` elements a bet_cancel or rollback names."""
    keys = []
    for i, element in enumerate(elements):
        places.add(f"body.market_keys[{i}]", element)
        keys.append(market_of(sport, element)[0])
    return keys
