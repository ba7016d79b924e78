"""The native JSON format: canonical messages as JSON, one or a batch per request.

The wire shape is :class:`shared.model.FeedMessage` without ``provider`` and
``received_at`` (the service sets both from authentication and its clock), with
``message_id`` optional (default: a content hash) and the body's ``kind`` optional
(the envelope's ``kind`` fills it). A payload is one message object, an array of
messages or ``{"messages": [...]}``. Parsing uses the standard library with
``parse_float=Decimal``: a price never passes through a binary float.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.ingestion.adapters.base import AdapterError, ParseResult, Refusal
from services.ingestion.adapters.envelope import build_message, join, readable_ids
from services.ingestion.adapters.json_fast import MAX_BATCH, parse_json_fast
from shared.model import FeedMessage

__all__ = ["MAX_BATCH", "json_type", "parse_json", "parse_json_full"]


class _NonFinite:
    """Stands in for NaN/Infinity while parsing, so the refusal can name its field."""

    def __init__(self, text: str) -> None:
        self.text = text


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"price": 1.5, "price": 9} is ambiguous: json would silently keep the last one.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _decode(raw: bytes) -> tuple[Any, bool]:
    """The parsed payload, and whether it held NaN/Infinity anywhere (rare: scan only then)."""
    found: list[_NonFinite] = []

    def constant(text: str) -> _NonFinite:
        found.append(_NonFinite(text))
        return found[-1]

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AdapterError(Refusal(
            reason=f"payload is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        )) from None
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=constant,
                           object_pairs_hook=_object)
        return value, bool(found)
    except json.JSONDecodeError as exc:
        raise AdapterError(Refusal(
            reason=f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            line=exc.lineno,
        )) from None
    except _DuplicateKey as exc:
        raise AdapterError(Refusal(reason=f"malformed JSON: key {exc} appears twice in one "
                                          "object")) from None
    except RecursionError:
        raise AdapterError(Refusal(reason="malformed JSON: nested too deeply")) from None
    except ValueError as exc:  # e.g. an integer literal of more than 4300 digits
        raise AdapterError(Refusal(reason=f"malformed JSON: {exc}")) from None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal | _NonFinite):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _items(value: Any) -> tuple[list[Any], bool]:
    """The messages of a payload and whether it was a batch."""
    if isinstance(value, dict) and "messages" in value:
        extra = sorted(set(value) - {"messages"})
        if extra:
            raise AdapterError(Refusal(
                reason=f"unexpected top-level key {extra[0]!r}: a batch is "
                       '{"messages": [...]} and nothing else', field=extra[0]))
        items = value["messages"]
        if not isinstance(items, list):
            raise AdapterError(Refusal(
                reason=f"messages: expected an array, got {json_type(items)}", field="messages"))
    elif isinstance(value, dict):
        return [value], False
    elif isinstance(value, list):
        items = value
    else:
        raise AdapterError(Refusal(
            reason="expected a message object, an array of messages or "
                   f'{{"messages": [...]}}, got {json_type(value)}'))
    if not items:
        raise AdapterError(Refusal(reason="the batch holds no messages"))
    if len(items) > MAX_BATCH:
        raise AdapterError(Refusal(
            reason=f"batch of {len(items)} messages is over the limit of {MAX_BATCH} per request"))
    return items, True


def _non_finite(value: Any) -> Iterator[tuple[str, _NonFinite]]:
    """Paths of NaN/Infinity inside a parsed value (iterative: input depth is unbounded)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, _NonFinite):
            yield path, node
        elif isinstance(node, dict):
            stack.extend((join(path, str(k)), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(node))))


def _refuse_service_fields(
    item: dict[str, Any], provider: str, prefix: str, index: int | None
) -> Refusal | None:
    if "received_at" in item:
        path = join(prefix, "received_at")
        return Refusal(reason=f"{path}: set by the service's clock; a payload may not carry it",
                       field=path, index=index, **readable_ids(item))
    given = item.get("provider", provider)
    if given != provider:
        path = join(prefix, "provider")
        return Refusal(reason=f"{path}: {given!r} is not the authenticated provider "
                              f"{provider!r}", field=path, index=index, **readable_ids(item))
    return None


def _message(
    item: Any, *, provider: str, received_at: datetime, prefix: str = "",
    index: int | None = None, scan_non_finite: bool = True,
) -> FeedMessage | Refusal:
    """Validate one parsed JSON message (a dict with canonical field names)."""
    if not isinstance(item, dict):
        where = prefix or "message"
        return Refusal(reason=f"{where}: expected a JSON object, got {json_type(item)}",
                       field=prefix or None, index=index)
    refusal = _refuse_service_fields(item, provider, prefix, index)
    if refusal is not None:
        return refusal
    for path, bad in _non_finite(item) if scan_non_finite else ():
        full = join(prefix, path)
        return Refusal(reason=f"{full}: {bad.text} is not a number", field=full, index=index,
                       **readable_ids(item))
    data = {k: v for k, v in item.items() if k != "provider"}
    return build_message(data, provider=provider, received_at=received_at, prefix=prefix,
                         index=index)


def parse_json(raw: bytes, *, provider: str, received_at: datetime) -> ParseResult:
    """Parse a native JSON payload into canonical messages and per-message refusals.

    Raises :class:`AdapterError` when the payload as a whole cannot be read: not UTF-8,
    malformed JSON, a top level that is not a message, an array or ``{"messages": [...]}``,
    an empty batch or one over :data:`MAX_BATCH` messages.

    A well-formed payload takes the fast path (:mod:`.json_fast`: pydantic-core straight
    from the bytes); anything it cannot vouch for is read here, where every refusal is made.
    """
    fast = parse_json_fast(raw, provider=provider, received_at=received_at)
    if fast is not None:
        return fast
    return parse_json_full(raw, provider=provider, received_at=received_at)


def parse_json_full(raw: bytes, *, provider: str, received_at: datetime) -> ParseResult:
    """The full path of :func:`parse_json`: the standard library's reader, refusals per field."""
    value, non_finite = _decode(raw)
    items, batch = _items(value)
    result = ParseResult()
    for index, item in enumerate(items):
        outcome = _message(
            item, provider=provider, received_at=received_at,
            prefix=f"messages[{index}]" if batch else "", index=index if batch else None,
            scan_non_finite=non_finite,
        )
        if isinstance(outcome, Refusal):
            result.refusals.append(outcome)
        else:
            result.messages.append(outcome)
    return result

