"""The canonical message model: one envelope, one body per kind.

Every provider format is turned into :class:`FeedMessage` by an adapter at the
ingestion edge; nothing past the adapter sees a wire type. Models are frozen and
forbid unknown fields. Prices are ``Decimal``; times are timezone-aware UTC.
The model knows nothing of sports: stateless sport rules (which markets a sport has,
score shapes) take the body types and are applied as an explicit step at each
service's edge (:func:`shared.rules.checked`: ingestion's adapters, the processors'
decode); stateful rules (transitions, staleness) belong to the processors.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from shared.enums import EventStatus, MessageKind, Sport
from shared.markets import Market, MarketKey, MarketSettlement


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC form; pydantic wants ValueError
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:_.\-]+$")]
ProviderName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Goals = Annotated[int, Field(ge=0, le=999)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- fixture -------------------------------------------------------------------------


class Competitor(_Frozen):
    """A team or player."""

    id: Identifier
    name: Name


class Competition(_Frozen):
    """A league, cup or tournament; ``season`` lets historical imports group matches."""

    id: Identifier
    name: Name
    country: Annotated[str, Field(max_length=64)] | None = None
    season: Annotated[str, Field(max_length=32)] | None = None


class FixtureBody(_Frozen):
    """Who plays whom, in what, when.

    A fixture change (UOF ``fixture_change``) may carry only what changed: absent fields
    are unchanged. An event's first fixture must name competition and both sides; the
    processor enforces that, since it alone knows whether the event exists.
    """

    kind: Literal[MessageKind.FIXTURE] = MessageKind.FIXTURE
    competition: Competition | None = None
    start_time: UtcDatetime | None = None
    home: Competitor | None = None
    away: Competitor | None = None
    status: EventStatus | None = None
    best_of: Literal[3, 5] | None = None  # tennis: sets in the match

    @model_validator(mode="after")
    def _distinct_sides(self) -> FixtureBody:
        if (self.home is None) != (self.away is None):
            raise ValueError("a fixture names both competitors or neither")
        if self.home is not None and self.away is not None and self.home.id == self.away.id:
            raise ValueError("home and away are the same competitor")
        return self

    @property
    def complete(self) -> bool:
        """True when the fixture can create an event on its own."""
        return None not in (self.competition, self.start_time, self.home)


# --- live score ----------------------------------------------------------------------


class PeriodScore(_Frozen):
    """Score of one period (a half, quarter, set...); tennis sets may carry tie-break points."""

    period: Annotated[str, Field(min_length=1, max_length=16)]
    home: Goals
    away: Goals
    tiebreak_home: Goals | None = None
    tiebreak_away: Goals | None = None

    @model_validator(mode="after")
    def _tiebreak_pair(self) -> PeriodScore:
        if (self.tiebreak_home is None) != (self.tiebreak_away is None):
            raise ValueError(f"period {self.period}: tie-break needs both sides")
        return self


class Score(_Frozen):
    """Match score (tennis: sets won) and its per-period breakdown, in order."""

    home: Goals = 0
    away: Goals = 0
    periods: tuple[PeriodScore, ...] = ()


class GamePoints(_Frozen):
    """Tennis points in the current game: 0/15/30/40/A, or tie-break counts as digits."""

    home: Annotated[str, Field(pattern=r"^(0|15|30|40|A|\d{1,2})$")]
    away: Annotated[str, Field(pattern=r"^(0|15|30|40|A|\d{1,2})$")]


class Clock(_Frozen):
    """Match clock in seconds played in the current period's timing convention."""

    seconds: Annotated[int, Field(ge=0, le=60 * 200)]
    running: bool = True
    stoppage_seconds: Annotated[int, Field(ge=0, le=60 * 30)] | None = None


class LiveBody(_Frozen):
    """Live state: status, current period, clock and score."""

    kind: Literal[MessageKind.LIVE] = MessageKind.LIVE
    status: EventStatus
    period: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    clock: Clock | None = None
    score: Score = Score()
    game: GamePoints | None = None
    server: Literal["home", "away"] | None = None


# --- odds and market control ---------------------------------------------------------


class OddsBody(_Frozen):
    """Markets that changed. Absent markets are unchanged; a present market is complete."""

    kind: Literal[MessageKind.ODDS] = MessageKind.ODDS
    markets: tuple[Market, ...] = Field(min_length=1, max_length=500)
    producer: Annotated[str, Field(max_length=32)] | None = None

    @model_validator(mode="after")
    def _unique_markets(self) -> OddsBody:
        keys = [m.market_key for m in self.markets]
        if len(keys) != len(set(keys)):
            raise ValueError("a market appears twice in one odds message")
        return self


class BetStopBody(_Frozen):
    """Suspend the named markets that are active now; ``market_keys=None`` means all."""

    kind: Literal[MessageKind.BET_STOP] = MessageKind.BET_STOP
    market_keys: tuple[MarketKey, ...] | None = None
    producer: Annotated[str, Field(max_length=32)] | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None


class SettlementBody(_Frozen):
    """Results of markets, with void and dead-heat factors."""

    kind: Literal[MessageKind.SETTLEMENT] = MessageKind.SETTLEMENT
    markets: tuple[MarketSettlement, ...] = Field(min_length=1, max_length=500)
    certainty: Literal["live_scouted", "confirmed"] = "confirmed"


class CancelBody(_Frozen):
    """Void the named markets (None: all), optionally only for bets placed in a window."""

    kind: Literal[MessageKind.CANCEL] = MessageKind.CANCEL
    market_keys: tuple[MarketKey, ...] | None = None
    void_reason: Annotated[str, Field(max_length=200)] | None = None
    start_time: UtcDatetime | None = None
    end_time: UtcDatetime | None = None


class RollbackBody(_Frozen):
    """Undo an earlier settlement or cancellation of the named markets (None: all)."""

    kind: Literal[MessageKind.ROLLBACK] = MessageKind.ROLLBACK
    of: Literal["settlement", "cancel"]
    market_keys: tuple[MarketKey, ...] | None = None


class AliveBody(_Frozen):
    """Provider heartbeat; its absence for too long suspends the provider's markets."""

    kind: Literal[MessageKind.ALIVE] = MessageKind.ALIVE
    producer: Annotated[str, Field(max_length=32)] | None = None
    subscribed: bool = True


Body = Annotated[
    FixtureBody | LiveBody | OddsBody | BetStopBody | SettlementBody | CancelBody
    | RollbackBody | AliveBody,
    Field(discriminator="kind"),
]

# ``alive`` is about a provider, not an event: it travels with this event id.
ALIVE_EVENT_ID = "_alive"


class FeedMessage(_Frozen):
    """The envelope every message travels in, from adapter to Kafka to processor."""

    message_id: Annotated[str, Field(min_length=1, max_length=128)]
    provider: ProviderName
    sport: Sport
    event_id: Identifier
    kind: MessageKind
    provider_ts: UtcDatetime
    received_at: UtcDatetime
    body: Body

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> FeedMessage:
        """Validate Python data; a body without ``kind`` takes the envelope's.

        Providers need not repeat the kind inside the body. The fill happens here rather
        than in a ``mode="before"`` validator, which would make every JSON decode (the
        processors' hot path, whose bodies always carry their kind) build Python dicts
        before validating.
        """
        if isinstance(obj, dict) and isinstance(obj.get("body"), dict):
            body = obj["body"]
            if "kind" not in body and "kind" in obj:
                obj = {**obj, "body": {**body, "kind": obj["kind"]}}
        return super().model_validate(obj, **kwargs)

    @model_validator(mode="after")
    def _consistent(self) -> FeedMessage:
        if self.body.kind != self.kind:
            raise ValueError(f"body is a {self.body.kind.value} body but kind is {self.kind.value}")
        return self


def content_message_id(
    provider: str, sport: str, event_id: str, kind: str, provider_ts: datetime, body: BaseModel
) -> str:
    """A stable id for messages whose provider gives none: a hash of their content.

    The same content re-sent is the same message, so a provider retry is a duplicate.
    """
    digest = hashlib.sha256()
    for part in (provider, sport, event_id, kind, provider_ts.astimezone(UTC).isoformat()):
        digest.update(part.encode())
        digest.update(b"\x00")
    digest.update(body.model_dump_json().encode())
    return "h:" + digest.hexdigest()[:40]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
