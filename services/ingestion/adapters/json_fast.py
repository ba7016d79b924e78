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

import operator
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetPydanticSchema,
    TypeAdapter,
    ValidationError,
    create_model,
)

from services.ingestion.adapters.base import ParseResult
from shared.enums import OPEN_MARKET_STATUSES, MessageKind, Sport
from shared.live import construct
from shared.markets import Market, Outcome
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
from shared.rules import RULES, SportRules

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


def without_model_validators(schema: Any, classes: frozenset[type]) -> Any:
    """A copy of a core schema whose models of ``classes`` skip their ``model_validator``s.

    The instances are still those classes, with every field validator (prices, market
    keys, times) in place; only the after-validators wrapping the whole model go. The
    fast path then makes their checks itself, in one pass per message
    (:func:`_odds_keys`), instead of one Python call per outcome and market.
    """
    if isinstance(schema, list):
        return [without_model_validators(item, classes) for item in schema]
    if not isinstance(schema, dict):
        return schema
    inner = schema.get("schema")
    if (schema.get("type") == "function-after" and isinstance(inner, dict)
            and inner.get("type") == "model" and inner.get("cls") in classes):
        stripped = without_model_validators(inner, classes)
        if "ref" in schema:
            stripped["ref"] = schema["ref"]
        return stripped
    return {key: without_model_validators(value, classes) for key, value in schema.items()}


# Odds, nearly all the traffic: Outcome._active_needs_price, Market._unique_outcomes and
# OddsBody._unique_markets are checked by _odds_keys instead.
_CHECKED_HERE: frozenset[type] = frozenset((OddsBody, Market, Outcome))
_UNCHECKED_ODDS = without_model_validators(OddsBody.__pydantic_core_schema__, _CHECKED_HERE)
_OddsWireBody = Annotated[OddsBody, GetPydanticSchema(lambda _t, _h: _UNCHECKED_ODDS)]

_BODIES: dict[MessageKind, Any] = {
    MessageKind.FIXTURE: FixtureBody, MessageKind.LIVE: LiveBody,
    MessageKind.ODDS: _OddsWireBody,
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


_FIELDS_SET = operator.attrgetter("__pydantic_fields_set__")


def _odds_keys(body: OddsBody, rules: SportRules) -> int | None:
    """Keys given in an odds body, or None unless it passes every check of the full path.

    Checks what the stripped model validators would have (an active outcome has a
    price, outcome ids and market keys are unique) and the sport's market rules, in the
    same pass that counts the keys.
    """
    n = len(body.__pydantic_fields_set__)
    seen: set[str] = set()
    for market in body.markets:
        outcomes = market.outcomes
        ids = tuple([o.id for o in outcomes])
        key = market.market_key
        if len(set(ids)) != len(ids) or key in seen:
            return None
        seen.add(key)
        for outcome in outcomes:
            if outcome.price is None and outcome.active:
                return None
        if rules.market_errors(key, ids, market.status in OPEN_MARKET_STATUSES):
            return None
        n += len(market.__pydantic_fields_set__) + sum(map(len, map(_FIELDS_SET, outcomes)))
    return n


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


def _keys(wire: Any) -> int | None:
    """Keys given in a wire message and everything in it; None if an odds body breaks a
    check or a rule (then the full path refuses it). Other kinds meet their rules in
    :func:`_message`."""
    body = wire.body
    if isinstance(body, OddsBody):
        n = _odds_keys(body, RULES[wire.sport])
        return None if n is None else n + len(wire.__pydantic_fields_set__)
    return _model_keys(body) + len(wire.__pydantic_fields_set__)


def _message(wire: Any, provider: str, received_at: datetime) -> FeedMessage | None:
    """The canonical message of a checked wire message, or None if the full path must judge."""
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
    if not isinstance(body, OddsBody) and RULES[sport].check_message(message):
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
    try:
        for wire in wires:
            found = _keys(wire)
            if found is None:
                return None
            keys += found
    except (ValueError, ArithmeticError, TypeError):
        return None
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
