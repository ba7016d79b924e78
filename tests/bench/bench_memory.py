"""Resident memory and CPU of the platform's processes, read from Linux ``/proc``.

Not a benchmark of its own: :class:`ProcessSampler` runs beside the end-to-end load
(``tests/bench/bench_e2e.py``) and records, for each named process, its resident set
(``VmRSS``) every half second and its high-water mark (``VmHWM``, the largest RSS the
kernel ever saw for it) at the end, plus the CPU it used during the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.report import REPO


def status_kb(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of a process in KiB (empty once it is gone)."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return {}
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The live processes under ``pid`` (``/proc/<pid>/task/*/children``), deepest last."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except (FileNotFoundError, ProcessLookupError):
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            found += kids
            todo += kids
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and the processes under it (a supervisor and its workers)."""
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in descendants(pid))


def cpu_line_seconds(line: str, ticks_per_s: float) -> tuple[float, float]:
    """Busy and stolen CPU seconds of ``/proc/stat``'s ``cpu`` line (all cores together).

    Busy is user, nice, system, irq and softirq: work done on this machine. Stolen is the
    time its virtual CPUs were ready to run while the host ran something else; it is not
    busy (no process here used it), it is a machine slower than its cores say.
    """
    fields = [int(x) for x in line.split()[1:]] + [0] * 8
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / ticks_per_s, steal / ticks_per_s


def machine_cpu_seconds() -> tuple[float, float]:
    """Busy and stolen CPU seconds since boot (:func:`cpu_line_seconds` of ``/proc/stat``).

    The change over a step, divided by its wall time, is how many cores the whole
    machine kept busy: compared with what the benchmark's own processes used, it says
    how much other work competed for the cores. Stolen cores say how much the host took.
    """
    line = Path("/proc/stat").read_text().splitlines()[0]
    return cpu_line_seconds(line, os.sysconf("SC_CLK_TCK"))


def stack_pids() -> dict[str, int]:
    """Kafka, MariaDB and Redis of the local stack, from its pid files (those alive)."""
    run = Path(os.environ.get("SPORTSFEED_DATA_DIR", REPO / ".data")) / "run"
    pids: dict[str, int] = {}
    for name in ("kafka", "mariadb", "redis"):
        with contextlib.suppress(FileNotFoundError, ValueError):
            pid = int((run / f"{name}.pid").read_text().strip())
            if Path(f"/proc/{pid}").exists():
                pids[name] = pid
    return pids


@dataclass
class _Track:
    pid: int
    shared: bool
    rss_start_kb: int = 0
    rss_peak_kb: int = 0
    cpu_start: float = 0.0
    samples: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ProcessSampler:
    """Samples named processes until stopped; :meth:`results` gives the figures."""

    def __init__(self, pids: dict[str, int], shared: Collection[str] = (),
                 every: float = 0.5) -> None:
        self._tracks = {name: _Track(pid, name in shared) for name, pid in pids.items()}
        self._every = every
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self._wall = 0.0

    def _sample(self) -> None:
        for track in self._tracks.values():
            rss = status_kb(track.pid).get("VmRSS", 0)
            track.rss_peak_kb = max(track.rss_peak_kb, rss)
            track.samples += 1

    async def _loop(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self._every)

    def start(self) -> ProcessSampler:
        """Record the starting RSS and CPU, then sample in the background."""
        self._started = time.monotonic()
        for track in self._tracks.values():
            track.rss_start_kb = status_kb(track.pid).get("VmRSS", 0)
            track.cpu_start = cpu_seconds(track.pid)
        self._task = asyncio.create_task(self._loop(), name="process-sampler")
        return self

    async def stop(self) -> None:
        """Stop sampling and read the high-water marks and the CPU used."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()
        self._wall = time.monotonic() - self._started
        for track in self._tracks.values():
            track.extra = {
                "hwm_kb": status_kb(track.pid).get("VmHWM", 0),
                "cpu_s": round(cpu_seconds(track.pid) - track.cpu_start, 2),
            }

    def results(self) -> dict[str, dict[str, Any]]:
        """Per process: pid, RSS at the start, peak RSS sampled, VmHWM, CPU share of a core."""
        wall = self._wall or 1.0
        return {
            name: {
                "pid": t.pid, "shared": t.shared,
                "rss_start_mib": round(t.rss_start_kb / 1024, 1),
                "rss_peak_mib": round(t.rss_peak_kb / 1024, 1),
                "hwm_mib": round(t.extra.get("hwm_kb", 0) / 1024, 1),
                "cpu_share": round(t.extra.get("cpu_s", 0.0) / wall, 2),
                "samples": t.samples,
            }
            for name, t in self._tracks.items()
        }
