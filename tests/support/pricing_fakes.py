"""Fakes of the pricing service's runtime edges, for its unit tests (this module holds no tests)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.enums import Sport
from shared.fair import ModelPrices
from shared.live import EventSnapshot


class FakeSnapshots:
    """Snapshots by event id, as Redis would hold them; counts the loads."""

    def __init__(self, *snapshots: EventSnapshot) -> None:
        self.held = {s.event_id: s for s in snapshots}
        self.loads: list[list[str]] = []

    def put(self, snapshot: EventSnapshot) -> None:
        """A newer snapshot (as a processor writes it)."""
        self.held[snapshot.event_id] = snapshot

    async def load(self, event_ids: Sequence[str]) -> list[EventSnapshot]:
        self.loads.append(list(event_ids))
        return [self.held[e] for e in event_ids if e in self.held]

    async def event_ids(self, sport: Sport) -> list[str]:
        return [e for e, s in self.held.items() if s.sport is sport]


class FakePublisher:
    """Records what would go to Redis and the model topics."""

    def __init__(self) -> None:
        self.published: list[ModelPrices] = []
        self.raw: list[bytes] = []
        self.dropped: list[str] = []

    async def publish(self, items: Sequence[tuple[ModelPrices, bytes]]) -> None:
        for prices, raw in items:
            self.published.append(prices)
            self.raw.append(raw)

    async def drop(self, event_ids: Sequence[str]) -> None:
        self.dropped.extend(event_ids)
