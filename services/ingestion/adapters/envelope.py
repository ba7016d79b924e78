"""Turning one provider message, already read into canonical field names, into a FeedMessage.

Shared by every adapter: it adds what only the service knows (provider, received_at),
fills the content-hash ``message_id`` when the provider gave none, and turns every
validation failure into a :class:`Refusal` whose ``field`` points inside the message.
Sport rules run in the envelope's last validator, where pydantic can only blame the
whole message; :func:`rule_field` finds the market, outcome or period at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import DecimalException
from typing import Any, TypedDict

from pydantic import TypeAdapter, ValidationError

from services.ingestion.adapters.base import Refusal, refusal_from_validation
from shared.enums import Sport
from shared.model import (
    BetStopBody,
    Body,
    CancelBody,
    FeedMessage,
    FixtureBody,
    LiveBody,
    OddsBody,
    RollbackBody,
    SettlementBody,
    content_message_id,
)
from shared.rules import RuleViolation, SportRules, checked, rules_for
from shared.rules.base import VOID_FACTORS

# Validated with a placeholder, then replaced by the content hash of the valid message.
_PENDING_ID = "pending"
_BODY: TypeAdapter[Body] = TypeAdapter(Body)


class Ids(TypedDict):
    """What identifies a message in a refusal, as far as it could be read."""

    message_id: str | None
    event_id: str | None
    sport: str | None


def readable_ids(data: Mapping[str, Any]) -> Ids:
    """message_id, event_id and sport of a (possibly invalid) message, where readable."""
    def text(name: str) -> str | None:
        value = data.get(name)
        return value[:128] if isinstance(value, str) and value else None

    sport = text("sport")
    return Ids(
        message_id=text("message_id"),
        event_id=text("event_id"),
        sport=sport if sport in Sport._value2member_map_ else None,
    )


def join(prefix: str, path: str) -> str:
    """Join a batch prefix (``messages[3]``) and a path inside the message."""
    if not prefix:
        return path
    return f"{prefix}.{path}" if path else prefix


def build_message(
    data: Mapping[str, Any], *, provider: str, received_at: datetime, prefix: str = "",
    index: int | None = None,
) -> FeedMessage | Refusal:
    """Validate one message (canonical field names, no provider/received_at) or refuse it."""
    given_id = data.get("message_id")
    full = {
        **data,
        "message_id": _PENDING_ID if given_id is None else given_id,
        "provider": provider,
        "received_at": received_at,
    }
    try:
        message = checked(FeedMessage.model_validate(full))
    except RuleViolation as exc:
        # A sport rule (applied once the message is well-formed): name the part at fault.
        ids = readable_ids(data)
        path = join(prefix, rule_field(data) or "")
        return Refusal(reason=f"{path}: {exc}" if path else str(exc), field=path or None,
                       index=index, **ids)
    except ValidationError as exc:
        ids = readable_ids(data)  # read only for a refusal: this is the hot path
        refusal = refusal_from_validation(exc, prefix=prefix, index=index, **ids)
        first = exc.errors(include_url=False)[0]
        if first["loc"] == ():
            # A model-level error (the body's kind against the envelope's): name the part.
            where = rule_field(data)
            if where:
                path = join(prefix, where)
                message_text = str(first["msg"]).removeprefix("Value error, ")
                refusal = Refusal(reason=f"{path}: {message_text}", field=path, index=index,
                                  **ids)
        return refusal
    except (ValueError, ArithmeticError, TypeError) as exc:
        # Validators that raise something other than ValueError (a datetime that
        # overflows on conversion to UTC, a Decimal operation out of precision) escape
        # pydantic; they are still the payload's fault.
        where = prefix or "message"
        detail = "a number is too large or too precise" if isinstance(
            exc, DecimalException) else str(exc)
        return Refusal(reason=f"{where}: invalid value ({detail})", field=prefix or None,
                       index=index, **readable_ids(data))
    if given_id is None:
        message_id = content_message_id(
            provider, message.sport.value, message.event_id, message.kind.value,
            message.provider_ts, message.body,
        )
        message = message.model_copy(update={"message_id": message_id})
    return message


def rule_field(data: Mapping[str, Any]) -> str | None:
    """The path inside the message of the first thing a sport rule objects to."""
    raw_body = data.get("body")
    if not isinstance(raw_body, Mapping):
        return None
    kind = raw_body.get("kind", data.get("kind"))
    if kind != data.get("kind"):
        return "body.kind"
    try:
        rules = rules_for(Sport(str(data.get("sport"))))
        body = _BODY.validate_python({**raw_body, "kind": kind})
    except (ValueError, TypeError, ArithmeticError):
        return None
    if isinstance(body, OddsBody):
        return _odds_field(rules, body)
    if isinstance(body, SettlementBody):
        return _settlement_field(rules, body)
    if isinstance(body, BetStopBody | CancelBody | RollbackBody):
        for i, key in enumerate(body.market_keys or ()):
            if rules.check_market_key(key):
                return f"body.market_keys[{i}]"
        return None
    if isinstance(body, LiveBody):
        return _live_field(rules, body)
    if isinstance(body, FixtureBody) and rules.check_fixture(body):
        return "body.best_of"
    return None


def _odds_field(rules: SportRules, body: OddsBody) -> str | None:
    for i, market in enumerate(body.markets):
        if not rules.check_market(market):
            continue
        here = f"body.markets[{i}]"
        if rules.check_market_key(market.market_key):
            return f"{here}.market_key"
        spec = rules.markets[market.type]
        for j, outcome in enumerate(market.outcomes):
            if outcome.id not in spec.outcomes:
                return f"{here}.outcomes[{j}].id"
        return f"{here}.outcomes"
    return None


def _settlement_field(rules: SportRules, body: SettlementBody) -> str | None:
    for i, market in enumerate(body.markets):
        if not rules.check_settlement(market):
            continue
        here = f"body.markets[{i}]"
        if rules.check_market_key(market.market_key):
            return f"{here}.market_key"
        spec = rules.markets.get(market.market_key.split("|", 1)[0])
        for j, outcome in enumerate(market.outcomes):
            if spec is not None and outcome.outcome_id not in spec.outcomes:
                return f"{here}.outcomes[{j}].outcome_id"
            if outcome.void_factor not in VOID_FACTORS:
                return f"{here}.outcomes[{j}].void_factor"
        return f"{here}.outcomes"  # the winning shares do not add up
    return None


def _live_field(rules: SportRules, body: LiveBody) -> str | None:
    if body.period is not None and body.period not in (*rules.periods, *rules.breaks):
        return "body.period"
    for j, period in enumerate(body.score.periods):
        if period.period not in rules.periods:
            return f"body.score.periods[{j}].period"
    errors = rules.check_live(body)
    if not errors:
        return None
    if any("game points" in e or "tie-break points must" in e or "advantage" in e
           for e in errors):
        return "body.game"
    return "body.score"
