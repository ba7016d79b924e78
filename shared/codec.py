"""The bytes on Kafka: canonical messages and rejected records as UTF-8 JSON.

JSON keeps the topics readable with any consumer; Decimal prices travel as strings
so no float ever touches a price; datetimes as ISO-8601 UTC.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.model import FeedMessage, UtcDatetime
from shared.rules import checked


def encode_message(message: FeedMessage) -> bytes:
    """Serialise a canonical message for Kafka.

    The same bytes as ``model_dump_json(exclude_none=True).encode()``, straight from the
    serializer: no str in between (a tenth less CPU on ingestion's hot path).
    """
    return message.__pydantic_serializer__.to_json(message, exclude_none=True)


def decode_message(raw: bytes | str) -> FeedMessage:
    """Parse and validate a canonical message from Kafka, its sport's rules included.

    Raises ``ValidationError`` (the model) or :class:`shared.rules.RuleViolation`.
    """
    return checked(FeedMessage.model_validate_json(raw))


def message_key(message: FeedMessage) -> bytes:
    """The Kafka key: the event id, so one event's messages stay in order on one partition."""
    return message.event_id.encode()


class RejectedRecord(BaseModel):
    """What ``sportsfeed.rejected`` carries: why, where, and the original payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Literal["ingestion", "processor"]
    reason: str
    field: str | None = None
    line: int | None = None
    provider: str | None = None
    sport: str | None = None
    format: str | None = None
    message_id: str | None = None
    event_id: str | None = None
    received_at: UtcDatetime
    # The original bytes as text; cut at 64 KiB so one huge body cannot clog the topic.
    payload: Annotated[str, Field(max_length=65536)]
    truncated: bool = False


PAYLOAD_LIMIT = 65536


def encode_rejected(record: RejectedRecord) -> bytes:
    """Serialise a rejected record."""
    return record.model_dump_json(exclude_none=True).encode()


def payload_text(raw: bytes) -> tuple[str, bool]:
    """The payload as text for a rejected record, and whether it was cut."""
    text = raw[:PAYLOAD_LIMIT].decode("utf-8", errors="replace")
    return text[:PAYLOAD_LIMIT], len(raw) > PAYLOAD_LIMIT
