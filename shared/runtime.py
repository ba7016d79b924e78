"""Process start-up shared by the services (aiohttp, websockets and the Faust workers)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import faust

log = logging.getLogger(__name__)


def collect_less(thresholds: tuple[int, int, int], *, freeze: bool = True) -> None:
    """Run the cyclic garbage collector less often (each service says why its thresholds);
    with ``freeze``, what start-up made first goes out of every later collection."""
    if freeze:
        gc.collect()
        gc.freeze()
    gc.set_threshold(*thresholds)


def heartbeat_interval_s(session_timeout_s: float) -> float:
    """A consumer group member's heartbeat for a session timeout: a third of it (three
    missed beats before the group gives the member up), at most every 3 s (Kafka's
    default)."""
    return min(3.0, session_timeout_s / 3)


def faust_app_settings(*, bootstrap: str, web_host: str, web_port: int, datadir: Path,
                       session_timeout_s: float | None = None,
                       **more: Any) -> dict[str, Any]:
    """The Faust configuration every worker shares (processors, pricing, trading), plus
    ``more`` (each app's own consumer and commit settings). ``session_timeout_s`` sets
    Faust's consumer session and its heartbeat (:func:`heartbeat_interval_s`).

    Raw bytes in and out (the services decode with the canonical model); topics are
    created by ``python -m shared.topics``, never by a worker, and nothing runs "on
    leader only"; the web server (health, readiness, metrics) in the event loop; state
    in memory (Faust's tables are not used).
    """
    brokers = ";".join(f"kafka://{b.strip()}" for b in bootstrap.split(","))
    return {
        "broker": brokers,
        "value_serializer": "raw",
        "key_serializer": "raw",
        "topic_allow_declare": False,
        "topic_disable_leader": True,
        "web_enabled": True,
        "web_host": web_host,
        "web_port": web_port,
        "web_in_thread": False,
        "store": "memory://",
        "datadir": str(datadir),
        "autodiscover": False,
        **({} if session_timeout_s is None else {
            "broker_session_timeout": session_timeout_s,
            "broker_heartbeat_interval": heartbeat_interval_s(session_timeout_s)}),
        **more,
    }


def faust_worker(app: faust.App, *services: Any, loglevel: str) -> faust.Worker:
    """A quiet Faust worker for ``app`` (and ``services``) without its terminal spinner.

    Faust keeps a spinner unless the log level is below WARNING, and for it sets the
    *root* logger to DEBUG with a handler of its own: every debug line of every library
    (aiokafka logs one per request sent and frame read) then becomes a LogRecord that
    walks the handlers. Measured in a processor at 500 msg/s: 5 % of its CPU.
    """
    import faust

    worker = faust.Worker(app, *services, loglevel=loglevel, quiet=True)
    worker.spinner = None
    return worker


def install_uvloop() -> bool:
    """Use uvloop's event loop when it is installed; plain asyncio works, only slower."""
    try:
        import uvloop
    except ImportError:
        log.info("event loop: asyncio")
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    log.info("event loop: uvloop")
    return True


class RepeatFilter(logging.Filter):
    """Lets through at most ``burst`` records of one kind per ``window_s``; counts the rest.

    A kind is (logger, level, message template): while Kafka is down, aiokafka logs the
    same connection failure thousands of times a second with different arguments (seen:
    50,000 lines in 16 s from one service), which would fill the disk and bury the one
    line that matters. The first record of a kind after a quiet window says how many
    were held back. Only warnings and errors are counted: information lines (progress,
    start-up) always pass.
    """

    def __init__(self, burst: int = 5, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._burst = burst
        self._window = window_s
        self._clock = clock
        self._kinds: dict[tuple[str, int, str], list[float]] = {}  # [window start, seen, held]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        state = self._kinds.get(key)
        if state is None or now - state[0] >= self._window:
            held = int(state[2]) if state is not None else 0
            if len(self._kinds) > 10_000:  # never grows without bound
                self._kinds.clear()
            self._kinds[key] = [now, 1, 0]
            if held:
                record.msg = f"{record.msg} [{held} similar messages held back in the last " \
                             f"{self._window:g} s]"
            return True
        state[1] += 1
        if state[1] <= self._burst:
            return True
        state[2] += 1
        return False


def quiet_repeated_logs(burst: int = 5, window_s: float = 60.0) -> None:
    """Put a :class:`RepeatFilter` on every handler of the root logger (once each)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(RepeatFilter(burst, window_s))


async def kafka_reachable(bootstrap: str, wait_s: float = 2.0) -> None:
    """Raise unless a bootstrap broker accepts a TCP connection."""
    errors = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            async with asyncio.timeout(wait_s):
                _, writer = await asyncio.open_connection(host, int(port))
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        except (OSError, TimeoutError, socket.gaierror) as exc:
            errors.append(f"{server}: {exc!r}")
    raise ConnectionError("; ".join(errors))
