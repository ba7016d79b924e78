"""Live state for REST and WebSocket: the Redis snapshot, MySQL when Redis has none.

Snapshots are handed around in JSON form (``dict`` as ``EventSnapshot`` dumps it with
``mode="json", exclude_none=True``): both readers only filter and re-serialise, so the
Redis bytes are parsed with orjson and never go through the model again (processors
validated them when they built them). Redis is a cache: when it is unreachable or
lacks an event, the state is rebuilt from MySQL with the loader the processors use too
(:mod:`shared.storage.snapshots`), so both paths produce the same snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import orjson

from shared.cache import LiveCache
from shared.enums import Sport
from shared.storage.pool import Pool
from shared.storage.snapshots import FEED_EVENT, load_snapshots

log = logging.getLogger(__name__)

SnapshotData = dict[str, Any]
MYSQL_TIMEOUT_S = 5.0


class SnapshotSource:
    """Reads snapshots of events by id, and the ids of a sport's events."""

    def __init__(self, cache: LiveCache, pool: Pool | None) -> None:
        self._cache = cache
        self._pool = pool

    async def one(self, event_id: str) -> tuple[SnapshotData | None, str]:
        """One event's snapshot and where it came from (``redis`` or ``mysql``)."""
        try:
            raw = await self._cache.read_raw(event_id)
        except Exception as exc:  # Redis errors and timeouts: fall back, never fail
            log.warning("redis read of %s failed (%r): reading MySQL", event_id, exc)
            raw = None
        if raw is not None:
            data: SnapshotData = orjson.loads(raw)
            return data, "redis"
        found = await self._from_mysql([event_id])
        return found.get(event_id), "mysql"

    async def many(self, event_ids: Sequence[str]) -> dict[str, SnapshotData]:
        """Snapshots of the events that exist (Redis first, MySQL for the rest)."""
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return {}
        found: dict[str, SnapshotData] = {}
        try:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                for event_id, raw in zip(part, await self._cache.read_many_raw(part), strict=True):
                    if raw is not None:
                        found[event_id] = orjson.loads(raw)
        except Exception as exc:
            log.warning("redis read of %d snapshots failed (%r): reading MySQL", len(ids), exc)
        missing = [e for e in ids if e not in found]
        if missing:
            found.update(await self._from_mysql(missing))
        return found

    async def models(self, event_ids: Sequence[str]) -> dict[str, SnapshotData]:
        """The latest model prices (``shared.fair.ModelPrices`` in JSON form) of the events
        that have some; Redis only (the pricing service keeps them nowhere else)."""
        found: dict[str, SnapshotData] = {}
        for start in range(0, len(event_ids), 500):
            part = list(event_ids[start : start + 500])
            raws = await self._cache.read_models_raw(part)
            found.update({e: orjson.loads(r) for e, r in zip(part, raws, strict=True) if r})
        return found

    async def event_ids(self, sport: Sport) -> list[str]:
        """Ids of the sport's events that have a snapshot (Redis index), else the events the
        feed carried from MySQL (imported history is not live state)."""
        try:
            return await self._cache.event_ids(sport)
        except Exception as exc:
            log.warning("redis index of %s unreadable (%r): reading MySQL", sport.value, exc)
        if self._pool is None:
            return []
        async with asyncio.timeout(MYSQL_TIMEOUT_S), self._pool.acquire() as conn:
            async with conn.cursor() as cur:
                await cur.execute(
                    f"SELECT e.id FROM events e WHERE e.sport = %s AND {FEED_EVENT}"
                    " ORDER BY e.start_time, e.id", (sport.value,)
                )
                rows = await cur.fetchall()
            await conn.commit()
        return [row[0] for row in rows]

    async def _from_mysql(self, event_ids: Sequence[str]) -> dict[str, SnapshotData]:
        if self._pool is None or not event_ids:
            return {}
        async with asyncio.timeout(MYSQL_TIMEOUT_S), self._pool.acquire() as conn:
            async with conn.cursor() as cur:
                snapshots = await load_snapshots(cur, list(event_ids))
            # Plain reads still open a transaction (autocommit is off): end it, so the
            # pooled connection sees fresh data next time.
            await conn.commit()
        return {
            event_id: snapshot.model_dump(mode="json", exclude_none=True)
            for event_id, snapshot in snapshots.items()
        }
