"""Distribution's fan-out consumer: lag per topic and partition against the broker's end
offsets, readiness beyond the bound, the metrics, and fetches retried with backoff (a
fake consumer, no I/O)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import TopicPartition

from services.distribution.metrics import DistributionMetrics
from services.distribution.rest.handlers import lag_check
from services.distribution.ws import fanout as fanout_module
from services.distribution.ws.fanout import Fanout
from services.distribution.ws.hub import Hub
from shared.enums import Sport
from shared.lag import BehindSince
from tests.support.distribution_fakes import FakeSource, delta, settings

UPDATES = TopicPartition("sportsfeed.football.updates", 0)
MODEL = TopicPartition("sportsfeed.tennis.model", 3)


@dataclass
class Record:
    topic: str
    offset: int
    value: bytes


class FakeConsumer:
    """What the fan-out asks of aiokafka's consumer."""

    def __init__(self, ends: dict[TopicPartition, int]) -> None:
        self.ends = ends
        self.batches: list[Any] = []  # each: an exception to raise or a dict of records

    def assignment(self) -> set[TopicPartition]:
        return set(self.ends)

    async def position(self, tp: TopicPartition) -> int:
        return 10

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.ends[tp] for tp in tps}

    def highwater(self, tp: TopicPartition) -> int:
        return self.ends[tp]

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Record]]:
        if not self.batches:
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        item = self.batches.pop(0)
        if isinstance(item, BaseException):
            raise item
        return dict(item)


def fanout_on(consumer: FakeConsumer) -> Fanout:
    fanout = Fanout(settings(), Hub(FakeSource({}), settings()))  # type: ignore[arg-type]
    fanout._consumer = consumer
    return fanout


async def test_lag_counts_records_behind_the_broker_and_how_long_it_has_been_behind() -> None:
    consumer = FakeConsumer({UPDATES: 10, MODEL: 17})
    fanout = fanout_on(consumer)
    await fanout._position(consumer)
    lag = {(x.topic, x.partition): x for x in await fanout.lag()}
    assert lag[UPDATES].records == 0
    assert lag[UPDATES].seconds == 0.0
    assert (lag[MODEL].records, lag[MODEL].sport) == (7, Sport.TENNIS)
    assert lag[MODEL].seconds < 1.0  # behind since it was first measured
    assert lag_check(await fanout.lag(), 30.0) == "ok"

    fanout._behind = BehindSince()
    fanout._behind.age(MODEL, 17, 10, time.time() - 45)  # offset 17 was first seen 45 s ago
    late = await fanout.lag()
    check = lag_check(late, 30.0)
    assert check.startswith("behind: sportsfeed.tennis.model[3] by 7 records, 4")
    metrics = DistributionMetrics()  # its collector reads the fan-out's last lag
    metrics.fanout = fanout
    rendered = metrics.render().decode()
    assert ('sportsfeed_distribution_consumer_lag_records{partition="3",sport="tennis",'
            'topic="sportsfeed.tennis.model"} 7.0') in rendered
    assert 'sportsfeed_distribution_consumer_lag_seconds{partition="0",sport="football"' in rendered


class RejoiningConsumer(FakeConsumer):
    """The broker is away (end offsets fail) and the consumer has just let ``gone`` go:
    aiokafka's ``highwater`` asserts for a partition it no longer holds."""

    def __init__(self, ends: dict[TopicPartition, int], gone: TopicPartition) -> None:
        super().__init__(ends)
        self.gone = gone

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        self.ends.pop(self.gone, None)  # the rejoin lands while the broker is asked
        raise KafkaConnectionError()

    def highwater(self, tp: TopicPartition) -> int:
        assert tp in self.ends, "Partition is not assigned"
        return self.ends[tp]


async def test_lag_while_the_broker_is_away_leaves_out_a_partition_the_consumer_let_go() -> None:
    consumer = RejoiningConsumer({UPDATES: 12, MODEL: 17}, gone=MODEL)
    fanout = fanout_on(consumer)
    fanout._next = {UPDATES: 10, MODEL: 10}
    lag = {(x.topic, x.partition): x.records for x in await fanout.lag()}
    assert lag == {(UPDATES.topic, 0): 2}


async def test_records_handed_to_the_hub_catch_the_partition_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout_module, "RETRY_INITIAL_S", 0.01)
    consumer = FakeConsumer({UPDATES: 12, MODEL: 10})
    fanout = fanout_on(consumer)
    raw = [delta("ev", v).model_dump_json(exclude_none=True).encode() for v in (1, 2)]
    consumer.batches = [KafkaConnectionError(), KafkaConnectionError(),
                        {UPDATES: [Record(UPDATES.topic, 10, raw[0]), Record(UPDATES.topic, 11, raw[1])]}]
    dispatched = asyncio.Event()
    seen: list[str] = []

    def on_delta(event_id: str) -> None:
        seen.append(event_id)
        if len(seen) == 2:
            dispatched.set()

    fanout._hub.listeners.append(on_delta)
    task = asyncio.create_task(fanout._run(consumer))
    try:
        await asyncio.wait_for(dispatched.wait(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert consumer.batches == []  # both failures were retried
    lag = {(x.topic, x.partition): x.records for x in await fanout.lag()}
    assert lag == {(UPDATES.topic, 0): 0, (MODEL.topic, 3): 0}
    assert fanout._hub.stats.updates == 2


async def test_a_record_without_a_deltas_head_is_skipped_and_counted_and_the_rest_go_on() -> None:
    consumer = FakeConsumer({UPDATES: 15, MODEL: 10})
    fanout = fanout_on(consumer)
    good = [delta("ev", v).model_dump_json(exclude_none=True).encode() for v in (1, 2)]
    no_version = delta("ev", 1).model_dump(mode="json", exclude_none=True)
    del no_version["version"]
    bad_sport = delta("ev", 1).model_dump(mode="json", exclude_none=True) | {"sport": "chess"}
    values = [good[0], b"not json", orjson.dumps(no_version), orjson.dumps(bad_sport), good[1]]
    consumer.batches = [{UPDATES: [Record(UPDATES.topic, 10 + n, v) for n, v in enumerate(values)]}]
    seen: list[str] = []
    fanout._hub.listeners.append(seen.append)
    task = asyncio.create_task(fanout._run(consumer))
    try:
        for _ in range(500):
            if seen:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert fanout.invalid == 3
    assert fanout._hub.stats.updates == 2
    assert seen == ["ev", "ev"]
    assert fanout._next[UPDATES] == 15  # the skipped records are behind it, not lost in it
