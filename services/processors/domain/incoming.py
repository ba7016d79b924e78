"""Kafka records as the processor receives them, decoded (or not) into messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shared.codec import decode_message
from shared.enums import MessageKind
from shared.model import FeedMessage, UtcDatetime
from shared.rules import RuleViolation

REASON_LIMIT = 1000
_TIME = TypeAdapter(UtcDatetime)
_KINDS = frozenset(k.value for k in MessageKind)


@dataclass(frozen=True, slots=True)
class Envelope:
    """What could be read of a record that is not a valid message (for its ledger row)."""

    message_id: str
    provider: str
    event_id: str
    kind: MessageKind | None
    provider_ts: datetime | None
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One Kafka record: the message, or why it is none, and where it came from."""

    raw: bytes
    partition: int
    offset: int
    timestamp: float | None  # Kafka record timestamp, seconds since the epoch
    message: FeedMessage | None = None
    error: str | None = None
    envelope: Envelope | None = None
    # Set when even the rejection row was refused: the rejected topic alone records it.
    unledgered: bool = False

    @property
    def message_id(self) -> str | None:
        """The message id, when one could be read."""
        if self.message is not None:
            return self.message.message_id
        return self.envelope.message_id if self.envelope is not None else None

    @property
    def event_id(self) -> str | None:
        """The event id, when one could be read."""
        if self.message is not None:
            return self.message.event_id
        return self.envelope.event_id if self.envelope is not None else None


def decode_record(raw: bytes, partition: int, offset: int, timestamp: float | None) -> Incoming:
    """Decode one record with :func:`shared.codec.decode_message`; never raises."""
    try:
        message = decode_message(raw)
    except ValidationError as exc:
        error = "invalid message: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(message)'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:5]
        )
    except RuleViolation as exc:
        error = f"invalid message: {exc}"
    except ValueError as exc:  # not UTF-8, not JSON
        error = f"undecodable record: {exc}"
    else:
        return Incoming(raw, partition, offset, timestamp, message=message)
    return Incoming(
        raw, partition, offset, timestamp,
        error=error[:REASON_LIMIT], envelope=read_envelope(raw),
    )


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _time(value: Any) -> datetime | None:
    try:
        return _TIME.validate_python(value)
    except ValidationError:
        return None


def read_envelope(raw: bytes) -> Envelope | None:
    """Best-effort envelope of an invalid record; None when even its id is unreadable."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message_id = data.get("message_id")
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= 128:
        return None
    kind = data.get("kind")
    return Envelope(
        message_id=message_id,
        provider=_text(data, "provider", 32),
        event_id=_text(data, "event_id", 64),
        kind=MessageKind(kind) if isinstance(kind, str) and kind in _KINDS else None,
        provider_ts=_time(data.get("provider_ts")),
        received_at=_time(data.get("received_at")),
    )
