"""The native JSON fast path: pydantic-core validates a well-formed payload from its bytes.

:func:`parse_json_fast` either returns exactly what the full path
(:mod:`services.ingestion.adapters.native_json`) would return for the payload — every
message accepted, none refused — or ``None``, and the full path then reads the payload
again and builds its precise refusals. It never refuses anything itself, so the
refusals (field, line, reason) stay the full path's alone.

The payload is validated in one call, straight from the bytes, in pydantic's *strict*
JSON mode, against wire envelopes that hold the canonical body classes themselves
(``shared.model``): the bodies, markets and prices are validated by the very code the
full path runs, with no Python dict built in between. What JSON mode cannot see, the
guards below check on the raw bytes before the result is trusted:

- a key repeated in one object (JSON parsers keep the last; the full path refuses the
  payload): the keys in the bytes are counted and compared with the fields pydantic
  saw set in every model;
- JSON numbers whose Decimal would differ from the text (pydantic-core reads numbers
  as binary floats): more than 15 digits, an exponent, or trailing zeros after the
  point (a void factor of ``0.50`` must stay ``0.50``, as the full path keeps it);
- ``NaN`` / ``Infinity`` outside strings, and a UTF-8 byte-order mark.

The keys and numbers are found on the payload with its strings removed
(:func:`outside_strings`, one C-level pass), where every colon is a key.

Any doubt means ``None``: the full path decides. The equivalence of the two paths is
tested on fuzzed payloads (``tests/unit/test_adapters_json_fast.py``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from services.ingestion.adapters.base import ParseResult
from shared.enums import MessageKind, Sport
from shared.live import construct
from shared.model import (
    AliveBody,
    BetStopBody,
    CancelBody,
    FeedMessage,
    FixtureBody,
    Identifier,
    LiveBody,
    OddsBody,
    RollbackBody,
    SettlementBody,
    UtcDatetime,
    content_message_id,
)
from shared.rules import RULES

MAX_BATCH = 1000

# Every JSON string (in valid JSON every quote outside a string opens one, so removing
# the matches left to right removes exactly the strings).
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# Among number literals (strings removed): those whose Decimal a float-based reader
# could change: a fraction ending in zero, an exponent, more digits than a double keeps.
_RISKY_NUMBER = re.compile(rb"[0-9]*\.[0-9]*0(?![0-9])|[0-9][eE]|[0-9.]{16}")
_BOM = b"\xef\xbb\xbf"


def outside_strings(raw: bytes) -> bytes:
    """The payload with every string removed: its structure, numbers and literals."""
    if b"\\" not in raw:  # no escapes (the usual case): every quote delimits a string
        return b"".join(raw.split(b'"')[::2])
    return _STRINGS.sub(b"", raw)


def _plain(rest: bytes) -> bool:
    """No NaN/Infinity and no number whose Decimal could differ from its text."""
    if b"N" in rest or b"I" in rest:  # NaN, Infinity (true/false/null are lower case)
        return False
    if b"." not in rest and b"e" not in rest and b"E" not in rest:
        return True  # integers only
    return _RISKY_NUMBER.search(rest) is None


class _Wire(BaseModel):
    """The envelope as providers send it (no ``received_at``; ``provider`` optional)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    provider: str = ""
    sport: Sport
    event_id: Identifier
    provider_ts: UtcDatetime


_BODIES: dict[MessageKind, type[BaseModel]] = {
    MessageKind.FIXTURE: FixtureBody, MessageKind.LIVE: LiveBody, MessageKind.ODDS: OddsBody,
    MessageKind.BET_STOP: BetStopBody, MessageKind.SETTLEMENT: SettlementBody,
    MessageKind.CANCEL: CancelBody, MessageKind.ROLLBACK: RollbackBody,
    MessageKind.ALIVE: AliveBody,
}
# One wire class per kind, tagged by the envelope's kind: a body may leave out its own
# ``kind`` (the class's default is the envelope's), and a body of another kind fails.
_WIRES = tuple(
    create_model(f"_Wire_{kind.value}", __base__=_Wire,
                 kind=(Literal[kind], ...), body=(body_class, ...))  # type: ignore[arg-type]
    for kind, body_class in _BODIES.items()
)
_WIRE_MESSAGE: Any = Annotated[Union[_WIRES], Field(discriminator="kind")]  # noqa: UP007
_MESSAGES: Any = Annotated[list[_WIRE_MESSAGE], Field(min_length=1, max_length=MAX_BATCH)]
_BATCH: type[BaseModel] = create_model(
    "_WireBatch", __config__=ConfigDict(frozen=True, extra="forbid"), messages=(_MESSAGES, ...),
)
_ONE: TypeAdapter[Any] = TypeAdapter(_WIRE_MESSAGE)
_ARRAY: TypeAdapter[list[Any]] = TypeAdapter(_MESSAGES)


def _validate(raw: bytes) -> tuple[list[Any], int] | None:
    """The wire messages of a payload (one, an array, or ``{"messages": [...]}``), and
    the keys the payload holds outside them (1 for the batch object's ``messages``)."""
    first = raw.lstrip()[:1]
    try:
        if first == b"[":
            return _ARRAY.validate_json(raw, strict=True), 0
        if first != b"{":
            return None
        if b'"messages"' in raw:  # perhaps a batch object (or a string that says so)
            try:
                return _BATCH.model_validate_json(raw, strict=True).messages, 1  # type: ignore[attr-defined]
            except ValidationError:
                pass
        return [_ONE.validate_json(raw, strict=True)], 0
    except ValidationError:
        return None


def _set(model: BaseModel) -> int:
    return len(model.__pydantic_fields_set__)


def _body_keys(body: BaseModel) -> int:
    """Keys given in a body and everything inside it (the fields pydantic saw set)."""
    if isinstance(body, OddsBody):  # the hot case, unrolled
        n = _set(body)
        for market in body.markets:
            n += _set(market)
            for outcome in market.outcomes:
                n += _set(outcome)
        return n
    return _model_keys(body)


def _model_keys(model: BaseModel) -> int:
    fields = model.__pydantic_fields_set__
    n = len(fields)
    values = model.__dict__
    for name in fields:
        value = values[name]
        if isinstance(value, BaseModel):
            n += _model_keys(value)
        elif isinstance(value, tuple):
            n += sum(_model_keys(v) for v in value if isinstance(v, BaseModel))
    return n


def _message(wire: Any, provider: str, received_at: datetime) -> FeedMessage | None:
    """The canonical message of a validated wire message, or None if the full path must judge."""
    if wire.provider != provider and "provider" in wire.__pydantic_fields_set__:
        return None
    body, sport, kind = wire.body, wire.sport, wire.kind
    message_id = wire.message_id
    if message_id is None:
        message_id = content_message_id(
            provider, sport.value, wire.event_id, kind.value, wire.provider_ts, body
        )
    message = construct(FeedMessage, {
        "message_id": message_id, "provider": provider, "sport": sport,
        "event_id": wire.event_id, "kind": kind, "provider_ts": wire.provider_ts,
        "received_at": received_at, "body": body,
    })
    if RULES[sport].check_message(message):
        return None
    return message


def parse_json_fast(raw: bytes, *, provider: str, received_at: datetime) -> ParseResult | None:
    """Every message of a well-formed payload, or None when the full path must read it."""
    if raw.startswith(_BOM):
        return None
    rest = outside_strings(raw)
    if not _plain(rest):
        return None
    validated = _validate(raw)
    if validated is None:
        return None
    wires, keys = validated
    for wire in wires:
        keys += _set(wire) + _body_keys(wire.body)
    # Outside strings, colons are exactly the keys: fewer in the models means a key was
    # given twice somewhere, which the full path refuses.
    if keys != rest.count(b":"):
        return None
    received = received_at.astimezone(UTC)
    messages = []
    for wire in wires:
        try:
            message = _message(wire, provider, received)
        except (ValueError, ArithmeticError, TypeError):
            return None
        if message is None:
            return None
        messages.append(message)
    return ParseResult(messages=messages)
