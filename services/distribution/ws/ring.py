"""Deltas as the fan-out holds them: encoded lazily once per shape, and retained per event.

:class:`DeltaOut` wraps one delta from the updates topic; its frames are built the
first time a client of a given shape needs them and reused for every other client of
that shape. A delta read from Kafka (:meth:`DeltaOut.from_record`) is checked only for
what the fan-out routes on (:class:`DeltaHead`: event, sport, version, ``applied_at``):
the processors wrote the rest with :class:`shared.live.EventDelta`'s own serializer, so
the frame for every market is that JSON as written, tagged ``"type": "delta"``; a market
filter works on that JSON parsed, and the model is decoded only when a conflation merges
deltas (as Redis snapshots are served as the processors stored them:
``LiveCache.read_raw``). Decoding every delta into the model and dumping it again took
45 % of the distribution's CPU at 2,000 deltas/s.

:class:`DeltaRing` keeps the last N deltas of an event (contiguous
versions only) so that a client resuming at version ``v`` gets exactly the deltas
after ``v``, or learns that they are gone and needs a snapshot.

The rings hold up to ``retained_events`` times ``retained_deltas`` deltas (millions), so a
retained delta is a plain tuple of a version, bytes and strings (:data:`Retained`),
which the garbage collector stops tracking the first time it sees it: held as objects,
every young collection walked each new delta once more (35 ms of CPU a collection in
``bench_e2e``, a stall of every delta in flight) and a full one walked them all.
"""

from __future__ import annotations

from collections import deque
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from services.distribution.ws.frames import Shape, delta_payload, frame_of
from shared.enums import Sport
from shared.live import EventDelta
from shared.model import Identifier, UtcDatetime

# (version, the delta's JSON, shape key, frame, shape key, frame, ...): one flat tuple of
# atomic values, which the collector stops tracking the first time it sees it.
Retained = tuple[Any, ...]

_SHAPE_KEYS: dict[frozenset[str], str] = {}
_MAX_SHAPE_KEYS = 10_000


def shape_key(shape: Shape) -> str | None:
    """A market filter as a string (None for every market): frames are cached by it."""
    if shape is None:
        return None
    key = _SHAPE_KEYS.get(shape)
    if key is None:
        if len(_SHAPE_KEYS) >= _MAX_SHAPE_KEYS:  # filters are few; a flood only costs joins
            _SHAPE_KEYS.clear()
        key = _SHAPE_KEYS[shape] = "\n".join(sorted(shape))
    return key


class DeltaHead(BaseModel):
    """What the fan-out routes a delta on, read from its JSON (the rest is left as is)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: Identifier
    sport: Sport
    version: Annotated[int, Field(ge=1)]
    applied_at: UtcDatetime


_DELTA_TAG = b'{"type":"delta",'


class DeltaOut:
    """One delta on its way out, with its frames cached per shape.

    Once dispatched the ring keeps it as :data:`Retained` (:meth:`retained`); a delta
    handed out again (a client catching up) is :meth:`revive`-d from it, with its frames,
    and decoded again only when a conflation needs the model.
    """

    __slots__ = ("_data", "_delta", "_frames", "_raw", "applied_at", "event_id", "sport",
                 "version")

    def __init__(self, delta: EventDelta) -> None:
        self._delta: EventDelta | None = delta
        self._raw: bytes | None = None  # its JSON once released (the model is let go)
        self.event_id = delta.event_id
        self.sport = delta.sport
        self.version = delta.version
        self.applied_at = delta.applied_at.timestamp()
        self._data: dict[str, Any] | None = None
        self._frames: dict[str | None, bytes] = {}

    @classmethod
    def from_record(cls, raw: bytes) -> DeltaOut:
        """A delta as read from the updates topic: its head checked, its JSON kept.

        Raises ``ValidationError`` (or ``ValueError``: not JSON) when the head is not a
        delta's.
        """
        head = DeltaHead.model_validate_json(raw)
        out = cls.__new__(cls)
        out._delta, out._raw, out._data = None, raw, None
        out._frames = {}
        out.event_id, out.sport, out.version = head.event_id, head.sport, head.version
        out.applied_at = head.applied_at.timestamp()
        return out

    @classmethod
    def revive(cls, entry: Retained, event_id: str, sport: Sport) -> DeltaOut:
        """A retained delta, with the frames built for it so far."""
        out = cls.__new__(cls)
        out.version, out._raw = entry[0], entry[1]
        out._frames = dict(zip(entry[2::2], entry[3::2], strict=True))
        out.event_id, out.sport = event_id, sport
        out.applied_at = 0.0  # dispatched already: nothing reads it again
        out._delta = out._data = None
        return out

    @property
    def delta(self) -> EventDelta:
        """The delta (decoded again from its JSON after :meth:`release`)."""
        if self._delta is None:
            if self._raw is None:
                raise RuntimeError("released delta without its JSON")
            self._delta = EventDelta.model_validate_json(self._raw)
        return self._delta

    @property
    def data(self) -> dict[str, Any]:
        """The delta in JSON form (prices as strings, times ISO-8601), built once: its
        JSON as read when there is one (what the model would dump), else the model's."""
        if self._data is None:
            if self._delta is None and self._raw is not None:
                self._data = orjson.loads(self._raw)
            else:
                self._data = self.delta.model_dump(mode="json", exclude_none=True)
        return self._data

    def frame(self, shape: Shape) -> bytes:
        """The WebSocket frame of this delta for clients of ``shape``."""
        key = shape_key(shape)
        frame = self._frames.get(key)
        if frame is None:
            raw = self._raw
            if key is None and raw is not None and raw[:1] == b"{":
                # Every market: the JSON as written, tagged (what delta_payload would
                # make of the same delta, byte for byte, without a decode and a dump).
                payload = _DELTA_TAG + raw[1:]
            else:
                payload = delta_payload(self.data, shape)
            frame = self._frames[key] = frame_of(payload)
        return frame

    def release(self) -> None:
        """Keep only bytes: the frames built so far and the delta's JSON."""
        if self._raw is None and self._delta is not None:
            self._raw = self._delta.model_dump_json(exclude_none=True).encode()
        self._delta = None
        self._data = None

    def retained(self) -> Retained:
        """What the ring keeps of this delta (its JSON and the frames built so far)."""
        self.release()
        assert self._raw is not None
        flat: list[Any] = [self.version, self._raw]
        for key, frame in self._frames.items():
            flat += (key, frame)
        return tuple(flat)


def _version(entry: Retained | DeltaOut) -> int:
    return entry.version if type(entry) is DeltaOut else int(entry[0])  # type: ignore[index]


class DeltaRing:
    """The last ``capacity`` deltas of one event, in contiguous version order.

    Entries are :data:`Retained` tuples, except a delta pushed or handed out since the
    last :meth:`settle`, which is held as the :class:`DeltaOut` clients share (so frames
    built for it meanwhile are kept) until then.
    """

    __slots__ = ("_items", "_live", "event_id", "sport")

    def __init__(self, capacity: int) -> None:
        self._items: deque[Retained | DeltaOut] = deque(maxlen=capacity)
        self._live = False  # some entry is a DeltaOut
        self.event_id: str | None = None
        self.sport: Sport | None = None  # the event's sport, as its newest delta says

    @property
    def last_version(self) -> int | None:
        """Version of the newest retained delta (None when empty)."""
        return _version(self._items[-1]) if self._items else None

    @property
    def first_version(self) -> int | None:
        """Version of the oldest retained delta (None when empty)."""
        return _version(self._items[0]) if self._items else None

    def __len__(self) -> int:
        return len(self._items)

    def push(self, out: DeltaOut) -> str:
        """Retain a delta; returns ``"next"``, ``"old"`` (already seen: dropped) or ``"gap"``.

        After a gap the older deltas are dropped: the ring only ever holds versions
        that follow each other, so :meth:`after` never hands out a broken run.
        """
        last = self.last_version
        version = out.version
        if last is not None and version <= last:
            return "old"
        self.event_id, self.sport = out.event_id, out.sport
        self._live = True
        if last is not None and version != last + 1:
            self._items.clear()
            self._items.append(out)
            return "gap"
        self._items.append(out)
        return "next"

    def settle(self) -> None:
        """Keep every entry as :data:`Retained` again (after the deltas went out)."""
        if not self._live:
            return
        items = self._items
        for n, entry in enumerate(items):
            if type(entry) is DeltaOut:
                items[n] = entry.retained()
        self._live = False

    def covers(self, version: int) -> bool:
        """True when :meth:`after` can bring a client holding ``version`` up to date."""
        first, last = self.first_version, self.last_version
        return first is not None and last is not None and first - 1 <= version <= last

    def after(self, version: int) -> list[DeltaOut] | None:
        """The deltas after ``version``, in order; None when the ring cannot cover them.

        ``[]`` means the client is up to date with everything this ring has seen. The
        deltas handed out stay shared (frames built for one client serve the next) until
        :meth:`settle`.
        """
        if not self.covers(version):
            return None
        first, last = self.first_version, self.last_version
        if version == last:
            return []
        assert first is not None
        assert self.event_id is not None
        assert self.sport is not None
        items, found = self._items, []
        for n in range(version - first + 1, len(items)):
            entry = items[n]
            if type(entry) is tuple:
                entry = items[n] = DeltaOut.revive(entry, self.event_id, self.sport)
                self._live = True
            found.append(entry)
        return found  # type: ignore[return-value]


class EventFeed:
    """One event as the hub holds it: its retained deltas and the clients in step with it.

    A client in a group holds exactly the ring's newest version and no conflation
    window: each new delta goes to the whole group as one shared item, with no
    per-client decision. Everyone else goes through :meth:`ClientSession.offer`.
    """

    __slots__ = ("base", "groups", "members", "ring")

    def __init__(self, capacity: int) -> None:
        self.ring = DeltaRing(capacity)
        self.groups: dict[Shape, set[Any]] = {}
        self.members: dict[Any, Shape] = {}
        # Before any delta of the event arrived, the version of the snapshot the first
        # group members hold: new subscribers join at once instead of one by one.
        self.base: int | None = None

    @property
    def last_version(self) -> int | None:
        """The version a group member holds: the newest delta, or the base snapshot."""
        last = self.ring.last_version
        if self.base is None:
            return last
        return self.base if last is None else max(last, self.base)

    def join(self, client: Any, shape: Shape) -> None:
        """Put a client in the group of its shape."""
        self.leave(client)
        self.members[client] = shape
        self.groups.setdefault(shape, set()).add(client)

    def leave(self, client: Any) -> bool:
        """Take a client out of its group; True when it was in one."""
        shape = self.members.pop(client, _NOT_MEMBER)
        if shape is _NOT_MEMBER:
            return False
        group = self.groups.get(shape)
        if group is not None:
            group.discard(client)
            if not group:
                del self.groups[shape]
        return True

    def clear(self) -> list[Any]:
        """Empty every group; returns who was in them."""
        members = list(self.members)
        self.members.clear()
        self.groups.clear()
        return members


_NOT_MEMBER: Any = object()
