"""What one ingestion app holds: settings, keys, limiter, metrics, publisher, adapters.

One :class:`AppContext` per ``web.Application``, stored under :attr:`AppContext.KEY`;
nothing lives in module globals, so tests can build as many apps as they like.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol

from aiohttp import web

from services.ingestion.adapters.base import ParseResult
from services.ingestion.auth import ApiKeys
from services.ingestion.metrics import IngestionMetrics
from services.ingestion.publisher import KafkaPublisher
from services.ingestion.ratelimit import Limiter
from services.ingestion.settings import IngestionSettings
from shared.enums import Sport
from shared.topics import Topics


class ParseFn(Protocol):
    """``parse_json`` / ``parse_xml``: payload bytes to canonical messages."""

    def __call__(self, raw: bytes, *, provider: str, received_at: datetime) -> ParseResult: ...


class ParseUofFn(Protocol):
    """``parse_uof``: like :class:`ParseFn`, with the sport from the routing key."""

    def __call__(
        self, raw: bytes, *, provider: str, received_at: datetime, sport: Sport
    ) -> ParseResult: ...


@dataclass(frozen=True)
class Adapters:
    """The adapter functions the service calls (tests may inject fakes)."""

    parse_json: ParseFn
    parse_xml: ParseFn
    parse_uof: ParseUofFn
    sport_from_uof_routing: Callable[[str], Sport]

    @classmethod
    def default(cls) -> Adapters:
        """The real adapters of ``services.ingestion.adapters``."""
        from services.ingestion import adapters

        return cls(
            parse_json=adapters.parse_json,
            parse_xml=adapters.parse_xml,
            parse_uof=adapters.parse_uof,
            sport_from_uof_routing=adapters.sport_from_uof_routing,
        )


@dataclass
class AppContext:
    """Everything a request handler needs, built once per app."""

    KEY: ClassVar[web.AppKey[AppContext]]

    settings: IngestionSettings
    keys: ApiKeys
    limiter: Limiter
    metrics: IngestionMetrics
    publisher: KafkaPublisher
    adapters: Adapters
    topics: Topics
    feed_topics: dict[Sport, str] = field(default_factory=dict)
    rejected_topic: str = ""
    # Set on SIGTERM: new requests get 503 while in-flight ones finish.
    closing: bool = False
    in_flight: int = 0
    gauges: asyncio.Task[None] | None = None  # keeps the in-flight gauge current

    def __post_init__(self) -> None:
        self.feed_topics = {sport: self.topics.feed(sport) for sport in Sport}
        self.rejected_topic = self.topics.rejected


AppContext.KEY = web.AppKey("sportsfeed_ingestion", AppContext)
