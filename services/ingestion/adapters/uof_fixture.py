"""The UOF API fixture document (``<fixtures_fixture>``) to a complete canonical fixture.

Unlike the feed's ``fixture_change`` (which only says that something changed), the API's
fixture names the competition (``tournament``), both competitors (by ``qualifier``),
the start time and the status, so it can create an event on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from services.ingestion.adapters.uof_document import UofDocument, sport_of_id
from services.ingestion.adapters.uof_markets import UofProblem, is_number
from services.ingestion.adapters.xmlsafe import XmlPlaces
from shared.enums import EventStatus, MessageKind, Sport


def _generated_at(doc: UofDocument) -> datetime:
    text = doc.root.get("generated_at")
    if text is None:
        return doc.received_at  # the API document has no other time of its own
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise doc.fail(UofProblem(f"generated_at {text!r} is not an ISO-8601 time", doc.root,
                                  "generated_at")) from None
    if value.tzinfo is None:
        raise doc.fail(UofProblem(f"generated_at {text!r} has no time zone", doc.root,
                                  "generated_at"))
    return value


def _check_sport(doc: UofDocument, tournament: etree._Element | None) -> None:
    sport = doc.child("sport", tournament) if tournament is not None else None
    if sport is None or sport.get("id") is None:
        return
    try:
        found = sport_of_id(str(sport.get("id")), "sport id")
    except ValueError as exc:
        raise doc.fail(UofProblem(str(exc), sport, "id")) from None
    if found is not doc.sport:
        raise doc.fail(UofProblem(
            f"the fixture is {found.value} but the message was sent as {doc.sport.value}",
            sport, "id"))


def _competition(doc: UofDocument, fixture: etree._Element,
                 tournament: etree._Element | None, places: XmlPlaces) -> dict[str, Any] | None:
    if tournament is None:
        return None
    places.add("body.competition", tournament)
    competition: dict[str, Any] = {"id": tournament.get("id"), "name": tournament.get("name")}
    category = doc.child("category", tournament)
    if category is not None and category.get("name"):
        # A UOF category is the country or region of the tournament ("England").
        competition["country"] = category.get("name")
        places.add("body.competition.country", category, attr="name")
    season = doc.child("season", fixture)
    if season is not None and (season.get("year") or season.get("name")):
        competition["season"] = season.get("year") or season.get("name")
        places.add("body.competition.season", season, attr="year")
    return competition


def _best_of(doc: UofDocument, fixture: etree._Element, places: XmlPlaces) -> int | None:
    extra = doc.child("extra_info", fixture)
    for info in doc.children("info", extra) if extra is not None else ():
        if info.get("key") == "best_of":
            places.add("body.best_of", info, attr="value")
            value = info.get("value", "")
            if not is_number(value):
                raise UofProblem(f"best_of {value!r} is not a number", info, "value")
            return int(value)
    return None


def _body(doc: UofDocument, fixture: etree._Element, places: XmlPlaces) -> dict[str, Any]:
    tournament = doc.child("tournament", fixture)
    body: dict[str, Any] = {}
    competition = _competition(doc, fixture, tournament, places)
    if competition is not None:
        body["competition"] = competition
    start = fixture.get("start_time") or fixture.get("scheduled")
    if start is not None:
        body["start_time"] = start
        places.add("body.start_time", fixture, attr="start_time")
    status = fixture.get("status")
    if status is not None:
        if status not in EventStatus._value2member_map_:
            raise UofProblem(f"fixture status {status!r} is not an event status", fixture,
                             "status")
        body["status"] = status
    competitors = doc.child("competitors", fixture)
    for competitor in doc.children("competitor", competitors) if competitors is not None else ():
        side = competitor.get("qualifier")
        if side not in ("home", "away"):
            raise UofProblem(f"competitor qualifier {side!r} is not home or away", competitor,
                             "qualifier")
        if side in body:
            raise UofProblem(f"two competitors are {side}", competitor, "qualifier")
        places.add(f"body.{side}", competitor)
        body[side] = {"id": competitor.get("id"), "name": competitor.get("name")}
    if doc.sport is Sport.TENNIS:
        best_of = _best_of(doc, fixture, places)
        if best_of is not None:
            body["best_of"] = best_of
    return body


def api_fixture(doc: UofDocument) -> None:
    """Turn a ``<fixtures_fixture>`` API document into one complete fixture message."""
    fixture = doc.child("fixture")
    if fixture is None:
        raise doc.fail(UofProblem("<fixtures_fixture> holds no <fixture>", doc.root))
    event_id = fixture.get("id")
    if not event_id:
        raise doc.fail(UofProblem("<fixture> has no id", fixture, "id"))
    provider_ts = _generated_at(doc)
    _check_sport(doc, doc.child("tournament", fixture))
    doc.emit(event_id, MessageKind.FIXTURE, provider_ts,
             lambda places: _body(doc, fixture, places), fixture)
