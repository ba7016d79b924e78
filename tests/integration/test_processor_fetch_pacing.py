"""A busy worker's fetches are paced by the batch interval, against the real Kafka.

The feed consumer starts at most one batch per ``batch_interval_s``. Its Kafka fetches
follow: after a fetch that brought records the broker is asked to hold the next one for
the interval, so it answers once per window with everything that came meanwhile. Were
the next fetch long-polled as an idle worker's is, the broker would answer it at the
first new record, the client would hold that answer while the worker waits out its
interval, and the records that came after it would wait for the window after (up to two
intervals). This test sends a record every few milliseconds and measures, for each
record, the time from its Kafka timestamp to the start of the batch that took it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.processors.domain.incoming import Incoming
from services.processors.runtime.consumer import BUSY_FETCH_MIN_BYTES, IDLE_FETCH, FeedConsumer
from shared.codec import encode_message
from shared.enums import Sport
from shared.settings import KafkaSettings
from shared.topics import Topics
from tests.conftest import fresh_name
from tests.support.processors import wait_until
from tests.support.samples import Messages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

INTERVAL = 0.2


class Recorder:
    """A pipeline that only records when each record's batch started."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.batches = 0

    async def prepare(self, items: Sequence[Incoming], before: asyncio.Future[Any]) -> None:
        return None

    async def commit(self, items: Sequence[Incoming], prepared: Any = None) -> list[int]:
        now = time.time()
        self.batches += 1
        self.waits.extend(now - i.timestamp for i in items if i.timestamp is not None)
        return []

    async def after_commit(self, plans: Sequence[Any]) -> None:
        return None


async def test_a_busy_worker_takes_each_record_within_one_interval(
    kafka_settings: KafkaSettings,
) -> None:
    topic = Topics(kafka_settings.topic_prefix).feed(Sport.FOOTBALL)
    recorder = Recorder()
    feed = FeedConsumer(kafka_settings, topic, fresh_name("g"), recorder, batch_max=5000,
                        batch_within_s=0, batch_interval_s=INTERVAL, commit_interval_s=1,
                        session_timeout_s=10)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_settings.bootstrap, linger_ms=0)
    await producer.start()
    await feed.start()
    try:
        async def assigned() -> bool:
            return bool(feed.assignment)

        async def all_taken() -> bool:
            return len(recorder.waits) >= sent

        await wait_until(assigned, within=30, every=0.05, what="an assignment")
        fetcher = feed._consumer._fetcher
        assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == IDLE_FETCH
        msgs = Messages(Sport.FOOTBALL)
        # The keys' partitions have a leader before the clock starts: a send retried
        # through a leader election (NotLeaderForPartition on a new topic) is stamped
        # before the retry, and its record would count as waiting for its batch.
        for key in range(7):
            await producer.send_and_wait(topic, encode_message(msgs.odds(f"e{key}")),
                                         key=f"e{key}".encode())
        sent = 7
        await wait_until(all_taken, within=10, every=0.05, what="the warm-up records taken")
        recorder.waits.clear()
        recorder.batches = 0
        sent = 0
        await asyncio.sleep(4 * INTERVAL)  # quiet again: back to long polls
        began = time.monotonic()
        while time.monotonic() - began < 3.0:  # a record every ~5 ms for 3 s
            await producer.send_and_wait(topic, encode_message(msgs.odds(f"e{sent % 7}")),
                                         key=f"e{sent % 7}".encode())
            sent += 1
            await asyncio.sleep(0.005)
        busy = (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms)
        await wait_until(all_taken, within=10, every=0.05, what="every record taken")
        await asyncio.sleep(4 * INTERVAL)  # quiet again: back to long polls
        idle = (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms)
    finally:
        await feed.stop()
        await producer.stop()
    assert len(recorder.waits) == sent
    assert busy == (BUSY_FETCH_MIN_BYTES, round(INTERVAL * 1000))
    assert idle == IDLE_FETCH
    # One batch per interval, give or take the first and last ones...
    assert recorder.batches <= 3.0 / INTERVAL + 3
    # ...and no record waits for the window after its own (one interval, with slack for
    # the round trips on a loaded machine; a long-polled fetch makes this ~two intervals).
    worst = max(recorder.waits)
    assert worst < 1.5 * INTERVAL, f"a record waited {worst:.3f} s for its batch"
