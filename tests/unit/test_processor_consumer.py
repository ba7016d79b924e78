"""The bulk feed consumer over a fake Kafka consumer: batches, commits after MySQL,
rebalances and shutdown wait for the batch in progress."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition

from services.processors.domain.incoming import Incoming
from services.processors.runtime.consumer import BUSY_FETCH_MIN_BYTES, IDLE_FETCH, FeedConsumer
from shared.codec import encode_message
from shared.settings import KafkaSettings
from tests.support.samples import Messages

TOPIC = "unit.sportsfeed.football.feed"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


@dataclass
class Record:
    value: bytes
    offset: int
    timestamp: int | None = 1_700_000_000_000


class FakeKafka:
    """The parts of AIOKafkaConsumer the feed consumer uses; batches are queued by tests."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.batches: asyncio.Queue[dict[TopicPartition, list[Record]]] = asyncio.Queue()
        self.commits: list[dict[TopicPartition, int]] = []
        self.committed_offsets: dict[TopicPartition, int] = {}
        self.high: dict[TopicPartition, int] = {}
        self.listener: Any = None
        self.stopped = False
        # aiokafka's fetcher reads these two whenever it builds a fetch request.
        self._fetcher = SimpleNamespace(_fetch_min_bytes=config["fetch_min_bytes"],
                                        _fetch_max_wait_ms=config["fetch_max_wait_ms"])
        self.polls: list[tuple[int, tuple[int, int]]] = []  # getmany timeout, fetch settings

    async def start(self) -> None:
        return None

    def subscribe(self, topics: list[str], listener: Any) -> None:
        self.listener = listener

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Record]]:
        self.polls.append((timeout_ms, self.fetch_settings()))
        if timeout_ms == 0:  # what is buffered now, as aiokafka does
            try:
                return self.batches.get_nowait()
            except asyncio.QueueEmpty:
                return {}
        try:
            return await asyncio.wait_for(self.batches.get(), timeout_ms / 1000)
        except TimeoutError:
            return {}

    def fetch_settings(self) -> tuple[int, int]:
        return self._fetcher._fetch_min_bytes, self._fetcher._fetch_max_wait_ms

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))
        self.committed_offsets.update(offsets)

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.committed_offsets.get(tp)

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, 0)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.high.get(tp)

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.high[tp] for tp in tps if tp in self.high}

    async def stop(self) -> None:
        self.stopped = True


class Harness:
    def __init__(self) -> None:
        self.kafka: FakeKafka | None = None
        self.seen: list[list[tuple[int, int]]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.published: list[int] = []

    def factory(self, **config: Any) -> FakeKafka:
        self.kafka = FakeKafka(**config)
        return self.kafka

    async def prepare(self, items: Sequence[Incoming], before: asyncio.Future[Any]) -> None:
        return None

    async def commit(self, items: Sequence[Incoming], prepared: Any = None) -> list[int]:
        self.entered.set()
        await self.gate.wait()  # the MySQL transaction
        self.seen.append([(i.partition, i.offset) for i in items])
        return [len(self.seen)]

    async def after_commit(self, plans: Sequence[int]) -> None:
        self.published.extend(plans)


def records(n: int, start: int = 0) -> list[Record]:
    m = Messages()
    return [Record(encode_message(m.odds(f"e{i}")), start + i) for i in range(n)]


async def started(h: Harness, *, commit_interval_s: float = 0.0,
                  batch_interval_s: float = 0.0) -> FeedConsumer:
    feed = FeedConsumer(KafkaSettings(topic_prefix="unit"), TOPIC, "g", h, batch_max=5000,
                        batch_within_s=0, commit_interval_s=commit_interval_s,
                        session_timeout_s=10, batch_interval_s=batch_interval_s,
                        consumer_factory=h.factory)
    await feed.start()
    assert h.kafka is not None
    await h.kafka.listener.on_partitions_assigned([P0, P1])
    return feed


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_fetched_batch_is_applied_whole_in_partition_order_and_committed_after() -> None:
    h = Harness()
    feed = await started(h)
    assert h.kafka is not None
    h.gate.clear()
    await h.kafka.batches.put({P0: records(3), P1: records(2, start=10)})
    await h.entered.wait()
    await settle()
    assert h.kafka.commits == []  # nothing committed while MySQL has not committed
    h.gate.set()
    await asyncio.sleep(0.05)
    assert h.seen == [[(0, 0), (0, 1), (0, 2), (1, 10), (1, 11)]]
    assert h.kafka.commits == [{P0: 3, P1: 12}]
    assert h.published == [1]
    await feed.stop()


async def test_the_next_batch_is_fetched_while_one_commits_and_decided_only_after() -> None:
    h = Harness()
    feed = await started(h, commit_interval_s=3600)
    assert h.kafka is not None
    h.gate.clear()
    await h.kafka.batches.put({P0: records(2)})
    await h.entered.wait()
    await h.kafka.batches.put({P0: records(2, start=2)})
    await settle()
    assert h.kafka.batches.empty()  # fetched (and decoded) already
    assert h.seen == []  # but not decided: it threads the states the first batch leaves
    h.gate.set()
    await asyncio.sleep(0.05)
    assert h.seen == [[(0, 0), (0, 1)], [(0, 2), (0, 3)]]
    assert h.published == [1, 2]
    await feed.stop()
    assert h.kafka.commits == [{P0: 4}]


async def test_records_of_partitions_revoked_meanwhile_are_left_to_their_new_owner() -> None:
    h = Harness()
    feed = await started(h, commit_interval_s=3600)
    assert h.kafka is not None
    h.gate.clear()
    await h.kafka.batches.put({P0: records(1)})
    await h.entered.wait()
    await h.kafka.batches.put({P0: records(1, start=1), P1: records(1, start=5)})
    await settle()
    revoke = asyncio.create_task(h.kafka.listener.on_partitions_revoked([P0]))
    h.gate.set()
    await revoke
    await asyncio.sleep(0.05)
    assert h.seen == [[(0, 0)], [(1, 5)]]
    await feed.stop()
    assert h.kafka.commits == [{P0: 1}, {P1: 6}]


async def test_a_rebalance_waits_for_the_batch_in_progress_and_commits_it_first() -> None:
    h = Harness()
    feed = await started(h, commit_interval_s=3600)  # only a rebalance or a stop commits
    assert h.kafka is not None
    h.gate.clear()
    await h.kafka.batches.put({P1: records(4)})
    await h.entered.wait()
    revoke = asyncio.create_task(h.kafka.listener.on_partitions_revoked([P0, P1]))
    await settle()
    assert not revoke.done()  # the partitions cannot go while their batch is applied
    h.gate.set()
    await revoke
    assert h.kafka.commits == [{P1: 4}]
    assert feed.assignment == set()
    await feed.stop()


async def test_stop_lets_the_batch_in_progress_commit_then_commits_and_leaves() -> None:
    h = Harness()
    feed = await started(h, commit_interval_s=3600)
    assert h.kafka is not None
    h.gate.clear()
    await h.kafka.batches.put({P0: records(2)})
    await h.entered.wait()
    stopping = asyncio.create_task(feed.stop())
    await settle()
    assert not stopping.done()
    h.gate.set()
    await stopping
    assert h.seen == [[(0, 0), (0, 1)]]
    assert h.kafka.commits == [{P0: 2}]
    assert h.kafka.stopped


async def test_lag_counts_every_record_not_applied_and_the_age_of_the_oldest_in_hand() -> None:
    h = Harness()
    feed = await started(h, commit_interval_s=3600)
    assert h.kafka is not None
    h.kafka.high = {P0: 10, P1: 0}
    assert await feed.lag() == {0: (10, 0.0), 1: (0, 0.0)}  # none in hand yet: since assigned
    h.gate.clear()
    await h.kafka.batches.put({P0: records(4)})  # Kafka timestamps of 2023-11-14
    await h.entered.wait()
    lag = await feed.lag()
    assert lag[0][0] == 10
    assert lag[0][1] > 86400  # the oldest unapplied record in hand is that old
    h.gate.set()
    await asyncio.sleep(0.05)
    assert (await feed.lag())[0][0] == 6
    h.kafka.high = {P0: 4, P1: 0}
    assert await feed.lag() == {0: (0, 0.0), 1: (0, 0.0)}
    await feed.stop()


async def test_lag_mid_rebalance_skips_a_partition_the_consumer_no_longer_holds() -> None:
    """The broker does not answer and aiokafka already dropped P1 (its highwater asserts):
    the lag of P0 is still reported and nothing raises (it once made /readyz a 500)."""
    h = Harness()
    feed = await started(h, commit_interval_s=3600)
    kafka = h.kafka
    assert kafka is not None
    kafka.high = {P0: 10, P1: 3}

    async def no_answer(tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        raise TimeoutError

    def highwater(tp: TopicPartition) -> int | None:
        assert tp == P0, "Partition is not assigned"
        return kafka.high[tp]

    kafka.end_offsets = no_answer  # type: ignore[method-assign]
    kafka.highwater = highwater  # type: ignore[method-assign]
    assert await feed.lag() == {0: (10, 0.0)}
    await feed.stop()


async def test_a_busy_worker_starts_one_batch_per_interval_and_a_quiet_one_at_once() -> None:
    h = Harness()
    feed = await started(h, batch_interval_s=1.0)
    assert h.kafka is not None
    loop = asyncio.get_running_loop()

    async def batches(n: int) -> float:
        """The time the n-th batch was seen committed (polled; fails after 5 s)."""
        for _ in range(1000):
            if len(h.seen) >= n:
                return loop.time()
            await asyncio.sleep(0.005)
        raise AssertionError(f"batch {n} never came: {h.seen}")

    began = loop.time()
    await h.kafka.batches.put({P0: records(1)})
    first = await batches(1)
    assert first - began < 0.5  # after a quiet spell: taken at once
    # Two fetches right after it: held until the interval has passed, then one batch.
    await h.kafka.batches.put({P0: records(1, start=1)})
    await asyncio.sleep(0.05)
    await h.kafka.batches.put({P1: records(2, start=10)})
    await asyncio.sleep(0.2)
    assert h.seen == [[(0, 0)]]  # the second batch waits for the interval
    second = await batches(2)
    assert second - first >= 0.95
    assert h.seen == [[(0, 0)], [(0, 1), (1, 10), (1, 11)]]
    # Quiet longer than the interval: the next record goes at once again.
    await asyncio.sleep(1.1)
    began = loop.time()
    await h.kafka.batches.put({P0: records(1, start=2)})
    assert await batches(3) - began < 0.5
    await feed.stop()


async def first_batch(h: Harness) -> None:
    """Wait (up to a second) until a batch was applied."""
    for _ in range(200):
        if h.seen:
            break
        await asyncio.sleep(0.005)


async def test_fetches_are_paced_by_the_interval_while_records_come_and_long_polled_after(
) -> None:
    h = Harness()
    feed = await started(h, batch_interval_s=0.05)
    kafka = h.kafka
    assert kafka is not None
    assert kafka.fetch_settings() == IDLE_FETCH  # a quiet worker long-polls
    await kafka.batches.put({P0: records(3)})
    await first_batch(h)
    # Records came: the broker holds the next fetch for the interval, and the consumer
    # gives up on records after two intervals...
    assert kafka.fetch_settings() == (BUSY_FETCH_MIN_BYTES, 50)
    assert kafka.polls[1] == (100, (BUSY_FETCH_MIN_BYTES, 50))
    # ...after which, none having come, it long-polls again.
    await asyncio.sleep(0.3)
    assert kafka.fetch_settings() == IDLE_FETCH
    assert kafka.polls[-1] == (IDLE_FETCH[1], IDLE_FETCH)
    assert feed.fetch_mode_changes == 2
    await feed.stop()


async def test_without_an_interval_fetches_are_always_long_polls() -> None:
    h = Harness()
    feed = await started(h)
    assert h.kafka is not None
    await h.kafka.batches.put({P0: records(3)})
    await first_batch(h)
    await asyncio.sleep(0.05)
    assert {settings for _, settings in h.kafka.polls} == {IDLE_FETCH}
    assert feed.fetch_mode_changes == 0
    await feed.stop()


async def test_records_fetched_before_a_rebalance_are_let_go_even_if_the_partition_comes_back(
) -> None:
    h = Harness()
    feed = await started(h, batch_interval_s=0.5)
    assert h.kafka is not None
    await h.kafka.batches.put({P0: records(1)})
    for _ in range(200):
        if h.seen:
            break
        await asyncio.sleep(0.005)
    assert h.seen == [[(0, 0)]]
    # Fetched, then held for the interval; meanwhile a rebalance takes every partition
    # and gives them back: the owner starts again at the committed offset (1), so the
    # same records are fetched again and must be applied once.
    await h.kafka.batches.put({P0: records(2, start=1)})
    await asyncio.sleep(0.1)
    await h.kafka.listener.on_partitions_revoked([P0, P1])
    await h.kafka.listener.on_partitions_assigned([P0, P1])
    await h.kafka.batches.put({P0: records(2, start=1)})
    for _ in range(400):
        if len(h.seen) > 1:
            break
        await asyncio.sleep(0.005)
    assert h.seen == [[(0, 0)], [(0, 1), (0, 2)]]
    await feed.stop()
