"""Deltas as the fan-out holds them: encoded lazily once per shape, and retained per event.

:class:`DeltaOut` wraps one delta from the updates topic; its frames are built the
first time a client of a given shape needs them and reused for every other client of
that shape. :class:`DeltaRing` keeps the last N deltas of an event (contiguous
versions only) so that a client resuming at version ``v`` gets exactly the deltas
after ``v``, or learns that they are gone and needs a snapshot.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from services.distribution.ws.frames import Shape, delta_payload, frame_of
from shared.enums import Sport
from shared.live import EventDelta


class DeltaOut:
    """One delta on its way out, with its frames cached per shape.

    Once dispatched it is :meth:`release`-d down to bytes (its frames and the JSON it
    came as): rings hold hundreds of thousands of these, and plain bytes cost neither
    much memory nor garbage-collector time. The model is decoded again only when a
    conflation needs it.
    """

    __slots__ = ("_data", "_delta", "_frames", "_raw", "event_id", "sport", "version")

    def __init__(self, delta: EventDelta, raw: bytes | None = None) -> None:
        self._delta: EventDelta | None = delta
        self._raw = raw
        self.event_id = delta.event_id
        self.sport = delta.sport
        self.version = delta.version
        self._data: dict[str, Any] | None = None
        self._frames: dict[Shape, bytes] = {}

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
        """The delta in JSON form (prices as strings, times ISO-8601), built once."""
        if self._data is None:
            self._data = self.delta.model_dump(mode="json", exclude_none=True)
        return self._data

    def frame(self, shape: Shape) -> bytes:
        """The WebSocket frame of this delta for clients of ``shape``."""
        frame = self._frames.get(shape)
        if frame is None:
            frame = self._frames[shape] = frame_of(delta_payload(self.data, shape))
        return frame

    def release(self) -> None:
        """Keep only bytes: the frames built so far and the delta's JSON."""
        if self._raw is None and self._delta is not None:
            self._raw = self._delta.model_dump_json(exclude_none=True).encode()
        self._delta = None
        self._data = None


class DeltaRing:
    """The last ``capacity`` deltas of one event, in contiguous version order."""

    __slots__ = ("_items",)

    def __init__(self, capacity: int) -> None:
        self._items: deque[DeltaOut] = deque(maxlen=capacity)

    @property
    def last_version(self) -> int | None:
        """Version of the newest retained delta (None when empty)."""
        return self._items[-1].version if self._items else None

    @property
    def first_version(self) -> int | None:
        """Version of the oldest retained delta (None when empty)."""
        return self._items[0].version if self._items else None

    @property
    def sport(self) -> Sport | None:
        """The event's sport, as its newest delta says (None when empty)."""
        return self._items[-1].sport if self._items else None

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
        if last is not None and version != last + 1:
            self._items.clear()
            self._items.append(out)
            return "gap"
        self._items.append(out)
        return "next"

    def after(self, version: int) -> list[DeltaOut] | None:
        """The deltas after ``version``, in order; None when the ring cannot cover them.

        ``[]`` means the client is up to date with everything this ring has seen.
        """
        first, last = self.first_version, self.last_version
        if first is None or last is None:
            return None
        if version == last:
            return []
        if version < first - 1 or version > last:
            return None
        start = version - first + 1
        return [self._items[i] for i in range(start, len(self._items))]


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
