"""The native JSON fast path: a well-formed payload in one pass, no refusal ever made here.

:func:`parse_json_fast` either returns exactly what the full path
(:func:`services.ingestion.adapters.native_json.parse_json_full`) would return for the
payload — every message accepted, none refused — or ``None``, and the full path then
reads the payload again and builds its precise refusals (field, reason). So every
refusal stays the full path's.

It reads the payload as the full path does (the standard library's reader, with
``Decimal`` for every number that is not an integer, so prices stay exact) and validates
each message with the canonical model in the same (Python) mode, on the same values,
so both paths agree by construction. What it saves:

- the full path's duplicate-key hook, a Python call per JSON object: here a key given
  twice is found by counting instead — the colons outside strings are exactly the keys
  (:func:`outside_strings`, one C-level pass), and they must equal the fields pydantic
  saw set in every model (the keys this function adds itself aside);
- the per-instance ``model_validator``s of the odds models and of the envelope, a Python
  call per outcome and per market: they are taken out of the validation schema
  (:func:`without_model_validators`; the instances are still the canonical classes, with
  every field validator) and their checks run in one pass per message
  (:func:`_odds_keys`) that also applies the sport's market rules and counts the keys;
- the refusal bookkeeping (ids for refusals, the ``NaN`` walk, copies of every message).

``NaN``/``Infinity`` outside strings, a byte-order mark, anything that fails any check:
``None``. ``tests/unit/test_adapters_json_fast.py`` checks on fuzzed payloads that
whenever this answers, its messages and their Kafka bytes equal the full path's.

Measured against validating straight from the bytes with ``model_validate_json`` (strict
JSON mode, wire envelopes around the canonical bodies), which this replaced: pydantic-core
building every string and ``Decimal`` itself cost more than the C reader plus Python-mode
validation, 35.9 against 18.2 µs per message for the validation alone (best of 36 runs,
same process; see ``docs/ingestion.md``).
"""

from __future__ import annotations

import json
import operator
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator

from services.ingestion.adapters.base import ParseResult
from shared.enums import OPEN_MARKET_STATUSES
from shared.markets import Market, Outcome
from shared.model import FeedMessage, OddsBody, content_message_id
from shared.rules import RULES, SportRules

MAX_BATCH = 1000
# Validated with a placeholder, then replaced by the content hash, as the full path does.
_PENDING_ID = "pending"

# Every JSON string (in valid JSON every quote outside a string opens one, so removing
# the matches left to right removes exactly the strings).
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BOM = b"\xef\xbb\xbf"
_DECODER = json.JSONDecoder(parse_float=Decimal)  # the full path's reader, minus its hooks


def outside_strings(raw: bytes) -> bytes:
    """The payload with every string removed: its structure, numbers and literals."""
    if b"\\" not in raw:  # no escapes (the usual case): every quote delimits a string
        return b"".join(raw.split(b'"')[::2])
    return _STRINGS.sub(b"", raw)


def without_model_validators(schema: Any, classes: frozenset[type]) -> Any:
    """A copy of a core schema whose models of ``classes`` skip their ``model_validator``s.

    The instances are still those classes, with every field validator (prices, market
    keys, times) in place; only the after-validators wrapping a whole model go.
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


# FeedMessage._consistent, OddsBody._unique_markets, Market._unique_outcomes and
# Outcome._active_needs_price are checked by _checked_keys instead; the other kinds'
# model validators stay (they are rare, and not per outcome).
_CHECKED_HERE: frozenset[type] = frozenset((FeedMessage, OddsBody, Market, Outcome))
_MESSAGE = SchemaValidator(
    without_model_validators(FeedMessage.__pydantic_core_schema__, _CHECKED_HERE))
_FIELDS_SET = operator.attrgetter("__pydantic_fields_set__")


def _odds_keys(body: OddsBody, rules: SportRules) -> int | None:
    """Keys given in an odds body, or None unless it passes every check of the full path:
    an active outcome has a price, outcome ids and market keys are unique, and the
    sport's market rules hold (cached by key, outcome ids and openness)."""
    n = len(body.__pydantic_fields_set__)
    seen: set[str] = set()
    for market in body.markets:
        outcomes = market.outcomes
        ids = tuple([o.id for o in outcomes])
        key = market.market_key
        if len(set(ids)) != len(ids) or key in seen:
            return None
        seen.add(key)
        if None in [o.price for o in outcomes] and any(
                o.price is None and o.active for o in outcomes):
            return None
        if rules.market_errors(key, ids, market.status in OPEN_MARKET_STATUSES):
            return None
        n += len(market.__pydantic_fields_set__) + sum(map(len, map(_FIELDS_SET, outcomes)))
    return n


def _model_keys(model: BaseModel) -> int:
    """Keys given in a model and every model inside it."""
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


def _checked_keys(message: FeedMessage) -> int | None:
    """Keys set in a validated message, or None if a check or a sport rule fails."""
    body = message.body
    if body.kind != message.kind:
        return None
    rules = RULES[message.sport]
    if isinstance(body, OddsBody):
        n = _odds_keys(body, rules)
        return None if n is None else n + len(message.__pydantic_fields_set__)
    if rules.check_message(message):
        return None
    return _model_keys(body) + len(message.__pydantic_fields_set__)


def _items(value: Any) -> tuple[list[Any], int] | None:
    """The messages of a payload, and the keys outside them (1 for ``{"messages": …}``)."""
    if isinstance(value, dict) and "messages" in value:
        items = value["messages"]
        if len(value) != 1 or not isinstance(items, list):
            return None
        outside = 1
    elif isinstance(value, dict):
        return [value], 0
    elif isinstance(value, list):
        items, outside = value, 0
    else:
        return None
    if not items or len(items) > MAX_BATCH:
        return None
    return items, outside


def _message(item: Any, provider: str, received_at: datetime) -> tuple[FeedMessage, int] | None:
    """One message validated as the full path does, and the keys this function added."""
    if not isinstance(item, dict) or "received_at" in item:
        return None
    if item.get("provider", provider) != provider:
        return None
    added = 1 + ("provider" not in item) + ("message_id" not in item)
    given_id = item.get("message_id")
    body = item.get("body")
    if isinstance(body, dict) and "kind" not in body and "kind" in item:
        body["kind"] = item["kind"]  # a provider need not repeat the kind in the body
        added += 1
    item["provider"], item["received_at"] = provider, received_at
    item["message_id"] = _PENDING_ID if given_id is None else given_id
    message: FeedMessage = _MESSAGE.validate_python(item)
    if given_id is None:
        message.__dict__["message_id"] = content_message_id(
            provider, message.sport.value, message.event_id, message.kind.value,
            message.provider_ts, message.body,
        )
    return message, added


def parse_json_fast(raw: bytes, *, provider: str, received_at: datetime) -> ParseResult | None:
    """Every message of a well-formed payload, or None when the full path must read it."""
    if raw.startswith(_BOM):
        return None
    rest = outside_strings(raw)
    if b"N" in rest or b"I" in rest:  # NaN, Infinity (true/false/null are lower case)
        return None
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, malformed, a 5000-digit integer…
        return None
    found = _items(value)
    if found is None:
        return None
    items, keys = found
    received = received_at.astimezone(UTC)
    messages = []
    try:
        for item in items:
            made = _message(item, provider, received)
            if made is None:
                return None
            message, added = made
            checked = _checked_keys(message)
            if checked is None:
                return None
            keys += checked - added
            messages.append(message)
    except (ValidationError, ValueError, ArithmeticError, TypeError):
        return None
    # Outside strings, colons are exactly the keys: fewer in the models means a key was
    # given twice somewhere, which the full path refuses.
    if keys != rest.count(b":"):
        return None
    return ParseResult(messages=messages)
