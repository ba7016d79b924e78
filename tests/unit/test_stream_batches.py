"""take_batches on a real faust-streaming stream (an agent's in-memory test channel)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import faust
import pytest

from shared.stream_batches import take_batches


@dataclass
class Taken:
    """What the agent saw: each batch's values and when it was handed over, and how
    many times the take went to sleep."""

    batches: list[tuple[float, list[int]]] = field(default_factory=list)
    sleeps: int = 0
    acked: int = 0

    @property
    def values(self) -> list[int]:
        return [v for _, batch in self.batches for v in batch]


@asynccontextmanager
async def agent_taking(take: Callable[[Any], Any]) -> AsyncIterator[tuple[Any, Taken]]:
    """A Faust agent whose stream is read with ``take(stream)``, acking each batch."""
    app = faust.App(f"t-batches-{time.monotonic_ns()}", broker="kafka://127.0.0.1:1",
                    store="memory://", autodiscover=False, web_enabled=False)
    taken = Taken()

    async def work(stream: Any) -> None:
        sleep = stream.wait_for_stopped

        async def counted(*args: Any, **kwargs: Any) -> bool:
            taken.sleeps += 1
            return bool(await sleep(*args, **kwargs))

        stream.wait_for_stopped = counted
        async for batch in take(stream):
            taken.batches.append((time.monotonic(), [e.value for e in batch]))
            for event in batch:
                taken.acked += bool(await stream.ack(event))

    agent: Any = app.agent(name="t")(work)
    async with agent.test_context() as context:
        yield context, taken


async def test_an_idle_take_sleeps_once_until_a_record_comes() -> None:
    async with agent_taking(lambda s: take_batches(s, 50, 0.01)) as (context, taken):
        await asyncio.sleep(0.3)
        # Faust's noack_take(50, within=0.01) wakes every 10 ms: about 30 times here.
        assert taken.sleeps <= 1
        assert taken.batches == []
        await context.put(1)
        for _ in range(100):
            if taken.batches:
                break
            await asyncio.sleep(0.01)
        assert taken.values == [1]


async def test_records_come_in_order_in_batches_of_at_most_max_and_are_acked() -> None:
    async with agent_taking(lambda s: take_batches(s, 5, 0.05)) as (context, taken):
        for n in range(12):
            await context.put(n)
        for _ in range(200):
            if len(taken.values) == 12:
                break
            await asyncio.sleep(0.01)
        assert taken.values == list(range(12))
        assert all(1 <= len(batch) <= 5 for _, batch in taken.batches)
        assert taken.acked == 12


async def test_a_batch_starts_at_most_once_per_interval_the_first_at_once() -> None:
    async with agent_taking(lambda s: take_batches(s, 100, 0.3)) as (context, taken):
        await asyncio.sleep(0.1)
        put = time.monotonic()
        await context.put(1)
        for _ in range(100):
            if taken.batches:
                break
            await asyncio.sleep(0.01)
        first_at = taken.batches[0][0]
        assert first_at - put < 0.25  # not held for the interval: nothing came before it
        await context.put(2)
        await context.put(3)
        for _ in range(200):
            if len(taken.values) == 3:
                break
            await asyncio.sleep(0.01)
        assert taken.values == [1, 2, 3]
        assert len(taken.batches) == 2
        assert taken.batches[1][0] - first_at >= 0.29  # the second waited out the interval


@pytest.mark.parametrize(("max_", "interval_s"), [(0, 0.1), (10, -1.0)])
def test_bad_arguments_are_refused_with_their_values(max_: int, interval_s: float) -> None:
    with pytest.raises(ValueError, match=f"got {max_} and {interval_s}"):
        take_batches(object(), max_, interval_s)
