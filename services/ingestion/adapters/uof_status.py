"""UOF ``sport_event_status`` to a canonical live body.

UOF reports the match state with numeric codes: ``status`` is the event status
(0 not started ... 9 abandoned) and ``match_status`` / ``match_status_code`` name the
period being played (6 first half, 13 first quarter, 8 first set...). Each sport's
codes become the period names of ``shared.rules``. A code that is not in these tables
refuses the live message rather than guessing a period.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from services.ingestion.adapters.uof_markets import UofProblem
from services.ingestion.adapters.xmlsafe import XmlPlaces
from shared.enums import EventStatus, Sport

_E = EventStatus
EVENT_STATUS = {
    "0": _E.NOT_STARTED, "1": _E.LIVE, "2": _E.SUSPENDED, "3": _E.ENDED, "4": _E.CLOSED,
    "5": _E.CANCELLED, "6": _E.DELAYED, "7": _E.INTERRUPTED, "8": _E.POSTPONED,
    "9": _E.ABANDONED,
}

# match_status codes without a period: not started, started/about to start, postponed,
# delayed, cancelled, interrupted, abandoned, ended (also after extra time / penalties).
NO_PERIOD = frozenset({0, 20, 21, 22, 60, 61, 70, 80, 90, 100, 110, 120})

# Periods that carry a score, by match_status_code. Code 40 (overtime) is numbered by
# order of appearance instead: ot1, ot2... (football: et1, et2).
SCORING_PERIODS: dict[Sport, dict[int, str]] = {
    Sport.FOOTBALL: {6: "1h", 7: "2h", 41: "et1", 42: "et2", 50: "pen"},
    Sport.BASKETBALL: {13: "q1", 14: "q2", 15: "q3", 16: "q4"},
    Sport.TENNIS: {8: "set1", 9: "set2", 10: "set3", 11: "set4", 12: "set5"},
    Sport.ICE_HOCKEY: {1: "p1", 2: "p2", 3: "p3", 50: "so"},
}
OVERTIME_CODE = 40
OVERTIME_PREFIX = {Sport.FOOTBALL: "et", Sport.BASKETBALL: "ot", Sport.ICE_HOCKEY: "ot"}

# Breaks between periods, by match_status (the canonical break names of shared.rules).
BREAKS: dict[Sport, dict[int, str]] = {
    Sport.FOOTBALL: {31: "ht", 32: "awaiting_et", 33: "et_ht", 34: "awaiting_pen"},
    Sport.BASKETBALL: {30: "break", 301: "break", 302: "break", 303: "break", 31: "ht",
                       32: "awaiting_ot"},
    Sport.TENNIS: {30: "break"},
    Sport.ICE_HOCKEY: {30: "break", 301: "break", 302: "break", 32: "awaiting_ot",
                       34: "awaiting_so"},
}

_MATCH_TIME = re.compile(r"^(\d{1,3}):([0-5]\d)$")
# UOF writes tennis advantage as 50.
_GAME_POINTS = {"0": "0", "15": "15", "30": "30", "40": "40", "50": "A"}
_SCORE_RENAMES = {"home": "home_score", "away": "away_score"}


def _code(element: etree._Element, attr: str) -> int | None:
    value = element.get(attr)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise UofProblem(f"{attr} {value!r} is not a number", element, attr) from None


def _period_scores(
    status: etree._Element, sport: Sport, places: XmlPlaces
) -> list[dict[str, Any]]:
    holder = next((c for c in status if etree.QName(c).localname == "period_scores"), None)
    periods: list[dict[str, Any]] = []
    overtime = 0
    for element in holder if holder is not None else ():
        if etree.QName(element).localname != "period_score":
            continue
        code = _code(element, "match_status_code")
        name = SCORING_PERIODS[sport].get(code) if code is not None else None
        if code == OVERTIME_CODE and sport in OVERTIME_PREFIX:
            overtime += 1
            name = f"{OVERTIME_PREFIX[sport]}{overtime}"
        if name is None:
            raise UofProblem(f"period match_status_code {code} is not a {sport.value} period",
                             element, "match_status_code")
        places.add(f"body.score.periods[{len(periods)}]", element,
                   {**_SCORE_RENAMES, "period": "match_status_code"})
        periods.append({"period": name, "home": element.get("home_score", ""),
                        "away": element.get("away_score", "")})
    return periods


def _current_period(
    status: etree._Element, sport: Sport, periods: list[dict[str, Any]]
) -> str | None:
    code = _code(status, "match_status")
    if code is None or code in NO_PERIOD:
        return None
    if code == OVERTIME_CODE and sport in OVERTIME_PREFIX:
        last = periods[-1]["period"] if periods else ""
        prefix = OVERTIME_PREFIX[sport]
        return str(last) if str(last).startswith(prefix) else f"{prefix}1"
    name = SCORING_PERIODS[sport].get(code) or BREAKS[sport].get(code)
    if name is None:
        raise UofProblem(f"match_status {code} is not mapped for {sport.value}", status,
                         "match_status")
    return name


def _seconds(element: etree._Element, attr: str) -> int | None:
    value = element.get(attr)
    if value is None:
        return None
    match = _MATCH_TIME.match(value)
    if match is None:
        raise UofProblem(f"{attr} {value!r} is not mm:ss", element, attr)
    return int(match.group(1)) * 60 + int(match.group(2))


def _clock(status: etree._Element, places: XmlPlaces) -> dict[str, Any] | None:
    element = next((c for c in status if etree.QName(c).localname == "clock"), None)
    if element is None:
        return None
    seconds = _seconds(element, "match_time")
    if seconds is None:
        return None  # only a countdown (remaining_time): not the canonical clock
    places.add("body.clock", element, {"seconds": "match_time",
                                       "stoppage_seconds": "stoppage_time"})
    clock: dict[str, Any] = {"seconds": seconds, "running": element.get("stopped") != "true"}
    stoppage = _seconds(element, "stoppage_time")
    if stoppage is not None:
        clock["stoppage_seconds"] = stoppage
    return clock


def _tennis(status: etree._Element, body: dict[str, Any], places: XmlPlaces) -> None:
    server = status.get("current_server")
    if server is not None:
        body["server"] = {"1": "home", "2": "away"}.get(server, server)
        places.add("body.server", status, attr="current_server")
    home, away = status.get("home_gamescore"), status.get("away_gamescore")
    if home is None or away is None:
        return
    periods = body["score"]["periods"]
    current = periods[-1] if periods else None
    in_tiebreak = current is not None and (current["home"], current["away"]) == ("6", "6")
    if not in_tiebreak:  # tie-break points stay counts
        home, away = _GAME_POINTS.get(home, home), _GAME_POINTS.get(away, away)
    body["game"] = {"home": home, "away": away}
    places.add("body.game", status, {"home": "home_gamescore", "away": "away_gamescore"})


def live_body(status: etree._Element, sport: Sport, places: XmlPlaces) -> dict[str, Any]:
    """The canonical live body of a ``<sport_event_status>`` element."""
    code = status.get("status")
    event_status = EVENT_STATUS.get(code or "")
    if event_status is None:
        raise UofProblem(f"status {code!r} is not a UOF event status (0-9)", status, "status")
    places.add("body", status)
    places.add("body.score", status, _SCORE_RENAMES)
    periods = _period_scores(status, sport, places)
    body: dict[str, Any] = {
        "status": event_status,
        "score": {"home": status.get("home_score", "0"), "away": status.get("away_score", "0"),
                  "periods": periods},
    }
    period = _current_period(status, sport, periods)
    if period is not None:
        body["period"] = period
        places.add("body.period", status, attr="match_status")
    clock = _clock(status, places)
    if clock is not None:
        body["clock"] = clock
    if sport is Sport.TENNIS:
        _tennis(status, body, places)
    return body
