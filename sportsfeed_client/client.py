"""A Python client of distribution's WebSocket push protocol (``docs/websocket.md``).

.. code-block:: python

    client = FeedClient("ws://127.0.0.1:4003/", token=None)
    async for update in client.follow(sports=["football"], markets=["1x2"]):
        print(update.event_id, update.state.version, update.kind)

:meth:`FeedClient.follow` connects, subscribes and hands out every event's state as it
changes: snapshots replace it, deltas (conflated ones too) are applied by version
(:class:`~sportsfeed_client.book.EventBook`), a gap asks the server for a fresh snapshot
(``resync``). A dropped connection (the server restarting, a network fault, a ``4008``
for a client too slow to keep up, a server silent for three heartbeats) is reconnected
with backoff (:class:`shared.retry.Backoff`), and the new subscription resumes every
event from the version the client holds, so nothing is lost across it. The client sends
its own heartbeat every ``heartbeat_s``; websockets answers the server's pings. Only a
refused token (:class:`AuthError`) or a subscription the server cannot understand
(:class:`SubscriptionError`) ends the iteration with an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from shared.enums import Sport
from shared.fair import ModelPrices
from shared.live import EventDelta, EventSnapshot
from shared.retry import Backoff
from sportsfeed_client.book import EventBook

log = logging.getLogger(__name__)

#: Events named in one ``subscribe``/``resume`` message at most (the server's limit).
MAX_EVENTS_PER_MESSAGE = 5000
UNAUTHORIZED = 4001


class AuthError(RuntimeError):
    """The server refused the token (HTTP 401 at the handshake, or close code 4001)."""


class SubscriptionError(ValueError):
    """The server could not understand the subscription (an ``error`` naming a field)."""


class _Silent(Exception):
    """Nothing heard from the server for too long: the connection is given up."""


@dataclass(frozen=True)
class Update:
    """One change handed out by :meth:`FeedClient.follow`.

    ``kind``: ``snapshot`` (the event's whole state, new or replaced), ``delta`` (applied:
    ``state`` is the event after it; ``conflated_from`` is set for a merged delta) or
    ``model`` (the platform's prices of the event, when asked with ``model=True``;
    ``state`` is then the event's current state, if held). ``received_at`` is the
    wall-clock time the frame arrived (``time.time()``).
    """

    kind: Literal["snapshot", "delta", "model"]
    event_id: str
    state: EventSnapshot | None
    received_at: float
    delta: EventDelta | None = None
    model: ModelPrices | None = None
    conflated_from: int | None = None


@dataclass
class ClientStats:
    """What the client has seen, over all its connections."""

    connects: int = 0
    snapshots: int = 0
    deltas: int = 0  # applied
    old: int = 0  # deltas already applied (a resume overlapping what was held)
    gaps: int = 0  # deltas that did not follow: a resync was asked for
    models: int = 0
    heartbeats: int = 0
    silences: int = 0  # connections given up because the server went quiet
    closes: dict[int, int] = field(default_factory=dict)  # close codes seen


class FeedClient:
    """Follows events over one WebSocket at a time, reconnecting and resuming as needed."""

    def __init__(
        self, url: str, *, token: str | None = None, reconnect_initial_s: float = 0.5,
        reconnect_max_s: float = 10.0, silent_heartbeats: float = 3.0,
        open_timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.token = token
        self.book = EventBook()
        self.stats = ClientStats()
        self.subscribed = asyncio.Event()  # set on each connection's subscription ack
        self.heartbeat_s = 5.0  # the server's, from its welcome
        self._backoff = Backoff(reconnect_initial_s, reconnect_max_s, jitter=0.2)
        self._silent_heartbeats = silent_heartbeats
        self._open_timeout = open_timeout_s
        self._heard = 0.0  # monotonic time of the last frame from the server
        self._reading = False  # waiting for the server's next frame

    def state(self, event_id: str) -> EventSnapshot | None:
        """The event's state as last applied (None if not held)."""
        return self.book.states.get(event_id)

    @property
    def versions(self) -> dict[str, int]:
        """The version held of each followed event."""
        return self.book.versions()

    async def follow(
        self, *, sports: Iterable[Sport | str] = (), event_ids: Iterable[str] = (),
        markets: Iterable[str] | None = None, model: bool = False,
        conflate_ms: int | None = None,
    ) -> AsyncGenerator[Update, None]:
        """Every change of the followed events, as applied states, until the caller stops.

        ``sports``: whole sports (every event with live state, and each new one);
        ``event_ids``: single events; ``markets``: market keys or types to keep (None: all);
        ``model``: also the platform's model prices (``Update.kind == "model"``);
        ``conflate_ms``: at most one (merged) delta per event per window.
        """
        request: dict[str, Any] = {
            "type": "subscribe", "sports": [Sport(s).value for s in sports],
            "event_ids": list(event_ids), "model": model,
        }
        if markets is not None:
            request["markets"] = list(markets)
        if conflate_ms is not None:
            request["conflate_ms"] = conflate_ms
        if self.token is not None:
            request["token"] = self.token
        while True:
            try:
                async with connect(self._url(), open_timeout=self._open_timeout, close_timeout=2,
                                   max_size=None) as ws:
                    self.stats.connects += 1
                    async for update in self._session(ws, request):
                        yield update
            except InvalidStatus as exc:
                if exc.response.status_code == 401:
                    raise AuthError(f"{self.url}: the token was refused (HTTP 401)") from exc
                why: BaseException = exc
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else 1006
                self.stats.closes[code] = self.stats.closes.get(code, 0) + 1
                if code == UNAUTHORIZED:
                    raise AuthError(f"{self.url}: {exc.rcvd.reason if exc.rcvd else 'refused'}") \
                        from exc
                why = exc
            except (OSError, TimeoutError, WebSocketException, _Silent) as exc:
                why = exc
            self.subscribed.clear()
            delay = self._backoff.next()
            log.info("feed connection lost (%r); reconnecting in %.1fs to resume %d events",
                     why, delay, len(self.book.states))
            await asyncio.sleep(delay)

    def _url(self) -> str:
        if self.token is None:
            return self.url
        return f"{self.url}{'&' if '?' in self.url else '?'}token={quote(self.token, safe='')}"

    async def _session(self, ws: ClientConnection, request: dict[str, Any]) -> AsyncIterator[Update]:
        """One connection: welcome, subscribe (resuming what is held), then the feed."""
        async with asyncio.timeout(self._open_timeout):
            welcome = orjson.loads(await ws.recv())
        if welcome.get("type") == "welcome":
            self.heartbeat_s = float(welcome.get("heartbeat_s") or self.heartbeat_s)
        held = list(self.book.versions().items())
        first = {**request, "resume": dict(held[:MAX_EVENTS_PER_MESSAGE])}
        await ws.send(orjson.dumps(first).decode())
        for start in range(MAX_EVENTS_PER_MESSAGE, len(held), MAX_EVENTS_PER_MESSAGE):
            more = {"type": "resume", "events": dict(held[start:start + MAX_EVENTS_PER_MESSAGE]),
                    "model": request["model"]}
            for key in ("markets", "conflate_ms", "token"):
                if key in request:
                    more[key] = request[key]
            await ws.send(orjson.dumps(more).decode())
        # Heartbeats and the silence check run beside the reads, once per heartbeat: a
        # timeout around every read cost more than the rest of the read itself.
        self._heard = time.monotonic()
        keeper = asyncio.create_task(self._keep_alive(ws))
        try:
            while True:
                try:
                    self._reading = True
                    raw = await ws.recv()
                    self._reading = False
                except ConnectionClosed:
                    why = keeper.result() if keeper.done() else ""
                    if why:
                        raise _Silent(why) from None
                    raise
                self._heard = time.monotonic()
                update = await self._handle(ws, orjson.loads(raw), request)
                if update is not None:
                    yield update
        finally:
            keeper.cancel()

    async def _keep_alive(self, ws: ClientConnection) -> str:
        """Send a heartbeat every ``heartbeat_s``; once nothing was heard for
        ``silent_heartbeats`` of them, drop the connection and say why."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            now = time.monotonic()
            if not self._reading:  # the caller is busy with an update: not the server's silence
                self._heard = now
            quiet = now - self._heard
            if quiet > self._silent_heartbeats * self.heartbeat_s:
                self.stats.silences += 1
                ws.transport.abort()  # the read in progress ends with ConnectionClosed
                return f"nothing heard for {quiet:.1f}s"
            try:
                await ws.send(orjson.dumps({"type": "heartbeat", "ts": _now_iso()}).decode())
            except ConnectionClosed:  # the read says so too
                return ""

    async def _handle(self, ws: ClientConnection, msg: Mapping[str, Any],
                      request: Mapping[str, Any]) -> Update | None:
        kind, received = msg.get("type"), time.time()
        if kind == "delta":
            applied = self.book.delta(msg)
            if applied.verdict == "applied":
                self.stats.deltas += 1
                return Update("delta", applied.delta.event_id, applied.state, received,
                              delta=applied.delta, conflated_from=applied.conflated_from)
            if applied.verdict == "old":
                self.stats.old += 1
            elif applied.resync:
                self.stats.gaps += 1
                await ws.send(orjson.dumps(
                    {"type": "resync", "event_ids": [applied.delta.event_id]}).decode())
            return None
        if kind == "snapshot":
            state = self.book.snapshot(msg)
            self.stats.snapshots += 1
            return Update("snapshot", state.event_id, state, received)
        if kind == "model":
            if not request.get("model"):
                return None
            prices = ModelPrices.model_validate({k: v for k, v in msg.items() if k != "type"})
            self.stats.models += 1
            return Update("model", prices.event_id, self.book.states.get(prices.event_id),
                          received, model=prices)
        if kind == "heartbeat":
            self.stats.heartbeats += 1
        elif kind == "subscribed":
            self._backoff.reset()
            self.subscribed.set()
        elif kind == "error":
            if msg.get("code") == "bad_request" and not self.subscribed.is_set():
                raise SubscriptionError(f"{msg.get('field')}: {msg.get('message')}")
            log.info("server says: %s", msg)
        return None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
