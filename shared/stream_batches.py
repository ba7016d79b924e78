"""Batches of a Faust stream that cost nothing while no record comes.

Faust's ``Stream.noack_take(max_, within)`` is a clock: it wakes every ``within`` seconds
whether or not a record came, to hand over what it buffered. The pricing service takes
with ``within=0.01`` and trading with 0.05, so each woke 100 and 20 times a second doing
nothing: an idle pricing worker used 4.4 % of a core and trading 1.5 % (measured from
``/proc`` over 30 s, nothing on the feed).

:func:`take_batches` buffers the same way (a processor on the stream, passively consumed,
acks left to the caller) but waits for the first record with no timeout, and starts at
most one batch per ``interval_s``: the first record after a quiet spell starts its batch
at once, and under load the batches come once per interval with what came meanwhile, as
``noack_take``'s did. The processors' feed consumer starts its batches the same way.

It relies on faust-streaming's ``Stream`` internals (``add_processor``, the passive
drainer, ``_processors``, ``_active_agens``), as ``noack_take`` does; faust-streaming is
pinned in ``pyproject.toml`` and ``tests/unit/test_stream_batches.py`` runs a real stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Any


def take_batches(stream: Any, max_: int, interval_s: float) -> AsyncGenerator[list[Any], None]:
    """Events of ``stream`` in lists of at most ``max_``, at most one list per
    ``interval_s``, none while nothing comes. Acks are the caller's (``stream.ack``), as
    with ``noack_take``: acknowledge each event once its batch is done."""
    if max_ < 1 or interval_s < 0:
        raise ValueError(f"take_batches: max_ must be >= 1 and interval_s >= 0, "
                         f"got {max_} and {interval_s}")
    batches = _take(stream, max_, interval_s)
    # Registered like noack_take's generators: the stream closes it when it stops.
    agens = getattr(stream, "_active_agens", None)
    if agens is not None:
        agens.add(batches)
    return batches


async def _take(stream: Any, max_: int, interval_s: float) -> AsyncGenerator[list[Any], None]:
    buffer: list[Any] = []
    came = asyncio.Event()  # the buffer holds a record
    full = asyncio.Event()  # it holds max_
    consumed = asyncio.Event()  # the batch handed over is done with
    # Set while a batch is handed over: a record arriving then waits for it to be done.
    handing: asyncio.Future[None] | None = None

    async def add(value: Any) -> Any:
        nonlocal handing
        if handing is not None:
            try:
                await handing
            finally:
                handing = None
        event = stream.current_event
        if event is None:
            raise RuntimeError("take_batches: a record came without its event")
        buffer.append(event)
        came.set()
        if len(buffer) >= max_:
            full.set()
            consumed.clear()  # never more than max_ in one batch
            await stream.wait(consumed)
        return value

    enable_acks = stream.enable_acks
    stream.enable_acks = False
    stream.add_processor(add)
    stream._enable_passive(stream.channel.__aiter__())
    started = float("-inf")
    try:
        # mode's wait_for_stopped says "stopped" on a timeout too: should_stop decides.
        while not stream.should_stop:
            if not buffer:
                await stream.wait_for_stopped(came)
                continue
            wait = started + interval_s - time.monotonic()
            if wait > 0 and len(buffer) < max_:
                await stream.wait_for_stopped(full, timeout=wait)
            started = time.monotonic()
            handing = stream.loop.create_future()
            try:
                yield list(buffer)
            finally:
                buffer.clear()
                came.clear()
                full.clear()
                if handing is not None and not handing.done():
                    handing.set_result(None)
                consumed.set()
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(add)
