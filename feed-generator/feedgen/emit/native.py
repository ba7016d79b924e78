"""The platform's native formats: canonical messages as JSON and as XML.

JSON is :class:`shared.model.FeedMessage` without ``provider`` and ``received_at``
(ingestion sets both), batched as ``{"messages": [...]}``. XML follows
``services/ingestion/schemas/feed.xsd``: a ``<feed>`` of ``<message>`` elements whose
attributes carry the envelope (``id``, ``sport``, ``event_id``, ``kind``, ``ts``) and
one body element named after the kind. Prices are written as their exact decimal text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from shared.model import (
    AliveBody,
    BetStopBody,
    FeedMessage,
    FixtureBody,
    LiveBody,
    OddsBody,
    SettlementBody,
)

_ENVELOPE_ONLY = {"provider", "received_at"}


def json_message(message: FeedMessage) -> bytes:
    """One message as native JSON (no provider, no received_at, no nulls)."""
    return message.model_dump_json(exclude=_ENVELOPE_ONLY, exclude_none=True).encode()


def json_batch(parts: Sequence[bytes]) -> bytes:
    """Messages encoded by :func:`json_message` as one ``{"messages": [...]}`` payload."""
    return b'{"messages":[' + b",".join(parts) + b"]}"


def iso(value: datetime) -> str:
    """A UTC time as xs:dateTime with milliseconds and an explicit offset."""
    return value.isoformat(timespec="milliseconds")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+3": xs:decimal has no exponent
    return str(value.value if hasattr(value, "value") else value)


def _sub(parent: etree._Element, tag: str, **attrs: Any) -> etree._Element:
    return etree.SubElement(parent, tag, {k: _text(v) for k, v in attrs.items() if v is not None})


def xml_element(message: FeedMessage) -> etree._Element:
    """One ``<message>`` element."""
    root = etree.Element("message", {
        "id": message.message_id, "sport": message.sport.value, "event_id": message.event_id,
        "kind": message.kind.value, "ts": iso(message.provider_ts),
    })
    body = message.body
    element = _sub(root, message.kind.value)
    if isinstance(body, FixtureBody):
        for name, value in (("start_time", body.start_time), ("status", body.status),
                            ("best_of", body.best_of)):
            if value is not None:
                element.set(name, _text(value))
        if body.competition is not None:
            _sub(element, "competition", **body.competition.model_dump())
        for side in ("home", "away"):
            competitor = getattr(body, side)
            if competitor is not None:
                _sub(element, side, id=competitor.id, name=competitor.name)
    elif isinstance(body, LiveBody):
        _live(element, body)
    elif isinstance(body, OddsBody):
        if body.producer is not None:
            element.set("producer", body.producer)
        for market in body.markets:
            node = _sub(element, "market", key=market.market_key, status=market.status)
            for outcome in market.outcomes:
                _sub(node, "outcome", id=outcome.id, price=outcome.price, active=outcome.active)
    elif isinstance(body, BetStopBody):
        for name in ("producer", "reason"):
            if getattr(body, name) is not None:
                element.set(name, getattr(body, name))
        for key in body.market_keys or ():
            _sub(element, "market", key=key)
    elif isinstance(body, SettlementBody):
        element.set("certainty", body.certainty)
        for settled in body.markets:
            node = _sub(element, "market", key=settled.market_key)
            for o in settled.outcomes:
                _sub(node, "outcome", id=o.outcome_id, result=o.result,
                     void_factor=o.void_factor or None, dead_heat_factor=o.dead_heat_factor)
    elif isinstance(body, AliveBody):
        if body.producer is not None:
            element.set("producer", body.producer)
        element.set("subscribed", _text(body.subscribed))
    else:  # cancel and rollback are not generated
        raise ValueError(f"the generator does not emit {message.kind.value} messages")
    return root


def _live(element: etree._Element, body: LiveBody) -> None:
    element.set("status", body.status.value)
    if body.period is not None:
        element.set("period", body.period)
    if body.server is not None:
        element.set("server", body.server)
    score = _sub(element, "score", home=body.score.home, away=body.score.away)
    for p in body.score.periods:
        _sub(score, "period", name=p.period, home=p.home, away=p.away,
             tiebreak_home=p.tiebreak_home, tiebreak_away=p.tiebreak_away)
    if body.clock is not None:
        _sub(element, "clock", seconds=body.clock.seconds, running=body.clock.running,
             stoppage_seconds=body.clock.stoppage_seconds)
    if body.game is not None:
        _sub(element, "game", home=body.game.home, away=body.game.away)


def xml_message(message: FeedMessage) -> bytes:
    """One ``<message>`` element as bytes (no XML declaration: it is batched)."""
    return bytes(etree.tostring(xml_element(message), encoding="utf-8", xml_declaration=False))


def xml_batch(parts: Sequence[bytes]) -> bytes:
    """Messages encoded by :func:`xml_message` as one ``<feed>`` document."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<feed>' + b"".join(parts) + b"</feed>"
