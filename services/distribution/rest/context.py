"""What the REST handlers share: settings, queries, snapshots, metrics, and the detail cache."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from aiohttp import web

from services.distribution.metrics import DistributionMetrics
from services.distribution.rest.history_queries import HistoryQueries
from services.distribution.rest.queries import Queries
from services.distribution.settings import DistributionSettings
from services.distribution.snapshots import SnapshotSource
from services.distribution.ws.fanout import Fanout
from shared.cache import LiveCache
from shared.storage.pool import Pool

if TYPE_CHECKING:
    from services.distribution.rest.ops import PrometheusClient

DETAIL_CACHE_MAX = 50_000


@dataclass
class DetailCache:
    """Rendered ``GET /v1/events/{id}`` bodies, dropped when a delta of the event arrives.

    The fan-out sees every update, so an entry never outlives the next change of its
    event by more than the consumer's lag; ``ttl_s`` bounds staleness when updates
    bypass the topics (a Redis rebuild). ``ttl_s = 0`` turns the cache off.
    """

    ttl_s: float
    entries: dict[str, tuple[float, bytes, str]] = field(default_factory=dict)

    def get(self, event_id: str) -> tuple[bytes, str] | None:
        """A fresh rendered body and the event's sport (the key's scope is checked on it), or None."""
        entry = self.entries.get(event_id)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self.entries.pop(event_id, None)
            return None
        return entry[1], entry[2]

    def put(self, event_id: str, body: bytes, sport: str) -> None:
        """Keep a rendered body for ``ttl_s``."""
        if self.ttl_s <= 0:
            return
        if len(self.entries) >= DETAIL_CACHE_MAX:
            self.entries.clear()  # crude but bounded: the cache refills in one TTL
        self.entries[event_id] = (time.monotonic() + self.ttl_s, body, sport)

    def on_delta(self, event_id: str) -> None:
        """Hub listener: the event changed."""
        self.entries.pop(event_id, None)


@dataclass
class RestContext:
    """Everything a handler needs, hung off the app under :attr:`KEY`."""

    settings: DistributionSettings
    queries: Queries
    source: SnapshotSource
    metrics: DistributionMetrics
    pool: Pool
    cache: LiveCache
    fanout: Fanout | None
    details: DetailCache
    history: HistoryQueries
    prometheus: PrometheusClient | None = None
    closing: bool = False

    KEY: ClassVar[web.AppKey[RestContext]]


RestContext.KEY = web.AppKey("sportsfeed_distribution", RestContext)
