"""What every UOF message handler shares: sport ids, timestamps and the document being read.

:class:`UofDocument` holds one parsed UOF document and collects the canonical messages
and refusals made from it. :meth:`UofDocument.emit` builds one message; a
:class:`UofProblem` raised while building it refuses that message only, with the XML
path and line of the element at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from services.ingestion.adapters.base import AdapterError, ParseResult, Refusal
from services.ingestion.adapters.envelope import build_message
from services.ingestion.adapters.uof_markets import UofProblem, is_number
from services.ingestion.adapters.xmlsafe import XmlPlaces, local_name, source_line
from shared.enums import MessageKind, Sport

UOF_SPORT_IDS: dict[int, Sport] = {
    1: Sport.FOOTBALL,  # UOF calls it "Soccer"
    2: Sport.BASKETBALL,
    4: Sport.ICE_HOCKEY,
    5: Sport.TENNIS,
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sport_of_id(text: str, what: str) -> Sport:
    """The sport of a UOF sport id (``1`` or ``sr:sport:1``); ValueError if not carried."""
    number = text.removeprefix("sr:sport:")
    if not is_number(number):
        raise ValueError(f"{what} {text!r} is not a UOF sport id")
    sport = UOF_SPORT_IDS.get(int(number))
    if sport is None:
        carried = ", ".join(f"{k} {v.value}" for k, v in UOF_SPORT_IDS.items())
        raise ValueError(f"UOF sport id {number} is not carried (carried: {carried})")
    return sport


def epoch_ms(element: etree._Element, attr: str) -> datetime:
    """An epoch-milliseconds attribute as a UTC datetime (exact: no float on the way)."""
    text = element.get(attr)
    if text is None or not is_number(text):
        raise UofProblem(f"{attr} {text!r} is not epoch milliseconds", element, attr)
    try:
        return _EPOCH + timedelta(milliseconds=int(text))
    except OverflowError:
        raise UofProblem(f"{attr} {text} is out of range", element, attr) from None


class UofDocument:
    """One UOF document being turned into canonical messages."""

    def __init__(self, root: etree._Element, provider: str, received_at: datetime,
                 sport: Sport) -> None:
        self.root, self.provider, self.received_at, self.sport = root, provider, received_at, sport
        self.places = XmlPlaces(root)
        self.result = ParseResult()

    def refusal(self, problem: UofProblem, event_id: str | None) -> Refusal:
        """A refusal pointing at the element (and attribute) at fault."""
        where = self.places.xpath(problem.element) + (f"/@{problem.attr}" if problem.attr else "")
        line = source_line(problem.element)
        return Refusal(reason=f"{where}: {problem.reason} (line {line})", field=where, line=line,
                       event_id=event_id, sport=self.sport.value)

    def fail(self, problem: UofProblem) -> AdapterError:
        """The document as a whole cannot be read (its envelope is broken)."""
        return AdapterError(self.refusal(problem, None))

    def refuse(self, problem: UofProblem, event_id: str | None) -> None:
        """Record a refusal of one message of this document."""
        self.result.refusals.append(self.refusal(problem, event_id))

    def envelope(self) -> tuple[str, datetime]:
        """The event id and timestamp a UOF feed message carries on its root."""
        event_id = self.root.get("event_id")
        if not event_id:
            raise self.fail(UofProblem(f"<{local_name(self.root)}> has no event_id", self.root,
                                       "event_id"))
        try:
            return event_id, epoch_ms(self.root, "timestamp")
        except UofProblem as problem:
            raise self.fail(problem) from None

    def emit(self, event_id: str, kind: MessageKind, provider_ts: datetime,
             body: Callable[[XmlPlaces], dict[str, Any]], anchor: etree._Element) -> None:
        """Build one canonical message; a problem refuses it and only it."""
        places = XmlPlaces(self.root)
        places.add("", self.root, {"provider_ts": "timestamp"})
        places.add("body", anchor)
        try:
            data = {"sport": self.sport, "event_id": event_id, "kind": kind,
                    "provider_ts": provider_ts, "body": {"kind": kind, **body(places)}}
        except UofProblem as problem:
            self.refuse(problem, event_id)
            return
        outcome = build_message(data, provider=self.provider, received_at=self.received_at)
        if isinstance(outcome, Refusal):
            self.result.refusals.append(places.attach(outcome))
        else:
            self.result.messages.append(outcome)

    def child(self, name: str, parent: etree._Element | None = None) -> etree._Element | None:
        """The first child element called ``name`` (any namespace) of parent or the root."""
        return next((c for c in (self.root if parent is None else parent)
                     if local_name(c) == name), None)

    def children(self, name: str, parent: etree._Element | None = None) -> list[etree._Element]:
        """The child elements called ``name`` (any namespace) of parent or the root."""
        return [c for c in (self.root if parent is None else parent) if local_name(c) == name]
