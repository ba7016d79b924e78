"""The client's picture of the events it follows: snapshots and deltas applied by version.

Pure (no I/O): :class:`EventBook` takes the server's ``snapshot`` and ``delta`` messages
(decoded JSON) and says what each did. The rules are those of ``docs/websocket.md``,
"Applying updates", with :func:`shared.live.apply_delta` doing the merge:

- a snapshot replaces the event's state;
- a delta at or below the version held is already applied: ignored;
- a delta whose first version (``from_version`` for a conflated one, else its version)
  is the next one applies; a conflated delta spans ``from_version..version`` and carries
  the latest state of every market that changed in it, so it applies in one step;
- anything else is a gap: the event needs a fresh snapshot (the caller sends ``resync``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.live import EventDelta, EventSnapshot, apply_delta

Verdict = Literal["applied", "old", "gap"]
# Wire fields of a delta that are not EventDelta's own.
_DELTA_WIRE = ("type", "conflated", "from_version")


@dataclass(frozen=True)
class Applied:
    """What a delta did: applied (``state`` is the event after it), old, or a gap
    (``resync``: a new one, to ask a fresh snapshot for; False while one is on its way)."""

    verdict: Verdict
    delta: EventDelta
    state: EventSnapshot | None
    conflated_from: int | None = None
    resync: bool = False


class EventBook:
    """Every followed event's state, and the events waiting for a fresh snapshot."""

    def __init__(self) -> None:
        self.states: dict[str, EventSnapshot] = {}
        # Events a gap was found in, until their snapshot arrives (one resync each).
        self.resyncing: set[str] = set()

    def versions(self) -> dict[str, int]:
        """The version held of each event (what ``resume`` sends after a reconnect)."""
        return {event_id: state.version for event_id, state in self.states.items()}

    def snapshot(self, message: Mapping[str, Any]) -> EventSnapshot:
        """Apply a ``snapshot`` message: it replaces the event's state."""
        state = EventSnapshot.model_validate({k: v for k, v in message.items() if k != "type"})
        self.states[state.event_id] = state
        self.resyncing.discard(state.event_id)
        return state

    def delta(self, message: Mapping[str, Any]) -> Applied:
        """Apply a ``delta`` message to the event's state, if it follows it."""
        delta = EventDelta.model_validate(
            {k: v for k, v in message.items() if k not in _DELTA_WIRE})
        first = int(message.get("from_version") or delta.version)
        conflated = first if message.get("conflated") else None
        held = self.states.get(delta.event_id)
        if held is not None and delta.version <= held.version:
            return Applied("old", delta, held, conflated)
        if delta.event_id in self.resyncing:
            return Applied("gap", delta, held, conflated)
        if held is None or first != held.version + 1:
            self.resyncing.add(delta.event_id)
            return Applied("gap", delta, held, conflated, resync=True)
        # A conflated delta spans first..version: merged onto the state as one step.
        base = held if first == delta.version else held.model_copy(
            update={"version": delta.version - 1})
        state = self.states[delta.event_id] = apply_delta(base, delta)
        return Applied("applied", delta, state, conflated)
