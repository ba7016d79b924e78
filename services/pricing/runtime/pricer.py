"""The live path: a batch of deltas in, the ModelPrices of the events they moved out.

For each batch the agent hands over: decode the deltas (an undecodable record is
counted and skipped), load the snapshot of every event not held yet (Redis, else
MySQL), apply the deltas in order, reload the events whose versions jumped (a delta
lost upstream), then price each event that moved once, at its newest version, and
publish. Several changes of one event in one batch (a backlog) thus give one
ModelPrices: prices of a state already overtaken are never published.

Pricing is derived data: a failure here is logged and counted, never allowed to stop
the stream; the next change of the event, or the next snapshot, prices it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from pydantic import ValidationError

from services.pricing.domain.book import EventBook, Verdict
from services.pricing.domain.models import PricingModel
from services.pricing.runtime.metrics import Metrics
from shared.enums import FINAL_EVENT_STATUSES, Sport
from shared.fair import ModelPrices
from shared.live import EventDelta, EventSnapshot

log = logging.getLogger(__name__)
REPRICE_CHUNK = 200


class Snapshots(Protocol):
    """Where snapshots come from (Redis, else MySQL; faked in unit tests)."""

    async def load(self, event_ids: Sequence[str]) -> list[EventSnapshot]:
        """The snapshots of the events that exist."""

    async def event_ids(self, sport: Sport) -> list[str]:
        """Every event of the sport that has a snapshot."""


class Publisher(Protocol):
    """Where prices go (Redis and the model topics; faked in unit tests)."""

    async def publish(self, items: Sequence[tuple[ModelPrices, bytes]]) -> None:
        """Publish prices with their JSON."""

    async def drop(self, event_ids: Sequence[str]) -> None:
        """Forget the prices of void events."""


class Pricer:
    """Applies deltas to the book and publishes the prices they move."""

    def __init__(self, book: EventBook, snapshots: Snapshots, publisher: Publisher,
                 metrics: Metrics, *, clock: Callable[[], datetime] | None = None) -> None:
        self.book = book
        self._snapshots = snapshots
        self._publisher = publisher
        self._metrics = metrics
        self._clock = clock or (lambda: datetime.now(UTC))

    async def process(self, raws: Sequence[bytes]) -> int:
        """One batch of updates-topic records; returns how many ModelPrices went out."""
        try:
            return await self._process(raws)
        except Exception:
            log.exception("pricing a batch of %d updates failed", len(raws))
            return 0

    async def _process(self, raws: Sequence[bytes]) -> int:
        began = time.process_time()
        deltas = self._decode(raws)
        moved: dict[str, datetime] = {}  # event -> applied_at of its first delta here
        drops: list[str] = []
        unseen = list(dict.fromkeys(d.event_id for d in deltas if d.event_id not in self.book))
        cpu = time.process_time() - began
        if unseen:
            await self._load(unseen, "first", moved, drops, deltas)
        began = time.process_time()
        gaps: list[str] = []
        for delta in deltas:
            verdict = self.book.apply(delta)
            self._metrics.deltas.labels(delta.sport.value, verdict.value).inc()
            if verdict is Verdict.PRICE:
                moved.setdefault(delta.event_id, delta.applied_at)
            elif verdict is Verdict.GAP and delta.event_id not in gaps:
                gaps.append(delta.event_id)
            elif verdict is Verdict.DROP:
                drops.append(delta.event_id)
        cpu += time.process_time() - began
        if gaps:
            await self._load(gaps, "gap", moved, drops, deltas)
        return await self._publish(moved, drops, cpu)

    def _decode(self, raws: Sequence[bytes]) -> list[EventDelta]:
        deltas = []
        for raw in raws:
            try:
                deltas.append(EventDelta.model_validate_json(raw))
            except (ValidationError, ValueError) as exc:
                self._metrics.invalid.inc()
                log.warning("skipping an undecodable update: %s", str(exc)[:200])
        return deltas

    async def _load(self, event_ids: list[str], why: str, moved: dict[str, datetime],
                    drops: list[str], deltas: Sequence[EventDelta]) -> None:
        """Hold fresh snapshots of ``event_ids``; those to price join ``moved``."""
        first: dict[str, datetime] = {}
        for delta in deltas:
            first.setdefault(delta.event_id, delta.applied_at)
        for snapshot in await self._snapshots.load(event_ids):
            self._metrics.resyncs.labels(snapshot.sport.value, why).inc()
            verdict = self.book.hold(snapshot)
            if verdict is Verdict.PRICE:
                moved.setdefault(snapshot.event_id, first.get(snapshot.event_id, self._clock()))
            elif verdict is Verdict.DROP:
                drops.append(snapshot.event_id)

    async def _publish(self, moved: dict[str, datetime], drops: list[str],
                       cpu: float | None) -> int:
        """Price the events that moved and publish; ``cpu`` (from the stream): what reading
        their deltas cost, observed with what pricing them costs."""
        began = time.process_time()
        now = self._clock()
        items: list[tuple[ModelPrices, bytes]] = []
        for event_id in moved:
            try:
                prices = self.book.price(event_id, now)
            except Exception:  # one event's bug must not cost the others their prices
                log.exception("pricing %s failed", event_id)
                self.book.forget(event_id)
                continue
            if prices is not None:
                items.append((prices, prices.model_dump_json().encode()))
        spent = time.process_time() - began
        await self._publisher.publish(items)
        await self._publisher.drop(drops)
        done = self._clock()
        for prices, _ in items:
            sport = prices.sport.value
            self._metrics.published.labels(sport, prices.phase).inc()
            if cpu is not None:
                self._metrics.cpu_seconds.labels(sport).observe((cpu + spent) / len(items))
                self._metrics.lag_seconds.labels(sport).observe(
                    max((done - moved[prices.event_id]).total_seconds(), 0.0))
        self._count()
        return len(items)

    def _count(self) -> None:
        for sport in Sport:
            self._metrics.events.labels(sport.value).set(self.book.count(sport))

    # -- not from the stream -------------------------------------------------------------

    async def prime(self) -> int:
        """Hold and price every unfinished event Redis knows (at start); returns prices out."""
        published = 0
        for sport in Sport:
            ids = [e for e in await self._snapshots.event_ids(sport) if e not in self.book]
            for start in range(0, len(ids), REPRICE_CHUNK):
                moved: dict[str, datetime] = {}
                drops: list[str] = []
                for snapshot in await self._snapshots.load(ids[start:start + REPRICE_CHUNK]):
                    if snapshot.status in FINAL_EVENT_STATUSES:
                        continue
                    if self.book.hold(snapshot) is Verdict.PRICE:
                        moved[snapshot.event_id] = self._clock()
                published += await self._publish(moved, drops, None)
        log.info("primed: %d events priced", published)
        return published

    async def switch_model(self, model: PricingModel) -> int:
        """Price ``model``'s sport with it; every held event of the sport is repriced."""
        ids = self.book.set_model(model)
        published = 0
        for start in range(0, len(ids), REPRICE_CHUNK):
            now = self._clock()
            published += await self._publish({e: now for e in ids[start:start + REPRICE_CHUNK]},
                                             [], None)
            await asyncio.sleep(0)  # let the stream and the web views in between chunks
        log.info("%s: now priced with %s (%d events repriced)", model.sport.value, model.version,
                 published)
        return published
