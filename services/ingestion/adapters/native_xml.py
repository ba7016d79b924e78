"""The native XML format: canonical messages as XML, validated by ``schemas/feed.xsd``.

``<feed>`` holds up to :data:`MAX_BATCH` ``<message>`` elements, or the root is a single
``<message>``. Each message carries its envelope as attributes and one body element
named after its kind. The XSD checks structure and lexical types; the canonical model
then checks values and sport rules, exactly as for JSON. Refusals carry the XML line;
XSD refusals name the element/attribute path, model refusals the canonical path.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, cast

from lxml import etree

from services.ingestion.adapters.base import AdapterError, ParseResult, Refusal
from services.ingestion.adapters.envelope import build_message, readable_ids
from services.ingestion.adapters.xmlsafe import XmlPlaces, parse_untrusted_xml, source_line

MAX_BATCH = 1000
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "feed.xsd"

# Attribute names that differ from the canonical field names, per element.
_MESSAGE_RENAMES = {"message_id": "id", "provider_ts": "ts"}
_MARKET_RENAMES = {"market_key": "key"}
_SETTLED_RENAMES = {"outcome_id": "id"}
_PERIOD_RENAMES = {"period": "name"}

_local = threading.local()


def _schema() -> etree.XMLSchema:
    # One schema per thread: a schema's error log is per object, not per call.
    schema: etree.XMLSchema | None = getattr(_local, "schema", None)
    if schema is None:
        schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
        _local.schema = schema
    return schema


def _attrs(element: etree._Element, renames: dict[str, str] | None = None) -> dict[str, Any]:
    back = {xml: canonical for canonical, xml in (renames or {}).items()}
    return {back.get(str(k), str(k)): str(v) for k, v in element.attrib.items()}


def _children(element: etree._Element, tag: str) -> list[etree._Element]:
    return [child for child in element if child.tag == tag]


class _Converter:
    """Builds the canonical dict of one ``<message>`` and records where each part was."""

    def __init__(self, message: etree._Element) -> None:
        self.places = XmlPlaces(message)
        self.message = message

    def convert(self) -> dict[str, Any]:
        self.places.add("", self.message, _MESSAGE_RENAMES)
        data = _attrs(self.message, _MESSAGE_RENAMES)
        body_element = next(iter(self.message))
        kind = str(body_element.tag)
        data.setdefault("kind", kind)
        self.places.add("body", body_element)
        self.places.add("body.kind", self.message, attr="kind")
        body = _attrs(body_element)
        body["kind"] = kind
        getattr(self, f"_{kind}")(body_element, body)
        data["body"] = body
        return data

    def _fixture(self, element: etree._Element, body: dict[str, Any]) -> None:
        if "best_of" in body:
            body["best_of"] = int(body["best_of"])  # Literal[3, 5] wants an int
        for name in ("competition", "home", "away"):
            for child in _children(element, name):
                self.places.add(f"body.{name}", child)
                body[name] = _attrs(child)

    def _live(self, element: etree._Element, body: dict[str, Any]) -> None:
        for score in _children(element, "score"):
            self.places.add("body.score", score)
            body["score"] = _attrs(score)
            periods = []
            for j, period in enumerate(_children(score, "period")):
                self.places.add(f"body.score.periods[{j}]", period, _PERIOD_RENAMES)
                periods.append(_attrs(period, _PERIOD_RENAMES))
            body["score"]["periods"] = periods
        for name in ("clock", "game"):
            for child in _children(element, name):
                self.places.add(f"body.{name}", child)
                body[name] = _attrs(child)

    def _odds(self, element: etree._Element, body: dict[str, Any]) -> None:
        body["markets"] = self._markets(element, {})

    def _settlement(self, element: etree._Element, body: dict[str, Any]) -> None:
        body["markets"] = self._markets(element, _SETTLED_RENAMES)

    def _markets(
        self, element: etree._Element, outcome_renames: dict[str, str]
    ) -> list[dict[str, Any]]:
        markets = []
        for i, market in enumerate(_children(element, "market")):
            self.places.add(f"body.markets[{i}]", market, _MARKET_RENAMES)
            data = _attrs(market, _MARKET_RENAMES)
            outcomes = []
            for j, outcome in enumerate(_children(market, "outcome")):
                self.places.add(f"body.markets[{i}].outcomes[{j}]", outcome, outcome_renames)
                outcomes.append(_attrs(outcome, outcome_renames))
            data["outcomes"] = outcomes
            markets.append(data)
        return markets

    def _market_keys(self, element: etree._Element, body: dict[str, Any]) -> None:
        keys = []
        for i, market in enumerate(_children(element, "market")):
            self.places.add(f"body.market_keys[{i}]", market, attr="key")
            keys.append(str(market.get("key")))
        # No <market> at all means every market, as market_keys=None does.
        body["market_keys"] = keys or None

    _bet_stop = _cancel = _rollback = _market_keys

    def _alive(self, element: etree._Element, body: dict[str, Any]) -> None:
        pass


class _LogEntry(Protocol):
    line: int
    path: str | None
    message: str


_MESSAGE_PATH = re.compile(r"^(?:/feed/message(?:\[(\d+)\])?|/message)(?=/|$)")
_ATTRIBUTE = re.compile(r"^Element '[^']*'(?:, attribute '([^']*)')?: ")


def _schema_errors(root: etree._Element) -> dict[int, Refusal]:
    """Validate against the XSD: the first error of each message, by message index.

    An error outside any message (the feed itself) makes the payload unreadable.
    """
    schema = _schema()
    if schema.validate(root):
        return {}
    batch = root.tag == "feed"
    refusals: dict[int, Refusal] = {}
    for error in cast(Iterable[_LogEntry], schema.error_log):  # lxml-stubs: not iterable
        path = error.path or ""
        match = _ATTRIBUTE.match(error.message)
        text = _ATTRIBUTE.sub("", error.message).rstrip(".")
        if match and match.group(1):
            path += f"/@{match.group(1)}"
        where = _MESSAGE_PATH.match(path)
        if where is None:
            raise AdapterError(Refusal(reason=f"{path}: {text} (line {error.line})",
                                       field=path or None, line=error.line))
        index = int(where.group(1) or 1) - 1
        if index not in refusals:
            refusals[index] = Refusal(reason=f"{path}: {text} (line {error.line})", field=path,
                                      line=error.line, index=index if batch else None)
    return refusals


def parse_xml(raw: bytes, *, provider: str, received_at: datetime) -> ParseResult:
    """Parse a native XML payload into canonical messages and per-message refusals.

    Raises :class:`AdapterError` for a payload that cannot be read as a whole: unsafe or
    malformed XML (with its line), a root other than ``<feed>``/``<message>``, more than
    :data:`MAX_BATCH` messages, or an XSD error outside any message.
    """
    root = parse_untrusted_xml(raw)
    if root.tag == "feed":
        messages, batch = list(root), True
    elif root.tag == "message":
        messages, batch = [root], False
    else:
        raise AdapterError(Refusal(
            reason=f"root element is <{root.tag}>, expected <feed> or <message>",
            line=source_line(root)))
    if len(messages) > MAX_BATCH:
        raise AdapterError(Refusal(
            reason=f"feed of {len(messages)} messages is over the limit of {MAX_BATCH} "
                   "per request", line=source_line(root)))
    invalid = _schema_errors(root)
    result = ParseResult()
    for index, element in enumerate(messages):
        prefix = f"messages[{index}]" if batch else ""
        position = index if batch else None
        if index in invalid:
            ids = readable_ids({"message_id": element.get("id"),
                                "event_id": element.get("event_id"),
                                "sport": element.get("sport")})
            result.refusals.append(replace(invalid[index], **ids))
            continue
        converter = _Converter(element)
        data = converter.convert()
        outcome = build_message(data, provider=provider, received_at=received_at,
                                prefix=prefix, index=position)
        if isinstance(outcome, Refusal):
            result.refusals.append(converter.places.attach(outcome, prefix))
        else:
            result.messages.append(outcome)
    return result
