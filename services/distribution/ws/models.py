"""Model prices to WebSocket clients: the part of the hub that pushes ``model`` frames.

The pricing service's prices (``shared.fair.ModelPrices`` in JSON form) reach every
client whose subscriptions covering the event ask for them (``"model": true``), in the
client's market filter, encoded once per filter; a new subscription gets the latest
prices of its events from Redis at once. Model frames are no part of an event's version
sequence: each stands alone, and a slow client's queue keeps only the newest of an
event (:class:`~.outbox.Outbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from services.distribution.snapshots import SnapshotSource
from services.distribution.ws.client import ClientSession
from services.distribution.ws.frames import Shape, frame_of, model_payload
from services.distribution.ws.outbox import Item
from services.distribution.ws.stats import HubStats
from shared.enums import Sport

log = logging.getLogger(__name__)


class ModelFrames:
    """Mixed into the hub: its client indexes, dirty set and flush are what this uses."""

    _source: SnapshotSource
    _by_sport: dict[Sport, set[ClientSession]]
    _by_event: dict[str, set[ClientSession]]
    _dirty: set[ClientSession]
    stats: HubStats

    def _schedule_flush(self) -> None:
        raise NotImplementedError

    def dispatch_models(self, prices: Sequence[tuple[str, Sport, dict[str, Any]]]) -> None:
        """Model prices (event id, sport, ``ModelPrices`` in JSON form) to every client whose
        subscriptions covering the event ask for them; never awaits."""
        dirty = self._dirty
        for event_id, sport, data in prices:
            self.stats.models += 1
            self._push_model(event_id, sport, data, dirty)
        self._schedule_flush()

    def _push_model(self, event_id: str, sport: Sport, data: dict[str, Any],
                    dirty: set[ClientSession], only: ClientSession | None = None) -> None:
        frames: dict[Shape, bytes] = {}
        explicit = self._by_event.get(event_id) or set()
        clients = (only,) if only is not None else explicit | self._by_sport[sport]
        for client in clients:
            view = client.subs.view(event_id, sport)
            if view is None or not view.model:
                continue
            frame = frames.get(view.shape)
            if frame is None:
                frame = frames[view.shape] = frame_of(model_payload(data, view.shape))
            client.push(Item.model(event_id, frame))
            dirty.add(client)

    async def _send_models(self, client: ClientSession, event_ids: list[str]) -> None:
        """The latest model prices of ``event_ids`` that have some, to one client."""
        try:
            found = await self._source.models(list(dict.fromkeys(event_ids)))
        except Exception as exc:  # model prices come again with the next change
            log.warning("reading model prices of %d events failed: %r", len(event_ids), exc)
            return
        if client.closed:
            return
        for event_id, data in found.items():
            self._push_model(event_id, Sport(data["sport"]), data, set(), only=client)
        client.flush()
