"""Small builders for canonical messages, shared by unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.model import FeedMessage
from shared.rules import checked

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)


def message(sport: str, kind: str, body: dict[str, Any], **envelope: Any) -> FeedMessage:
    """Validate a canonical message from plain data, with sensible envelope defaults, and
    apply its sport's rules (raises ``ValidationError`` or ``RuleViolation``)."""
    data: dict[str, Any] = {
        "message_id": "m-1",
        "provider": "acme",
        "sport": sport,
        "event_id": "ev-1",
        "kind": kind,
        "provider_ts": T0,
        "received_at": T0,
        "body": body,
    }
    data.update(envelope)
    return checked(FeedMessage.model_validate(data))


def odds(sport: str, *markets: dict[str, Any]) -> FeedMessage:
    """An odds message with the given markets."""
    return message(sport, "odds", {"markets": list(markets)})


def live(sport: str, **body: Any) -> FeedMessage:
    """A live-score message."""
    return message(sport, "live", body)


def period(name: str, home: int, away: int, **extra: Any) -> dict[str, Any]:
    """One period score."""
    return {"period": name, "home": home, "away": away, **extra}
