"""Consumer access at run time: the keys in force, each key's rate bucket, what was counted.

One :class:`Access` per process, shared by REST (``rest/access.py``) and the WebSocket
server (``ws/access.py``). The keys come from the settings (``keys.py``); the file is
read again by :meth:`Access.reload` (SIGHUP), and listeners (the WebSocket server) are
told which keys went or changed, so a revoked key's sockets close at once.

Counting is plain ints in dicts (the request path never touches a Prometheus lock);
:class:`AccessCollector` turns them into metrics when ``/metrics`` is scraped, labelled
by key *name*: the key itself is never logged, counted or shown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.distribution.keys import (
    SCOPES,
    ConsumerKey,
    KeyConfigError,
    KeyTable,
    Limits,
    parse_inline_keys,
    read_keys_file,
)
from services.distribution.settings import DistributionSettings

log = logging.getLogger(__name__)

PREFIX = "sportsfeed_distribution"
UNIDENTIFIED = "-"  # the key label of refusals before any key was recognised
# The key every request runs as when the check is off: every scope, no limits.
OPEN_KEY = ConsumerKey("anonymous", b"", frozenset(SCOPES), None,
                       Limits(rate=math.inf, burst=sys.maxsize, connections=sys.maxsize,
                              subscriptions=sys.maxsize))


class Refusal(StrEnum):
    """Why a request, connection or subscription was refused (the metric's ``reason``)."""

    MISSING_KEY = "missing_key"  # no key presented (401, 4001)
    INVALID_KEY = "invalid_key"  # malformed or unknown (401, 4001)
    SURFACE = "surface"  # the key lacks the surface or view (403, 4003, an error frame)
    SPORT = "sport"  # a sport outside the key (403, an error frame)
    RATE = "rate"  # REST requests over the key's rate (429)
    CONNECTIONS = "connections"  # WebSocket connections over the key's limit (4029)
    SUBSCRIPTIONS = "subscriptions"  # sports and events followed over the limit (an error frame)
    REVOKED = "revoked"  # the key left the file: its sockets close (4001)
    SCOPE_CHANGED = "scope_changed"  # the key's scopes changed: its sockets close (4003)
    AUTH_TIMEOUT = "auth_timeout"  # a socket that presented no key in time (4001)


class TokenBucket:
    """``rate`` tokens a second up to ``burst``: one per request."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), now

    def take(self, now: float) -> float:
        """0 when a token was taken, else the seconds until one will be there."""
        tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return 0.0
        self.tokens = tokens
        return (1.0 - tokens) / self.rate


@dataclass
class KeyUsage:
    """One key's WebSocket use right now, and what was written to its clients."""

    connections: int = 0
    subscriptions: int = 0
    deliveries: int = 0


@dataclass
class AccessStats:
    """Per-key counters (plain ints): requests by surface, refusals by reason."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    refusals: Counter[tuple[str, str]] = field(default_factory=Counter)


class Access:
    """The consumer keys in force, their buckets and counters."""

    def __init__(self, settings: DistributionSettings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self.enabled = settings.auth == "keys"
        self.defaults = Limits(rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst,
                               connections=settings.ws_max_connections_per_key,
                               subscriptions=settings.ws_max_subscriptions_per_key)
        self.table = self._load() if self.enabled else KeyTable([])
        self.stats = AccessStats()
        self._buckets: dict[str, TokenBucket] = {}
        # Refusals being held (paused) per key name: see ``pause_refusal``.
        self._held: Counter[str] = Counter()
        # Told (old table, new table) after every reload that swapped the keys.
        self.listeners: list[Callable[[KeyTable, KeyTable], None]] = []
        # The WebSocket side's usage by key name, read at scrape time.
        self.ws_usage: Callable[[], Mapping[str, KeyUsage]] = dict

    def _load(self) -> KeyTable:
        s = self._settings
        keys: list[ConsumerKey] = []
        if s.api_keys is not None:
            keys += parse_inline_keys(s.api_keys.get_secret_value(), self.defaults)
        if s.api_keys_file is not None:
            keys += read_keys_file(s.api_keys_file, self.defaults)
        if not keys:
            raise KeyConfigError(
                "no consumer keys configured: set SPORTSFEED_DISTRIBUTION_API_KEYS="
                "'name:key:scopes' or SPORTSFEED_DISTRIBUTION_API_KEYS_FILE=<file of "
                "'name key scopes' lines>, or turn the check off explicitly with "
                "SPORTSFEED_DISTRIBUTION_AUTH=off")
        return KeyTable(keys)

    def log_start(self) -> None:
        """Say at start what the check is: which keys (by name), or that it is off."""
        if not self.enabled:
            log.warning("CONSUMER KEY CHECK IS OFF (SPORTSFEED_DISTRIBUTION_AUTH=off): anyone who "
                        "reaches the REST and WebSocket ports reads everything, with no limits")
            return
        log.info("consumer keys: %d (%s); defaults %s", len(self.table), self.table.describe(),
                 self.defaults.as_dict())

    # -- the checks ------------------------------------------------------------------------

    def authenticate(self, token: str) -> ConsumerKey | None:
        """The key ``token`` is (constant time), or None."""
        return self.table.lookup(token)

    def charge(self, key: ConsumerKey) -> float:
        """Take one REST request from the key's bucket: 0, or seconds until one is allowed."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key.name)
        if bucket is None:
            bucket = self._buckets[key.name] = TokenBucket(key.limits.rate, key.limits.burst, now)
        return bucket.take(now)

    async def pause_refusal(self, name: str) -> None:
        """Hold a key's rate refusal for ``rate_limit_pause_s`` unless ``rate_limit_held``
        of its refusals are already held (then it is answered at once)."""
        pause = self._settings.rate_limit_pause_s
        if pause <= 0 or self._held[name] >= self._settings.rate_limit_held:
            return
        self._held[name] += 1
        try:
            await asyncio.sleep(pause)
        finally:
            self._held[name] -= 1

    def count_request(self, name: str, surface: str) -> None:
        """One request (or WebSocket connection) by a recognised key."""
        self.stats.requests[name, surface] += 1

    def refuse(self, name: str, reason: Refusal) -> None:
        """One refusal; ``name`` is :data:`UNIDENTIFIED` when no key was recognised."""
        self.stats.refusals[name, reason.value] += 1

    # -- reloading -------------------------------------------------------------------------

    def reload(self) -> KeyTable:
        """Read the keys again (SIGHUP); on an error the keys in force stay and it is raised."""
        if not self.enabled:
            log.info("SIGHUP: the consumer key check is off; nothing to reload")
            return self.table
        new = self._load()
        old, self.table = self.table, new
        for name in list(self._buckets):
            key = new.by_name.get(name)
            if key is None:
                del self._buckets[name]
            else:
                bucket = self._buckets[name]
                bucket.rate, bucket.burst = key.limits.rate, key.limits.burst
        gone = sorted(set(old.by_name) - set(new.by_name))
        log.info("consumer keys reloaded: %d (%s)%s", len(new), new.describe(),
                 f"; revoked: {', '.join(gone)}" if gone else "")
        for listener in self.listeners:
            listener(old, new)
        return new

    # -- what the operator sees ------------------------------------------------------------

    def usage_view(self) -> dict[str, Any]:
        """``GET /v1/access/usage``: every key's scopes, limits and use (never the key)."""
        ws = self.ws_usage()
        requests: dict[str, int] = Counter()
        for (name, _), n in self.stats.requests.items():
            requests[name] += n
        refusals: dict[str, dict[str, int]] = {}
        for (name, reason), n in sorted(self.stats.refusals.items()):
            refusals.setdefault(name, {})[reason] = n
        keys = []
        for key in self.table.keys:
            use = ws.get(key.name, KeyUsage())
            keys.append({**key_view(key), "requests": requests.get(key.name, 0),
                         "refusals": refusals.get(key.name, {}),
                         "ws_connections": use.connections, "ws_subscriptions": use.subscriptions,
                         "ws_deliveries": use.deliveries})
        return {"auth": "keys" if self.enabled else "off", "keys": keys,
                "unidentified_refusals": refusals.get(UNIDENTIFIED, {})}


def key_view(key: ConsumerKey) -> dict[str, Any]:
    """A key as the API shows it: name, scopes, sports, limits."""
    return {"name": key.name, "scopes": [s for s in SCOPES if s in key.scopes],
            "sports": sorted(s.value for s in key.sports) if key.sports is not None else None,
            "limits": None if key is OPEN_KEY else key.limits.as_dict()}


class AccessCollector(Collector):
    """Per-key requests, refusals, deliveries and WebSocket use, read at scrape time."""

    def __init__(self, access: Access) -> None:
        self._access = access

    def collect(self) -> Iterator[Metric]:
        access = self._access
        check = GaugeMetricFamily(f"{PREFIX}_access_check", "1 while consumer keys are checked")
        check.add_metric([], 1 if access.enabled else 0)
        yield check
        keys = GaugeMetricFamily(f"{PREFIX}_access_keys", "Consumer keys in force")
        keys.add_metric([], len(access.table))
        yield keys
        requests = CounterMetricFamily(
            f"{PREFIX}_access_requests", "REST requests and WebSocket connections by key and surface",
            labels=["key", "surface"])
        for (name, surface), n in sorted(access.stats.requests.items()):
            requests.add_metric([name, surface], n)
        yield requests
        refusals = CounterMetricFamily(f"{PREFIX}_access_refusals",
                                       "Refused requests, connections and subscriptions by key "
                                       "(- before a key was recognised) and reason",
                                       labels=["key", "reason"])
        for (name, reason), n in sorted(access.stats.refusals.items()):
            refusals.add_metric([name, reason], n)
        yield refusals
        usage = access.ws_usage()
        deliveries = CounterMetricFamily(f"{PREFIX}_ws_deliveries",
                                         "Messages written to each key's WebSocket clients",
                                         labels=["key"])
        connections = GaugeMetricFamily(f"{PREFIX}_ws_key_connections",
                                        "Open WebSocket connections by key", labels=["key"])
        subscriptions = GaugeMetricFamily(f"{PREFIX}_ws_key_subscriptions",
                                          "Sports and events followed by each key's connections",
                                          labels=["key"])
        for name, use in sorted(usage.items()):
            deliveries.add_metric([name], use.deliveries)
            connections.add_metric([name], use.connections)
            subscriptions.add_metric([name], use.subscriptions)
        yield deliveries
        yield connections
        yield subscriptions
