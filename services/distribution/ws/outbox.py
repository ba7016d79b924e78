"""A client's pending messages: a bounded queue that conflates before it gives up.

Pure bookkeeping, no I/O: the client session pushes items, its writer takes them.
When more than ``conflate_at`` items wait (the client reads slower than updates come)
the pending deltas of each event are merged into one (:func:`merge_items`) and only
its newest model prices kept, which bounds the queue by the number of events rather
than the number of updates. If even
that leaves more than ``max_items``, :meth:`Outbox.push` says so and the session
disconnects the client.

:class:`Window` is the same merging on a timer: a subscription with ``conflate_ms``
sends at most one delta per event per window, carrying the latest state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.distribution.ws.frames import Shape, delta_payload, frame_of
from services.distribution.ws.merge import merge_deltas
from services.distribution.ws.ring import DeltaOut
from shared.live import EventDelta

CONTROL, SNAPSHOT, DELTA, MODEL = 0, 1, 2, 3


class Item:
    """One pending message: a ready frame, a shared delta, or a merged delta."""

    __slots__ = ("delta", "event_id", "frame", "from_version", "kind", "out", "shape")

    def __init__(
        self, kind: int, *, event_id: str | None = None, frame: bytes | None = None,
        out: DeltaOut | None = None, delta: EventDelta | None = None,
        from_version: int | None = None, shape: Shape = None,
    ) -> None:
        self.kind = kind
        self.event_id = event_id
        self.frame = frame
        self.out = out
        self.delta = delta
        self.from_version = from_version
        self.shape = shape

    @classmethod
    def control(cls, frame: bytes) -> Item:
        """A message that is not about one event's state (heartbeat, ack, error)."""
        return cls(CONTROL, frame=frame)

    @classmethod
    def snapshot(cls, event_id: str, frame: bytes) -> Item:
        """An event's snapshot: deltas queued before it are never merged across it."""
        return cls(SNAPSHOT, event_id=event_id, frame=frame)

    @classmethod
    def model(cls, event_id: str, frame: bytes) -> Item:
        """An event's model prices: only the latest of an event matters to a client."""
        return cls(MODEL, event_id=event_id, frame=frame)

    @classmethod
    def shared(cls, out: DeltaOut, shape: Shape) -> Item:
        """A delta whose frame (built here, once) every client of the same shape gets."""
        return cls(DELTA, event_id=out.event_id, out=out, shape=shape,
                   frame=out.frame(shape))

    def the_delta(self) -> EventDelta:
        """The delta this item carries (DELTA items only)."""
        if self.out is not None:
            return self.out.delta
        if self.delta is None:
            raise ValueError("not a delta item")
        return self.delta

    def encode(self) -> bytes:
        """The frame to write: shared frames are reused, merged deltas encoded here."""
        if self.frame is not None:
            return self.frame
        delta = self.the_delta()
        data = delta.model_dump(mode="json", exclude_none=True)
        self.frame = frame_of(delta_payload(data, self.shape, from_version=self.from_version))
        return self.frame


def merge_items(first: Item, second: Item) -> Item:
    """One DELTA item equivalent to ``first`` then ``second`` (same event and shape)."""
    start = first.from_version if first.from_version is not None else first.the_delta().version
    merged = merge_deltas(first.the_delta(), second.the_delta())
    return Item(
        DELTA, event_id=first.event_id, delta=merged, from_version=start, shape=second.shape
    )


@dataclass
class Outbox:
    """Pending messages of one client, oldest first."""

    conflate_at: int
    max_items: int
    items: list[Item] = field(default_factory=list)
    # When the queue last went from empty to non-empty: how long the client is behind.
    since: float | None = None
    merged: int = 0  # deltas folded into others, over the outbox's life

    def __len__(self) -> int:
        return len(self.items)

    def push(self, item: Item, now: float) -> bool:
        """Queue an item; False when the queue is over its limit even after conflating."""
        if not self.items:
            self.since = now
        self.items.append(item)
        if len(self.items) > self.conflate_at:
            self.compact()
            return len(self.items) <= self.max_items
        return True

    def compact(self) -> int:
        """Merge the pending deltas of each event (never across its snapshot) and keep only
        its newest model prices; returns how many deltas were merged."""
        result: list[Item] = []
        open_at: dict[str, int] = {}
        merges = 0
        newest_model = {item.event_id: n for n, item in enumerate(self.items)
                        if item.kind == MODEL}
        for n, item in enumerate(self.items):
            if item.kind == MODEL and newest_model.get(item.event_id) != n:
                continue  # overtaken by newer prices of the same event
            if item.kind == DELTA and item.event_id is not None:
                index = open_at.get(item.event_id)
                if index is None:
                    open_at[item.event_id] = len(result)
                    result.append(item)
                else:
                    result[index] = merge_items(result[index], item)
                    merges += 1
            else:
                if item.kind == SNAPSHOT and item.event_id is not None:
                    open_at.pop(item.event_id, None)
                result.append(item)
        self.items = result
        self.merged += merges
        return merges

    def take(self) -> list[Item]:
        """Everything pending, oldest first; the queue is empty afterwards."""
        items, self.items, self.since = self.items, [], None
        return items

    def lag(self, now: float) -> float:
        """Seconds the oldest pending message has waited (0 when empty)."""
        return 0.0 if self.since is None else max(0.0, now - self.since)


@dataclass
class Window:
    """Deltas held for one conflation window, merged per event."""

    pending: dict[str, Item] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        """Hold a delta; a second one of the same event is merged into the first."""
        key = item.event_id or ""
        held = self.pending.get(key)
        self.pending[key] = item if held is None else merge_items(held, item)

    def drop(self, event_id: str) -> None:
        """Forget an event's held delta (a snapshot replaces it)."""
        self.pending.pop(event_id, None)

    def take(self) -> list[Item]:
        """The merged deltas, one per event; the window is empty afterwards."""
        items = list(self.pending.values())
        self.pending.clear()
        return items
