"""One connected client: its subscriptions, the versions it holds, its queue and writer.

Everything the fan-out calls here is synchronous and never touches the socket beyond
a non-blocking write: :meth:`ClientSession.offer` decides what the client gets and
queues it, :meth:`ClientSession.flush` writes the queue straight to the transport
when the client keeps up, and otherwise wakes the client's own writer task, which
waits for the socket to drain. A client that stays behind is conflated by its
:class:`~.outbox.Outbox`, then disconnected with 4008: it never holds anyone up.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from services.distribution.ws.frames import Shape, control_payload, frame_of
from services.distribution.ws.outbox import CONTROL, DELTA, MODEL, SNAPSHOT, Item, Outbox, Window
from services.distribution.ws.ring import DeltaOut, DeltaRing
from services.distribution.ws.subscriptions import Subscriptions, View
from shared.enums import Sport

log = logging.getLogger(__name__)

# ``versions`` values besides real versions: a snapshot is on its way (deltas wait in
# the ring meanwhile); the event is followed but unknown so far; or the client is in
# step with the event's stream and sits in the hub's group for it (its version is the
# ring's newest), so the hub hands it each delta without asking.
PENDING = -1
UNKNOWN = -2
LIVE = -3
SLOW_CLOSE_CODE = 4008
_ids = itertools.count(1)


class Sink(Protocol):
    """The socket side of a session (a websockets connection, or a fake in unit tests)."""

    def is_open(self) -> bool:
        """True while frames may be written."""

    def buffered(self) -> int:
        """Bytes written but not yet handed to the kernel."""

    def write(self, frames: list[bytes]) -> None:
        """Write whole frames without blocking."""

    async def close(self, code: int, reason: str) -> None:
        """Close the connection (with a bounded wait)."""


class ClientSession:
    """State and queue of one WebSocket client."""

    def __init__(
        self, sink: Sink, *, outbox: Outbox, write_high: int, max_lag_s: float,
        poll_s: float = 0.01, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = next(_ids)
        self.sink = sink
        self.subs = Subscriptions()
        # Per event: the version the client will hold once its queue is written, and
        # the event's sport (a sport-wide subscription's events are known by it).
        self.versions: dict[str, int] = {}
        self.event_sports: dict[str, Sport] = {}
        self.outbox = outbox
        self.kill_reason: str | None = None
        self.closed = False
        # Messages written, and (counted when queued) the snapshots, model prices and
        # control messages among them: the hot path only adds a length.
        self.written = 0
        self.queued: dict[int, int] = {CONTROL: 0, SNAPSHOT: 0, MODEL: 0}
        self._write_high = write_high
        self._max_lag = max_lag_s
        self._poll = poll_s
        self._clock = clock
        self._wake = asyncio.Event()
        self._windows: dict[int, Window] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}

    # -- deciding what the client gets (called by the hub; never awaits) ---------------

    def offer(self, out: DeltaOut, ring: DeltaRing) -> bool:
        """Queue a delta if the client follows its event; True when a snapshot is needed."""
        event_id, sport, version = out.event_id, out.sport, out.version
        held = self.versions.get(event_id)
        if held is None or held == UNKNOWN:
            # First contact (a new event of a followed sport): always a snapshot first.
            if self.subs.view(event_id, sport) is None:
                return False
            self.event_sports[event_id] = sport
            self.versions[event_id] = PENDING
            return True
        if held < 0 or version <= held:
            return False  # PENDING, or LIVE (the hub's group serves it), or already seen
        view = self.subs.view(event_id, sport)
        if view is None:
            return False
        if version == held + 1:
            self.versions[event_id] = version
            self._queue_delta(out, view)
            return False
        return self.catch_up(event_id, held, ring, view)

    def catch_up(self, event_id: str, held: int, ring: DeltaRing | None, view: View) -> bool:
        """Queue the retained deltas after ``held``; True when they are gone (snapshot needed)."""
        tail = ring.after(held) if ring is not None else None
        if tail is None:
            self.versions[event_id] = PENDING
            return True
        for out in tail:
            self._queue_delta(out, view)
        self.versions[event_id] = tail[-1].version if tail else held
        return False

    def take_snapshot(
        self, event_id: str, data: Mapping[str, Any] | None, frame_for: Callable[[Shape], bytes],
        ring: DeltaRing | None,
    ) -> bool:
        """Queue a fetched snapshot, then the retained deltas after it.

        Returns True when the snapshot is older than the oldest retained delta, so the
        client cannot be brought up to date yet and another snapshot must be fetched.
        """
        if self.versions.get(event_id) != PENDING:
            return False  # unsubscribed meanwhile, or another fetch already served it
        if data is None:
            self.versions[event_id] = UNKNOWN
            return False
        sport = self.event_sports[event_id] = Sport(data["sport"])
        view = self.subs.view(event_id, sport)
        if view is None:
            if not self.subs.allows(sport):
                self.push_control("error", code="forbidden", event_id=event_id, sport=sport.value,
                                  scope=sport.value,
                                  message=f"this key does not cover {sport.value}: {event_id} is not sent")
            self.forget({event_id})
            return False
        version = int(data["version"])
        for window in self._windows.values():
            window.drop(event_id)
        self.push(Item.snapshot(event_id, frame_for(view.shape)))
        self.versions[event_id] = version
        if ring is None or ring.last_version is None or ring.last_version <= version:
            return False
        return self.catch_up(event_id, version, ring, view)

    def shapes(self) -> dict[str, Shape]:
        """The market filter each tracked event reaches the client with."""
        shapes: dict[str, Shape] = {}
        for event_id in self.versions:
            sport = self.event_sports.get(event_id)
            view = self.subs.view(event_id, sport) if sport is not None else None
            if view is not None:
                shapes[event_id] = view.shape
        return shapes

    def drop_unfollowed(self) -> set[str]:
        """Stop tracking the events no subscription covers any more; returns them."""
        explicit = self.subs.event_ids()
        gone = set()
        for event_id in self.versions:
            if event_id in explicit:
                continue
            sport = self.event_sports.get(event_id)
            if sport is None or self.subs.view(event_id, sport) is None:
                gone.add(event_id)
        self.forget(gone)
        return gone

    def forget(self, event_ids: set[str]) -> None:
        """Stop tracking the given events."""
        for event_id in event_ids:
            self.versions.pop(event_id, None)
            self.event_sports.pop(event_id, None)
            for window in self._windows.values():
                window.drop(event_id)

    def _queue_delta(self, out: DeltaOut, view: View) -> None:
        item = Item.shared(out, view.shape)
        if view.conflate_ms <= 0:
            self.push(item)
            return
        window = self._windows.get(view.conflate_ms)
        if window is None:
            window = self._windows[view.conflate_ms] = Window()
        window.add(item)
        if view.conflate_ms not in self._timers:
            loop = asyncio.get_running_loop()
            self._timers[view.conflate_ms] = loop.call_later(
                view.conflate_ms / 1000, self._close_window, view.conflate_ms
            )

    def flush_windows(self) -> None:
        """Queue every held conflation window now (before a subscription change)."""
        for conflate_ms, timer in list(self._timers.items()):
            timer.cancel()
            self._close_window(conflate_ms)

    def _close_window(self, conflate_ms: int) -> None:
        self._timers.pop(conflate_ms, None)
        window = self._windows.get(conflate_ms)
        if window is None:
            return
        for item in window.take():
            self.push(item)
        self.flush()

    # -- queue and writes ---------------------------------------------------------------

    def push(self, item: Item) -> None:
        """Queue one message; a queue over its limit even after conflation ends the client."""
        if self.closed or self.kill_reason is not None:
            return
        if item.kind != DELTA:
            self.queued[item.kind] += 1
        if not self.outbox.push(item, self._clock()):
            self.kill(f"too slow: more than {self.outbox.max_items} messages pending")

    def push_control(self, kind: str, **fields: Any) -> None:
        """Queue a small server message (ack, error, heartbeat...)."""
        self.push(Item.control(frame_of(control_payload(kind, **fields))))

    def flush(self) -> None:
        """Write what is queued now if the socket keeps up, else leave it to the writer.

        Called once per client per flush interval: it is the fan-out's per-client cost,
        so it does as little as it can (one clock read, one buffer check, one write).
        """
        box = self.outbox
        items = box.items
        if not items:
            return
        if self.closed:
            items.clear()  # the hub may append until it unregisters us: drop, never grow
            return
        now = self._clock()
        since = box.since
        if since is None:
            box.since = since = now
        if len(items) > box.conflate_at:
            box.compact()
            if len(box.items) > box.max_items:
                self.kill(f"too slow: more than {box.max_items} messages pending")
        if self.kill_reason is None:
            if now - since > self._max_lag:
                self.kill(f"too slow: over {self._max_lag:g}s behind")
            elif self.sink.buffered() < self._write_high:
                self._write_queued()
                return
        self._wake.set()

    def check_lag(self) -> None:
        """Disconnect a client whose queue has waited too long (run on every heartbeat)."""
        if self.kill_reason is None and self.outbox.lag(self._clock()) > self._max_lag:
            self.kill(f"too slow: over {self._max_lag:g}s behind")

    def kill(self, reason: str) -> None:
        """Mark the client for disconnection with 4008; its writer closes it."""
        if self.kill_reason is None:
            self.kill_reason = reason
            log.info("client %d: %s", self.id, reason)
        self._wake.set()

    def _write_queued(self) -> None:
        items = self.outbox.take()
        self.written += len(items)
        self.sink.write([item.frame or item.encode() for item in items])

    async def run_writer(self) -> None:
        """The client's writer: drains the queue when the socket lets it, closes slow clients."""
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while self.outbox and self.kill_reason is None and self.sink.is_open():
                    if self.sink.buffered() >= self._write_high:
                        await asyncio.sleep(self._poll)  # the socket drains at the client's pace
                        self.check_lag()
                        continue
                    self._write_queued()
                if self.kill_reason is not None:
                    await self._close_slow(self.kill_reason)
                    return
        finally:
            self.stop()

    async def _close_slow(self, reason: str) -> None:
        # What is still queued was conflated to one delta per event: write it (bounded)
        # ahead of the close frame, so a client that reads again sees where it stood.
        self.outbox.compact()
        if self.sink.is_open():
            self._write_queued()
            self.closed = True  # nothing more is queued while the close handshake runs
            await self.sink.close(SLOW_CLOSE_CODE, reason[:120])

    def stop(self) -> None:
        """Stop timers and the writer; the session takes no more messages."""
        self.closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._windows.clear()
        self._wake.set()

    async def wait_writer(self, task: asyncio.Task[None]) -> None:
        """Stop the writer task (used when the connection ends)."""
        self.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
