"""The Redis live state: event snapshots and the per-sport indexes (layout in shared.live).

Processors write here after each MySQL commit; distribution reads. Writes go through
one Lua script per call, so each event's snapshot and its index entries change
together (atomically), and a snapshot never replaces a newer version: two workers of a
sport during a rebalance, a delayed repair or a rebuild racing a worker can only move
an event forward. Redis stays a cache: :func:`snapshots_from` of MySQL rebuilds it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
import redis.asyncio as aioredis

from shared.enums import LIVE_EVENT_STATUSES, Sport
from shared.fair import model_key
from shared.live import EventSnapshot, event_key, events_index_key, live_index_key
from shared.settings import RedisSettings

# KEYS: n snapshot keys, then the live index and the all-events index of each sport the
# call writes (one pair per sport). ARGV: the n snapshot JSONs, then one JSON array with,
# per snapshot, [its sport's pair (from 0), version, score, is live, event id]: a call's
# arguments grow by one per snapshot, not five (redis-py packs each argument in Python,
# and with 3 keys and 5 arguments per snapshot packing was a tenth of a worker's CPU).
# The stored version is read from the JSON text: EventSnapshot puts "version" right
# after event_id and sport, whose values cannot contain quotes, so the first match is it.
_WRITE_LUA = """
local meta = cjson.decode(ARGV[#ARGV])
local n = #meta
local written = 0
for i = 1, n do
  local m = meta[i]
  local current = redis.call('GET', KEYS[i])
  local stored = -1
  if current then
    local v = string.match(current, '"version":(%d+)')
    if v then stored = tonumber(v) end
  end
  if m[2] >= stored then
    local live, all, score, id = KEYS[n + 2 * m[1] + 1], KEYS[n + 2 * m[1] + 2], m[3], m[5]
    redis.call('SET', KEYS[i], ARGV[i])
    redis.call('ZADD', all, score, id)
    if m[4] then
      redis.call('ZADD', live, score, id)
    else
      redis.call('ZREM', live, id)
    end
    written = written + 1
  end
end
return written
"""


def index_score(snapshot: EventSnapshot) -> float:
    """Index score: the scheduled start (epoch seconds), 0 while unknown."""
    start = snapshot.fixture.start_time
    return start.timestamp() if start is not None else 0.0


class LiveCache:
    """Snapshots and indexes under one key prefix."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._write = client.register_script(_WRITE_LUA)

    @property
    def client(self) -> aioredis.Redis:
        """The underlying client."""
        return self._client

    @property
    def prefix(self) -> str:
        """The key prefix."""
        return self._prefix

    async def write(self, snapshots: Sequence[EventSnapshot], chunk: int = 500) -> int:
        """Write snapshots (older versions than Redis has are skipped); returns how many won."""
        written = 0
        for start in range(0, len(snapshots), chunk):
            part = snapshots[start : start + chunk]
            keys = [event_key(self._prefix, s.event_id) for s in part]
            pairs: dict[Sport, int] = {}
            meta: list[tuple[int, int, str, bool, str]] = []
            for s in part:
                pair = pairs.get(s.sport)
                if pair is None:
                    pair = pairs[s.sport] = len(pairs)
                    keys += [live_index_key(self._prefix, s.sport),
                             events_index_key(self._prefix, s.sport)]
                meta.append((pair, s.version, repr(index_score(s)),
                             s.status in LIVE_EVENT_STATUSES, s.event_id))
            args: list[Any] = [s.__pydantic_serializer__.to_json(s, exclude_none=True)
                               for s in part]
            args.append(orjson.dumps(meta))
            written += int(await self._write(keys=keys, args=args))
        return written

    async def read(self, event_id: str) -> EventSnapshot | None:
        """The snapshot of one event, or None."""
        raw = await self._client.get(event_key(self._prefix, event_id))
        return EventSnapshot.model_validate_json(raw) if raw is not None else None

    async def read_many(self, event_ids: Sequence[str]) -> list[EventSnapshot | None]:
        """Snapshots of several events, in order (None where missing)."""
        if not event_ids:
            return []
        raws = await self._client.mget([event_key(self._prefix, e) for e in event_ids])
        return [EventSnapshot.model_validate_json(r) if r is not None else None for r in raws]

    async def read_raw(self, event_id: str) -> bytes | None:
        """The snapshot JSON of one event exactly as stored (no validation), or None.

        Readers that only re-serialise (distribution's REST and WebSocket) skip the
        model round trip: what processors wrote here was validated when it was built.
        """
        return _bytes(await self._client.get(event_key(self._prefix, event_id)))

    async def read_many_raw(self, event_ids: Sequence[str]) -> list[bytes | None]:
        """The stored snapshot JSON of several events, in order (None where missing)."""
        if not event_ids:
            return []
        raws = await self._client.mget([event_key(self._prefix, e) for e in event_ids])
        return [_bytes(r) for r in raws]

    async def read_models_raw(self, event_ids: Sequence[str]) -> list[bytes | None]:
        """The latest model prices of several events as the pricing service stored them
        (``shared.fair.ModelPrices`` JSON under :func:`shared.fair.model_key`), in order."""
        if not event_ids:
            return []
        raws = await self._client.mget([model_key(self._prefix, e) for e in event_ids])
        return [_bytes(r) for r in raws]

    async def live_ids(self, sport: Sport) -> list[str]:
        """Ids of the sport's live events, by start time."""
        members = await self._client.zrange(live_index_key(self._prefix, sport), 0, -1)
        return [_text(m) for m in members]

    async def event_ids(self, sport: Sport) -> list[str]:
        """Ids of every event of the sport that has a snapshot, by start time."""
        members = await self._client.zrange(events_index_key(self._prefix, sport), 0, -1)
        return [_text(m) for m in members]

    async def rebuild(self, sport: Sport, snapshots: Sequence[EventSnapshot]) -> int:
        """Make Redis hold exactly ``snapshots`` for the sport (newer versions are kept).

        Events Redis knows but the source does not are dropped from the indexes and
        their snapshots deleted.
        """
        written = await self.write(snapshots)
        keep = {s.event_id for s in snapshots}
        stale = [e for e in await self.event_ids(sport) if e not in keep]
        stale += [e for e in await self.live_ids(sport) if e not in keep and e not in stale]
        await self.drop(sport, stale)
        return written

    async def drop(self, sport: Sport, event_ids: Sequence[str]) -> None:
        """Forget events: their snapshots and index entries (readers fall back to MySQL).

        For writers outside the processors (the history import) that change events in
        MySQL directly: a snapshot a rebuild copied earlier must not outlive the change.
        """
        for start in range(0, len(event_ids), 500):
            part = list(event_ids[start : start + 500])
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zrem(events_index_key(self._prefix, sport), *part)
                pipe.zrem(live_index_key(self._prefix, sport), *part)
                pipe.delete(*[event_key(self._prefix, e) for e in part])
                await pipe.execute()

    async def ping(self) -> None:
        """Raise unless Redis answers."""
        await self._client.ping()


def _bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@asynccontextmanager
async def open_cache(
    settings: RedisSettings, *, timeout_s: float = 2.0
) -> AsyncIterator[LiveCache]:
    """A :class:`LiveCache` on ``settings``; the connection pool is closed on exit.

    Short socket timeouts: a Redis outage must cost a batch two seconds at most, after
    which the caller stops trying and repairs later.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.url, max_connections=settings.max_connections, timeout=timeout_s,
        socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
    )
    client = aioredis.Redis.from_pool(pool)
    try:
        yield LiveCache(client, settings.key_prefix)
    finally:
        await client.aclose()
