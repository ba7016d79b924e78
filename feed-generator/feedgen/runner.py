"""One run from start to summary: plan, record, send, report progress.

Used by ``python -m feedgen run`` and by the control API's ``POST /start``.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import aiohttp

from feedgen.plan import RunPlan
from feedgen.planproc import planned_stream
from feedgen.record import RunRecord
from feedgen.sender import Sender
from feedgen.settings import RunOptions
from feedgen.stats import Stats


@dataclass
class Run:
    """A run being prepared, in progress or finished."""

    opts: RunOptions
    seed: int
    start_at: datetime
    run_id: str
    stats: Stats = field(default_factory=Stats)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    state: str = "pending"  # pending | running | finished | failed | stopped
    error: str | None = None
    speed: float = 0.0

    def meta(self) -> dict[str, Any]:
        """What ``run.json`` and ``GET /status`` say about the run."""
        options = self.opts.model_dump(mode="json", exclude={"api_key"})
        return {
            "run_id": self.run_id, "seed": self.seed, "start_at": self.start_at.isoformat(),
            "state": self.state, "error": self.error, "speed": round(self.speed, 3),
            "options": options, "summary": self.stats.summary(),
        }


def prepare(opts: RunOptions) -> Run:
    """Fix the run's seed, time anchor and id (the only inputs not in the options)."""
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(1, 10**9)
    now = datetime.now(UTC)
    start_at = opts.start_at or now.replace(microsecond=now.microsecond // 1000 * 1000)
    run_id = opts.run_id or f"{now:%Y%m%dT%H%M%S}Z-s{seed}"
    return Run(opts=opts, seed=seed, start_at=start_at, run_id=run_id)


async def execute(run: Run, *, progress: TextIO | None = sys.stderr,
                  interval: float | None = None) -> Run:
    """Send the run; writes ``sent.jsonl`` and ``run.json``; returns the finished run."""
    opts = run.opts
    plan = RunPlan(opts, seed=run.seed, start_at=run.start_at)
    run.speed = plan.speed
    record = RunRecord(opts.data_dir, run.run_id)
    record.write_meta(run.meta())
    run.state = "running"
    ticker = None
    if progress is not None:
        ticker = asyncio.create_task(_progress(run.stats, progress, interval))
    timeout = aiohttp.ClientTimeout(total=opts.request_timeout)
    connector = aiohttp.TCPConnector(limit=len(plan.opts.formats) * opts.workers * 2 + 8)
    try:
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            run.stats.started = time.monotonic()
            stream = planned_stream(opts, seed=run.seed, start_at=run.start_at,
                                    process=opts.plan_process)
            await Sender(opts, session, run.stats, record, run.stop).run(stream, plan.faults)
        run.state = "stopped" if run.stop.is_set() else "finished"
    except Exception as exc:
        run.state, run.error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if ticker is not None:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        record.write_meta(run.meta())
        record.close()
        if progress is not None:
            _clear(progress)
    return run


async def _progress(stats: Stats, out: TextIO, interval: float | None) -> None:
    """Redraw the progress line in place on a TTY; print one every few seconds otherwise."""
    tty = out.isatty()
    every = interval or (0.5 if tty else 5.0)
    while True:
        await asyncio.sleep(every)
        if tty:
            out.write("\r\x1b[2K" + stats.line())
        else:
            out.write(stats.line() + "\n")
        out.flush()


def _clear(out: TextIO) -> None:
    if out.isatty():
        out.write("\r\x1b[2K")
        out.flush()


def format_summary(run: Run) -> str:
    """The human summary printed at the end of a run."""
    s = run.stats.summary()
    latency: Any = s["latency_ms"]
    lines = [
        f"run {run.run_id} ({run.state}): seed {run.seed}, speed x{run.speed:.1f}",
        f"  sent {s['sent']} = accepted {s['accepted']} + refused {s['refused']}"
        f" + unacknowledged {s['unacknowledged']}",
        f"  requests {s['requests']}, retries {s['retries']}, {s['rate_per_s']} msg/s over "
        f"{s['elapsed_s']} s, latency p50 {latency['p50']} ms p99 {latency['p99']} ms",
        f"  faults {s['faults'] or 'none'}, HTTP {s['http_status']}",
        f"  record: {run.opts.data_dir / run.run_id / 'sent.jsonl'}",
    ]
    if run.error:
        lines.append(f"  error: {run.error}")
    return "\n".join(lines)

