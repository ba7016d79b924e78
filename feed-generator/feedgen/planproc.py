"""The plan as an async stream, built in a process of its own when asked.

Simulating, pricing, validating and encoding a message costs about a millisecond of
CPU, as much as sending it; a child process builds the plan while the main process
only sends, so the two use two cores. The child builds exactly the same plan (same
options, seed and start), in chunks through a bounded queue, which also stops it from
running far ahead of sending. Planned messages cross without their canonical copy
(the sender needs only the encoded payload).
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import queue as queue_module
import traceback
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from feedgen.plan import Planned, RunPlan
from feedgen.settings import RunOptions

CHUNK = 256
_DONE = "done"
_FAILED = "failed"


def _produce(options: str, seed: int, start_at: str, out: Any) -> None:
    """Child process: build the plan and put it in chunks; then ``done`` (or ``failed``)."""
    try:
        plan = RunPlan(RunOptions.model_validate_json(options), seed=seed,
                       start_at=datetime.fromisoformat(start_at))
        chunk: list[Planned] = []
        for planned in plan:
            chunk.append(dataclasses.replace(planned, message=None))
            if len(chunk) >= CHUNK:
                out.put(chunk)
                chunk = []
        out.put(chunk)
        out.put(_DONE)
    except BaseException:  # report anything to the parent rather than die silently
        out.put((_FAILED, traceback.format_exc()))


def _take(source: Any, stop: asyncio.Event) -> Any:
    """A blocking get that gives up once ``stop`` is set (a thread must not hang)."""
    while not stop.is_set():
        try:
            return source.get(timeout=0.2)
        except queue_module.Empty:
            continue
    return _DONE


async def planned_stream(
    opts: RunOptions, *, seed: int, start_at: datetime, process: bool = True
) -> AsyncGenerator[Planned, None]:
    """The run's planned messages in order, built here or in a child process."""
    if not process:
        for planned in RunPlan(opts, seed=seed, start_at=start_at):
            yield planned
        return
    context = multiprocessing.get_context("spawn")  # never fork a process with threads
    source = context.Queue(maxsize=16)
    options = opts.model_copy(update={"api_key": None}).model_dump_json()
    child = context.Process(target=_produce, args=(options, seed, start_at.isoformat(), source),
                            name="feedgen-plan", daemon=True)
    child.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        while True:
            item = await loop.run_in_executor(None, _take, source, stop)
            if item == _DONE:
                return
            if isinstance(item, tuple):
                raise RuntimeError(f"the plan process failed:\n{item[1]}")
            for planned in item:
                yield planned
    finally:
        stop.set()
        if child.is_alive():
            child.terminate()
        await loop.run_in_executor(None, child.join, 5)
