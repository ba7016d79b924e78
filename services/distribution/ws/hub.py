"""The fan-out: every delta from the updates topics to every client that follows it.

:meth:`Hub.dispatch` is synchronous. Each delta is retained in its event's ring, then
handed out in two ways:

- clients in step with the event sit in its :class:`~.ring.EventFeed` groups, one per
  market filter: the delta is encoded once per group and the same item is appended to
  each member's queue (no per-client decision: this is the path that scales);
- every other follower (a first contact, a conflating subscription, a client catching
  up) goes through :meth:`ClientSession.offer`, and joins its group once in step.

Touched clients are flushed together, at most once per ``flush_interval_ms`` (one write
per client for everything that arrived meanwhile): at once when the last flush is that
old, else when it will be. Snapshots (on subscribe, gap, resync) are
fetched by background tasks, one read for every client that needs an event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from services.distribution.settings import DistributionSettings
from services.distribution.snapshots import SnapshotData, SnapshotSource
from services.distribution.ws.client import LIVE, PENDING, UNKNOWN, ClientSession
from services.distribution.ws.frames import Shape, frame_of, snapshot_payload, utc_iso
from services.distribution.ws.models import ModelFrames
from services.distribution.ws.outbox import CONTROL, MODEL, SNAPSHOT, Item
from services.distribution.ws.ring import DeltaOut, EventFeed
from services.distribution.ws.stats import HubStats
from shared.enums import FINAL_EVENT_STATUSES, Sport
from shared.live import EventDelta

log = logging.getLogger(__name__)

# How soon a snapshot that could not bring a client up to date is fetched again, and
# how long an event found nowhere is not looked up again.
RETRY_S = 0.25
MISSING_TTL_S = 1.0
_FINAL = frozenset(s.value for s in FINAL_EVENT_STATUSES)


class Hub(ModelFrames):
    """Clients, their indexes by sport and event, and the per-event feeds."""

    def __init__(self, source: SnapshotSource, settings: DistributionSettings) -> None:
        self._source = source
        self._settings = settings
        self.clients: set[ClientSession] = set()
        self._by_sport: dict[Sport, set[ClientSession]] = {s: set() for s in Sport}
        self._by_event: dict[str, set[ClientSession]] = {}
        self._feeds: OrderedDict[str, EventFeed] = OrderedDict()
        # event id -> {client: True when asked by a sport-wide subscribe}
        self._requests: dict[str, dict[ClientSession, bool]] = {}
        self._missing: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._dirty: set[ClientSession] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = float("-inf")  # loop time of the last flush
        # Called with the event id of every delta dispatched (not an old one).
        self.listeners: list[Callable[[str], None]] = []
        self.stats = HubStats()

    # -- clients ------------------------------------------------------------------------

    def register(self, client: ClientSession) -> None:
        """Start tracking a connected client."""
        self.clients.add(client)

    def unregister(self, client: ClientSession) -> None:
        """Forget a client (its connection ended)."""
        self.clients.discard(client)
        self._dirty.discard(client)
        for members in self._by_sport.values():
            members.discard(client)
        for event_id in client.subs.event_ids():
            self._unindex_event(event_id, client)
        for event_id, version in client.versions.items():
            feed = self._feeds.get(event_id)
            if version == LIVE and feed is not None:
                feed.leave(client)
        self.stats.written += client.written
        for kind, count in client.queued.items():
            self.stats.queued_by_kind[kind] += count
        self.stats.conflated += client.outbox.merged
        if client.kill_reason is not None:
            self.stats.slow_disconnects += 1

    def update_subscriptions(
        self, client: ClientSession, before_events: Iterable[str], before: dict[str, Shape]
    ) -> None:
        """After a subscribe or unsubscribe: indexes, groups, and fresh snapshots where the
        market filter of a tracked event changed (so newly wanted markets show)."""
        # Held windows go out first: deltas that follow them may take the direct path.
        client.flush_windows()
        sports = client.subs.sports()
        for sport, members in self._by_sport.items():
            if sport in sports:
                members.add(client)
            else:
                members.discard(client)
        events = client.subs.event_ids()
        for event_id in before_events:
            if event_id not in events:
                self._unindex_event(event_id, client)
        for event_id in events:
            self._by_event.setdefault(event_id, set()).add(client)
        for event_id in [e for e, v in client.versions.items() if v == LIVE]:
            live_feed = self._feeds[event_id]
            event_sport = client.event_sports.get(event_id)
            view = client.subs.view(event_id, event_sport) if event_sport is not None else None
            if view is None or view.conflate_ms > 0:
                live_feed.leave(client)
                client.versions[event_id] = live_feed.last_version or 0
        for event_id in client.drop_unfollowed():
            gone_feed = self._feeds.get(event_id)
            if gone_feed is not None:
                gone_feed.leave(client)
        after = client.shapes()
        for event_id, shape in after.items():
            if event_id in before and before[event_id] != shape:
                self._request(event_id, client, sport_wide=False)
        self._fetch_requested()

    def _unindex_event(self, event_id: str, client: ClientSession) -> None:
        members = self._by_event.get(event_id)
        if members is not None:
            members.discard(client)
            if not members:
                del self._by_event[event_id]

    def _join(self, client: ClientSession, event_id: str, sport: Sport, feed: EventFeed) -> None:
        """Move a client in step with the feed (and not conflating) into its group."""
        version = client.versions.get(event_id)
        if version is None or version < 0:
            return
        view = client.subs.view(event_id, sport)
        if view is None or view.conflate_ms > 0:
            return
        if feed.last_version is None:
            feed.base = version  # no delta seen yet: this snapshot's version is the base
        if version != feed.last_version:
            return
        client.event_sports[event_id] = sport
        feed.join(client, view.shape)
        client.versions[event_id] = LIVE

    # -- the hot path ---------------------------------------------------------------------

    def dispatch(self, deltas: Sequence[EventDelta]) -> None:
        """Fan a batch of deltas (models) out: :meth:`dispatch_out` of each."""
        self.dispatch_out([DeltaOut(delta) for delta in deltas])

    def dispatch_out(self, outs: Sequence[DeltaOut]) -> None:
        """Fan a batch of deltas out; never awaits, never blocks on a client.

        The fan-out reads from a delta only what it routes on (event, sport, version,
        ``applied_at``): the Kafka path hands over deltas as read (``DeltaOut.from_record``).
        """
        dirty = self._dirty
        now = time.time()
        for out in outs:
            self.stats.updates += 1
            self.stats.observe_lag(now - out.applied_at)
            self._fan_out(out, dirty).ring.settle()
        self._schedule_flush()
        self._fetch_requested()

    def _fan_out(self, out: DeltaOut, dirty: set[ClientSession]) -> EventFeed:
        """One delta: into its ring, to its groups, then to the followers outside them;
        returns the event's feed."""
        event_id, version = out.event_id, out.version
        feed = self._feed(event_id)
        expected = feed.last_version
        verdict = feed.ring.push(out)
        if verdict == "old":
            self.stats.old_updates += 1
            return feed
        for listener in self.listeners:
            listener(event_id)
        if expected is not None and version <= expected:
            pass  # the group's base snapshot already has it (Redis ahead of the topic)
        elif verdict == "gap" or (expected is not None and version > expected + 1):
            self.stats.gaps += verdict == "gap"
            log.info("gap in %s before v%d: clients get a fresh snapshot", event_id, version)
            for client in feed.clear():
                self._request(event_id, client, sport_wide=False)
        else:
            for shape, group in feed.groups.items():
                item = Item.shared(out, shape)
                # The hot path: a bare append per member, no per-client decision. The
                # queue's bookkeeping (lag, conflation, limits) runs once per client in
                # its flush, not once per delta.
                for client in group:
                    client.outbox.items.append(item)
                dirty.update(group)
        explicit, sport_wide = self._by_event.get(event_id), self._by_sport[out.sport]
        # Group members follow the event, so when they are as many as the followers
        # could be, nobody is left for the slow path: skip the per-client loop.
        if len(feed.members) >= (len(explicit) if explicit else 0) + len(sport_wide):
            return feed
        for members in (explicit, sport_wide):
            if not members:
                continue
            for client in members:
                seen = client.versions.get(event_id)
                if seen in (LIVE, PENDING):
                    continue
                if client.offer(out, feed.ring):
                    self._request(event_id, client, sport_wide=False)
                else:
                    self._join(client, event_id, out.sport, feed)
                dirty.add(client)
        return feed

    def _feed(self, event_id: str) -> EventFeed:
        feed = self._feeds.get(event_id)
        if feed is None:
            feed = self._feeds[event_id] = EventFeed(self._settings.retained_deltas)
            if len(self._feeds) > self._settings.retained_events:
                old_id, evicted = self._feeds.popitem(last=False)
                # Its clients keep their place as plain versions and go the slow way.
                for client in evicted.clear():
                    client.versions[old_id] = evicted.last_version or 0
        else:
            self._feeds.move_to_end(event_id)
        return feed

    def _schedule_flush(self) -> None:
        """Flush now if the last flush is at least ``flush_interval_ms`` old, else when it
        will be: at most one write per client per interval, and a batch that comes after
        a quiet spell (the processors publish in bursts) is not held for a whole one."""
        if not self._dirty or self._flush_handle is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_flush + self._settings.flush_interval_ms / 1000 - loop.time()
        if wait <= 0:
            self._flush_dirty()
        else:
            self._flush_handle = loop.call_later(wait, self._flush_dirty)

    def _flush_dirty(self) -> None:
        self._flush_handle = None
        self._last_flush = asyncio.get_running_loop().time()
        dirty, self._dirty = self._dirty, set()
        for client in dirty:
            client.flush()

    # -- snapshots --------------------------------------------------------------------------

    def _request(self, event_id: str, client: ClientSession, *, sport_wide: bool) -> None:
        if client.versions.get(event_id) == LIVE:
            self._feeds[event_id].leave(client)
        missing_since = self._missing.get(event_id)
        if missing_since is not None and time.monotonic() - missing_since < MISSING_TTL_S:
            client.versions[event_id] = UNKNOWN
            return
        client.versions[event_id] = PENDING
        self._requests.setdefault(event_id, {})[client] = sport_wide

    def _fetch_requested(self) -> None:
        if not self._requests:
            return
        requests, self._requests = self._requests, {}
        task = asyncio.get_running_loop().create_task(self._deliver(requests))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, requests: dict[str, dict[ClientSession, bool]]) -> None:
        try:
            found: dict[str, SnapshotData] | None = await self._source.many(list(requests))
        except Exception as exc:
            self.stats.snapshot_failures += 1
            log.warning("snapshot fetch of %d events failed (%r): retrying", len(requests), exc)
            found = None
        retry: dict[str, dict[ClientSession, bool]] = {}
        touched: set[ClientSession] = set()
        for event_id, clients in requests.items():
            data = found.get(event_id) if found is not None else None
            if found is None:
                retry[event_id] = clients
                continue
            if data is None:
                self._missing[event_id] = time.monotonic()
            self.stats.snapshots_fetched += data is not None
            frames: dict[Shape, bytes] = {}

            def frame_for(shape: Shape, data: SnapshotData | None = data,
                          frames: dict[Shape, bytes] = frames) -> bytes:
                frame = frames.get(shape)
                if frame is None and data is not None:
                    frame = frames[shape] = frame_of(snapshot_payload(data, shape))
                return frame or b""

            final = data is not None and data.get("status") in _FINAL
            # A feed from the first snapshot on, so subscribers join their group at once.
            feed = self._feed(event_id) if data is not None else self._feeds.get(event_id)
            for client, sport_wide in clients.items():
                if client.closed:
                    continue
                if sport_wide and final and event_id not in client.subs.event_ids():
                    client.versions.pop(event_id, None)  # settled history: not pushed unasked
                    continue
                if data is None and not sport_wide and client.versions.get(event_id) == PENDING:
                    client.push_control("error", code="unknown_event", event_id=event_id,
                                        message=f"no event {event_id} yet: it comes when it exists")
                if client.take_snapshot(event_id, data, frame_for, feed.ring if feed else None):
                    retry.setdefault(event_id, {})[client] = sport_wide
                elif feed is not None and data is not None:
                    self._join(client, event_id, Sport(data["sport"]), feed)
                touched.add(client)
            if feed is not None:
                feed.ring.settle()
        for client in touched:
            client.flush()
        if retry:
            await asyncio.sleep(RETRY_S)
            for event_id, clients in retry.items():
                for client, sport_wide in clients.items():
                    if not client.closed and client.versions.get(event_id) == PENDING:
                        self._requests.setdefault(event_id, {})[client] = sport_wide
            self._fetch_requested()

    # -- client requests ----------------------------------------------------------------------

    async def follow(
        self, client: ClientSession, *, event_ids: Iterable[str], sports: Iterable[Sport],
        resume: dict[str, int], model: bool = False,
    ) -> None:
        """Snapshots (or retained deltas, for ``resume``) of what a new subscription covers,
        and the latest model prices of its events when it asks for them."""
        covered = list(event_ids)
        for event_id, version in resume.items():
            self._resume(client, event_id, version)
        for event_id in covered:
            if event_id not in resume and client.versions.get(event_id) in (None, UNKNOWN):
                self._request(event_id, client, sport_wide=False)
        for sport in sports:
            ids = await self._source.event_ids(sport)
            covered += ids
            for event_id in ids:
                if client.closed:
                    return
                if client.versions.get(event_id) is None and event_id not in resume:
                    self._request(event_id, client, sport_wide=True)
        client.flush()
        self._fetch_requested()
        if model:
            await self._send_models(client, covered)

    def _resume(self, client: ClientSession, event_id: str, version: int) -> None:
        feed = self._feeds.get(event_id)
        sport = feed.ring.sport if feed is not None else None
        view = client.subs.view(event_id, sport) if sport is not None else None
        if feed is not None and sport is not None and view is not None \
                and feed.ring.covers(version):
            if client.versions.get(event_id) == LIVE:
                feed.leave(client)
            client.event_sports[event_id] = sport
            client.catch_up(event_id, version, feed.ring, view)
            feed.ring.settle()
            self._join(client, event_id, sport, feed)
            self.stats.resumed_from_ring += 1
        else:
            self._request(event_id, client, sport_wide=False)
            self.stats.resumed_by_snapshot += 1

    def resync(self, client: ClientSession, event_ids: Iterable[str] | None) -> int:
        """Fresh snapshots of the given followed events (all followed when None)."""
        wanted = list(client.versions) if event_ids is None else [
            e for e in event_ids if e in client.versions
        ]
        for event_id in wanted:
            self._request(event_id, client, sport_wide=False)
        self._fetch_requested()
        return len(wanted)

    # -- heartbeats and shutdown ----------------------------------------------------------------

    def heartbeat(self) -> None:
        """Send every client the server's heartbeat and drop those too far behind."""
        frame = frame_of(f'{{"type":"heartbeat","ts":"{utc_iso()}"}}'.encode())
        item = Item.control(frame)
        for client in list(self.clients):
            client.push(item)
            client.check_lag()
            client.flush()

    async def run_heartbeats(self) -> None:
        """Heartbeat every ``heartbeat_s`` until cancelled."""
        while True:
            await asyncio.sleep(self._settings.heartbeat_s)
            self.heartbeat()

    def totals(self) -> dict[str, int]:
        """Messages written, and snapshots and control messages queued, over all clients."""
        written = self.stats.written + sum(c.written for c in self.clients)
        queued = dict(self.stats.queued_by_kind)
        for client in self.clients:
            for kind, count in client.queued.items():
                queued[kind] += count
        return {"written": written, "control": queued[CONTROL], "snapshot": queued[SNAPSHOT],
                "model": queued[MODEL]}

    async def close(self) -> None:
        """Cancel the snapshot fetches in flight and the pending flush."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_dirty()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
