"""The Sportradar Unified Odds Feed (UOF) XML adapter.

One UOF document is one message about one event (``alive`` is about a producer). It
becomes zero or more canonical messages: an ``odds_change`` gives a ``live`` message
(from its ``sport_event_status``) and an ``odds`` message (only the markets present);
the others give one message each, except a ``bet_cancel`` whose markets carry different
void reasons, which gives one ``cancel`` per reason. UOF carries no message ids, so ids
are content hashes. The sport is not in the message: the service passes it, from the
AMQP routing key (:func:`sport_from_uof_routing`). See ``docs/feeds.md`` for mappings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from lxml import etree

from services.ingestion.adapters.base import AdapterError, ParseResult, Refusal
from services.ingestion.adapters.uof_document import (
    UOF_SPORT_IDS,
    UofDocument,
    epoch_ms,
    sport_of_id,
)
from services.ingestion.adapters.uof_fixture import api_fixture
from services.ingestion.adapters.uof_markets import (
    UofProblem,
    market_keys,
    odds_markets,
    settlement_markets,
)
from services.ingestion.adapters.uof_status import live_body
from services.ingestion.adapters.xmlsafe import (
    XmlPlaces,
    local_name,
    parse_untrusted_xml,
    source_line,
)
from shared.enums import EventStatus, MessageKind, Sport
from shared.model import ALIVE_EVENT_ID

__all__ = ["UOF_SPORT_IDS", "parse_uof", "sport_from_uof_routing"]

_CERTAINTY = {"1": "live_scouted", "2": "confirmed"}
_FIXTURE_CHANGE_CANCELLED = "3"  # UOF change_type 3: the event was cancelled


def sport_from_uof_routing(value: str) -> Sport:
    """The sport of a UOF message from a sport id (``"1"``, ``"sr:sport:1"``) or routing key.

    A routing key has eight dot-separated parts,
    ``priority.pre.live.message_type.sport_id.urn_type.event_id.node_id``, e.g.
    ``hi.pre.-.odds_change.1.sr:match.123.-``. Raises ValueError naming the problem.
    """
    value = value.strip()
    if "." not in value:
        return sport_of_id(value, "sport id")
    parts = value.split(".")
    if len(parts) != 8:
        raise ValueError(f"routing key {value!r} has {len(parts)} parts, expected 8 "
                         "(priority.pre.live.message_type.sport_id.urn_type.event_id.node)")
    if parts[4] == "-":
        raise ValueError(f"routing key {value!r} names no sport (its {parts[3]} is not "
                         "about one event)")
    return sport_of_id(parts[4], f"routing key {value!r}: sport id")


def _odds_change(doc: UofDocument) -> None:
    event_id, ts = doc.envelope()
    status = doc.child("sport_event_status")
    odds = doc.child("odds")
    if status is not None:
        doc.emit(event_id, MessageKind.LIVE, ts,
                 lambda places: live_body(status, doc.sport, places), status)
    if odds is not None and doc.children("market", odds):
        def body(places: XmlPlaces) -> dict[str, Any]:
            places.add("body.producer", doc.root, attr="product")
            return {"markets": odds_markets(odds, doc.sport, places),
                    "producer": doc.root.get("product")}
        doc.emit(event_id, MessageKind.ODDS, ts, body, odds)
    if status is None and (odds is None or not doc.children("market", odds)):
        doc.refuse(UofProblem(
            "odds_change carries neither sport_event_status nor any market: nothing to apply",
            doc.root), event_id)


def _bet_stop(doc: UofDocument) -> None:
    event_id, ts = doc.envelope()
    # UOF names market groups, not markets; without the group catalogue no list of
    # markets can be derived, so a bet stop suspends all markets (the safe side).
    reasons = [f"{name}={doc.root.get(name)}" for name in ("groups", "market_status")
               if doc.root.get(name) is not None]
    doc.emit(event_id, MessageKind.BET_STOP, ts, lambda places: {
        "market_keys": None, "producer": doc.root.get("product"),
        "reason": "; ".join(reasons) or None,
    }, doc.root)


def _bet_settlement(doc: UofDocument) -> None:
    event_id, ts = doc.envelope()
    holder = doc.child("outcomes")

    def body(places: XmlPlaces) -> dict[str, Any]:
        certainty = doc.root.get("certainty", "2")
        if certainty not in _CERTAINTY:
            raise UofProblem(f"certainty {certainty!r} is not 1 (live scouted) or 2 "
                             "(confirmed)", doc.root, "certainty")
        markets = settlement_markets(holder, doc.sport, places) if holder is not None else []
        return {"markets": markets, "certainty": _CERTAINTY[certainty]}

    doc.emit(event_id, MessageKind.SETTLEMENT, ts, body, holder if holder is not None else doc.root)


def _required_markets(doc: UofDocument, what: str) -> list[etree._Element]:
    markets = doc.children("market")
    if not markets:
        # Canonically no list means "all markets": never infer that from an empty UOF list.
        raise UofProblem(f"{what} names no market", doc.root)
    return markets


def _bet_cancel(doc: UofDocument) -> None:
    event_id, ts = doc.envelope()
    try:
        markets = _required_markets(doc, "bet_cancel")
        window = {name: epoch_ms(doc.root, name) for name in ("start_time", "end_time")
                  if doc.root.get(name) is not None}
    except UofProblem as problem:
        doc.refuse(problem, event_id)
        return
    # The canonical cancel has one void reason: one message per distinct reason.
    groups: dict[str | None, list[etree._Element]] = {}
    for market in markets:
        groups.setdefault(market.get("void_reason"), []).append(market)
    for reason, group in groups.items():
        def body(places: XmlPlaces, group: list[etree._Element] = group,
                 reason: str | None = reason) -> dict[str, Any]:
            return {"market_keys": market_keys(group, doc.sport, places),
                    "void_reason": reason, **window}
        doc.emit(event_id, MessageKind.CANCEL, ts, body, doc.root)


def _rollback(of: str) -> Callable[[UofDocument], None]:
    def handle(doc: UofDocument) -> None:
        event_id, ts = doc.envelope()
        doc.emit(event_id, MessageKind.ROLLBACK, ts, lambda places: {
            "of": of,
            "market_keys": market_keys(_required_markets(doc, f"rollback of {of}"), doc.sport,
                                       places),
        }, doc.root)
    return handle


def _fixture_change(doc: UofDocument) -> None:
    event_id, ts = doc.envelope()

    def body(places: XmlPlaces) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if doc.root.get("start_time") is not None:
            fields["start_time"] = epoch_ms(doc.root, "start_time")
        if doc.root.get("change_type") == _FIXTURE_CHANGE_CANCELLED:
            fields["status"] = EventStatus.CANCELLED
        return fields

    doc.emit(event_id, MessageKind.FIXTURE, ts, body, doc.root)


def _alive(doc: UofDocument) -> None:
    try:
        ts = epoch_ms(doc.root, "timestamp")
    except UofProblem as problem:
        raise doc.fail(problem) from None
    doc.emit(ALIVE_EVENT_ID, MessageKind.ALIVE, ts, lambda places: {
        "producer": doc.root.get("product"), "subscribed": doc.root.get("subscribed") != "0",
    }, doc.root)


_HANDLERS: dict[str, Callable[[UofDocument], None]] = {
    "odds_change": _odds_change,
    "bet_stop": _bet_stop,
    "bet_settlement": _bet_settlement,
    "bet_cancel": _bet_cancel,
    "rollback_bet_settlement": _rollback("settlement"),
    "rollback_bet_cancel": _rollback("cancel"),
    "fixture_change": _fixture_change,
    "alive": _alive,
    "fixtures_fixture": api_fixture,
}


def parse_uof(raw: bytes, *, provider: str, received_at: datetime, sport: Sport) -> ParseResult:
    """Parse one UOF XML message (or an API fixture document) into canonical messages.

    Raises :class:`AdapterError` for unsafe or malformed XML, a root element that is not
    a UOF message, or a message whose event id or timestamp cannot be read. Problems
    inside one canonical message (an unmapped outcome, an unknown status code, a value
    the model refuses) refuse that message only, with the XML path and line.
    """
    root = parse_untrusted_xml(raw)
    name = local_name(root)
    handler = _HANDLERS.get(name)
    if handler is None:
        raise AdapterError(Refusal(
            reason=f"root element <{name}> is not a UOF message this feed carries "
                   f"({', '.join(sorted(_HANDLERS))})", line=source_line(root)))
    doc = UofDocument(root, provider, received_at, sport)
    handler(doc)
    return doc.result
