"""Running the importer's CPU work beside its database waits.

The import spends about as long in Python (reading files, planning, rendering SQL)
as MariaDB spends executing it; done one after the other they add up. Here the
Python work runs in worker threads while the event loop waits on MySQL's answers
(socket waits release the GIL): the next file is read ahead, and a file's statements
are rendered while the earlier ones execute. Two cores, both busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


async def iterate_in_thread(make: Callable[[], Iterator[T]], buffer: int = 8) -> AsyncIterator[T]:
    """The items of ``make()``, produced in a worker thread, ``buffer`` at most ahead.

    An exception in the thread is raised here; leaving the loop early stops the thread
    at its next item.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=buffer)
    stop = False

    def put(item: object) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

    def produce() -> None:
        try:
            for item in make():
                if stop:
                    return
                put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
            return
        put(_DONE)

    worker = asyncio.ensure_future(asyncio.to_thread(produce))
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop = True
        while not worker.done():  # unblock a producer waiting for room
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                await asyncio.sleep(0.001)
        await worker
