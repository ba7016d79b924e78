"""Rendering in a worker thread while the event loop consumes: order, errors, early exit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.history.threads import iterate_in_thread


async def test_items_arrive_in_order_from_the_worker_thread() -> None:
    assert [n async for n in iterate_in_thread(lambda: iter(range(50)), buffer=3)] == list(range(50))


async def test_an_error_in_the_thread_is_raised_to_the_consumer() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("bad row")

    seen: list[int] = []

    async def consume() -> None:
        async for n in iterate_in_thread(broken):
            seen.append(n)

    with pytest.raises(ValueError, match="bad row"):
        await consume()
    assert seen == [1]


async def test_leaving_early_stops_the_producer() -> None:
    produced = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    async for n in iterate_in_thread(endless, buffer=2):
        if n == 3:
            break
    assert len(produced) < 10
