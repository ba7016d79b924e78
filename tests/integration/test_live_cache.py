"""The Redis live state written by :class:`shared.cache.LiveCache`, against the real Redis.

One script call writes many snapshots (of any sports) with their index entries; a
snapshot never replaces a newer version, and the live index follows each event's status.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.cache import open_cache
from shared.enums import EventStatus, Sport
from shared.live import EventSnapshot, FixtureState, events_index_key
from shared.settings import RedisSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

START = datetime(2026, 12, 5, 19, 45, 0, 123456, tzinfo=UTC)


def snapshot(event_id: str, sport: Sport, version: int, status: EventStatus) -> EventSnapshot:
    return EventSnapshot(event_id=event_id, sport=sport, version=version, status=status,
                         fixture=FixtureState(start_time=START))


async def test_one_call_writes_every_sport_keeps_newer_versions_and_follows_status(
    redis_settings: RedisSettings,
) -> None:
    async with open_cache(redis_settings) as cache:
        first = [
            snapshot("fb:1", Sport.FOOTBALL, 3, EventStatus.LIVE),
            snapshot("bk.2", Sport.BASKETBALL, 1, EventStatus.NOT_STARTED),
            snapshot("fb-3", Sport.FOOTBALL, 7, EventStatus.NOT_STARTED),
            snapshot("ih_4", Sport.ICE_HOCKEY, 2, EventStatus.LIVE),
        ]
        assert await cache.write(first) == 4
        assert await cache.live_ids(Sport.FOOTBALL) == ["fb:1"]
        assert await cache.event_ids(Sport.FOOTBALL) == ["fb-3", "fb:1"]
        assert await cache.event_ids(Sport.BASKETBALL) == ["bk.2"]
        assert await cache.live_ids(Sport.BASKETBALL) == []
        assert await cache.live_ids(Sport.ICE_HOCKEY) == ["ih_4"]
        score = await cache.client.zscore(
            events_index_key(redis_settings.key_prefix, Sport.FOOTBALL), "fb:1")
        assert score == pytest.approx(START.timestamp(), abs=1e-6)

        # An older version loses, the same or a newer one wins; a finished event leaves
        # its sport's live index (and stays in the all-events index).
        second = [
            snapshot("fb:1", Sport.FOOTBALL, 4, EventStatus.ENDED),
            snapshot("fb-3", Sport.FOOTBALL, 6, EventStatus.LIVE),
            snapshot("ih_4", Sport.ICE_HOCKEY, 2, EventStatus.LIVE),
        ]
        assert await cache.write(second) == 2
        fb1, fb3 = await cache.read_many(["fb:1", "fb-3"])
        assert fb1 is not None
        assert fb3 is not None
        assert (fb1.version, fb1.status) == (4, EventStatus.ENDED)
        assert (fb3.version, fb3.status) == (7, EventStatus.NOT_STARTED)
        assert await cache.live_ids(Sport.FOOTBALL) == []
        assert await cache.event_ids(Sport.FOOTBALL) == ["fb-3", "fb:1"]
        assert await cache.live_ids(Sport.ICE_HOCKEY) == ["ih_4"]
