"""Client messages, validated once at the edge (see ``docs/websocket.md``).

Every client message is a JSON object with a ``type``. :func:`parse_client_message`
turns the text into one of the models below or raises :class:`BadMessage` naming the
offending field, which the server reports back as an ``error`` message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.enums import Sport
from shared.model import Identifier

MAX_EVENTS = 5000
MAX_MARKETS = 200

SubscriptionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
# A market key (``totals|total=2.5``) or a market type (``totals``); matched as written,
# after the same normalisation the processors apply to keys.
MarketRef = Annotated[str, Field(min_length=1, max_length=200)]
ConflateMs = Annotated[int, Field(ge=0, le=60_000)]
Token = Annotated[str, Field(min_length=1, max_length=512)]


class _Msg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Subscribe(_Msg):
    """Follow whole sports and/or single events, optionally resuming some of them.

    ``model``: the platform's own prices of the events (``shared.fair.ModelPrices``) come
    too, as ``model`` frames: the latest of each event at once, then every new one.
    """

    type: Literal["subscribe"]
    id: SubscriptionId | None = None
    sports: list[Sport] = Field(default_factory=list, max_length=len(Sport))
    event_ids: list[Identifier] = Field(default_factory=list, max_length=MAX_EVENTS)
    markets: list[MarketRef] | None = Field(default=None, max_length=MAX_MARKETS)
    conflate_ms: ConflateMs | None = None
    resume: dict[Identifier, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, max_length=MAX_EVENTS
    )
    model: bool = False
    token: Token | None = None


class Unsubscribe(_Msg):
    """Stop following: a subscription by id, sports, events, or market filters."""

    type: Literal["unsubscribe"]
    id: SubscriptionId | None = None
    sports: list[Sport] = Field(default_factory=list, max_length=len(Sport))
    event_ids: list[Identifier] = Field(default_factory=list, max_length=MAX_EVENTS)
    markets: list[MarketRef] = Field(default_factory=list, max_length=MAX_MARKETS)


class Resume(_Msg):
    """Follow events again after a reconnect, from the last version the client applied."""

    type: Literal["resume"]
    id: SubscriptionId | None = None
    events: dict[Identifier, Annotated[int, Field(ge=0)]] = Field(
        min_length=1, max_length=MAX_EVENTS
    )
    markets: list[MarketRef] | None = Field(default=None, max_length=MAX_MARKETS)
    conflate_ms: ConflateMs | None = None
    model: bool = False
    token: Token | None = None


class Resync(_Msg):
    """Ask for fresh snapshots (of the given events, else of everything followed)."""

    type: Literal["resync"]
    event_ids: list[Identifier] | None = Field(default=None, max_length=MAX_EVENTS)


class Heartbeat(_Msg):
    """The client's own heartbeat; answered with the server's."""

    type: Literal["heartbeat"]
    ts: Annotated[str, Field(max_length=64)] | None = None


class Auth(_Msg):
    """Present a token as the first message (when the server checks tokens)."""

    type: Literal["auth"]
    token: Token


ClientMessage = Annotated[
    Subscribe | Unsubscribe | Resume | Resync | Heartbeat | Auth, Field(discriminator="type")
]
_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class BadMessage(ValueError):
    """A client message that cannot be understood; ``field`` names where it went wrong."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def parse_client_message(raw: str | bytes) -> ClientMessage:
    """The message as a model; raises :class:`BadMessage` for anything else."""
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage("a message is a JSON object")
    if not isinstance(data.get("type"), str):
        raise BadMessage("a message needs a string type", "type")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = [str(p) for p in first["loc"]]
        # The discriminator's branch name (``subscribe``) leads the location: drop it.
        if loc and loc[0] == data["type"]:
            loc = loc[1:]
        field = ".".join(loc) or None
        if first["type"] == "union_tag_invalid":
            raise BadMessage(f"unknown message type {data['type']!r}", "type") from None
        raise BadMessage(first["msg"], field) from None


def token_of(message: ClientMessage) -> str | None:
    """The token a message carries, if it can carry one."""
    if isinstance(message, Auth | Subscribe | Resume):
        return message.token
    return None
