"""The supervisor of a group of ingestion workers on one port.

``python -m services.ingestion`` with ``SPORTSFEED_INGESTION_WORKERS`` above 1 (the
default is half the cores) runs this: it

1. takes an exclusive lock on the run directory of its port
   (``<data dir>/run/ingestion-<port>``; a second group on the same port would share the
   port through ``SO_REUSEPORT`` unnoticed, so it is refused instead), empties it, and
   lays out the metrics directory and the rate-limit file the workers share;
2. starts the workers (``python -m services.ingestion --worker``) with
   ``PROMETHEUS_MULTIPROC_DIR`` pointing at the metrics directory;
3. restarts a worker that dies (its counters stay counted; its live gauges are dropped);
4. on SIGTERM or SIGINT forwards SIGTERM to every worker, waits for each to drain and
   exit, and exits 0 if all of them did (1 otherwise).

It never imports prometheus_client's value classes before setting the directory, and
serves nothing itself.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO

from services.ingestion.auth import load_api_keys
from services.ingestion.errors import ConfigError
from services.ingestion.settings import IngestionSettings
from services.ingestion.sharedlimit import SharedBuckets

log = logging.getLogger("services.ingestion.supervisor")

RATE_LIMIT_FILE = "ratelimit.bin"
METRICS_DIR = "metrics"
_RESTART_DELAY_S = 1.0
_POLL_S = 0.1


def prepare_run_dir(settings: IngestionSettings) -> tuple[IO[bytes], Path]:
    """Lock and empty the run directory of this port; returns the held lock and the
    metrics directory. Raises :class:`ConfigError` if another group holds the port."""
    run = settings.run_dir
    try:
        run.parent.mkdir(parents=True, exist_ok=True)
        lock = (run.parent / f"{run.name}.lock").open("wb")
    except OSError as exc:
        raise ConfigError(f"cannot use the run directory {run}: {exc} (set "
                          "SPORTSFEED_INGESTION_DATA_DIR to a writable folder)") from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise ConfigError(f"another ingestion group already runs on port {settings.port} "
                          f"(lock {run.parent / (run.name + '.lock')})") from None
    shutil.rmtree(run, ignore_errors=True)
    metrics = run / METRICS_DIR
    metrics.mkdir(parents=True)
    SharedBuckets.create(run / RATE_LIMIT_FILE, load_api_keys(settings).providers)
    return lock, metrics


class _Group:
    """The worker processes and what the supervisor knows about them."""

    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.count = count
        self.env = env
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def start_one(self, slot: int) -> None:
        proc = subprocess.Popen([sys.executable, "-m", "services.ingestion", "--worker"],
                                env=self.env)
        self.workers[slot] = proc
        log.info("worker %d started (pid %d)", slot, proc.pid)

    def stop(self, signum: int, _: FrameType | None) -> None:
        if not self.stopping:
            log.info("supervisor: %s, stopping %d workers", signal.Signals(signum).name,
                     len(self.workers))
        self.stopping = True
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)


def _mark_dead(pid: int, metrics: Path) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(metrics))  # type: ignore[no-untyped-call]


def supervise(settings: IngestionSettings) -> int:
    """Run ``settings.worker_count`` workers on the port until SIGTERM; their exit status."""
    try:
        lock, metrics = prepare_run_dir(settings)
    except ConfigError as exc:
        print(f"ingestion: configuration error: {exc}", file=sys.stderr)
        return 2
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics.resolve())}
    group = _Group(settings.worker_count, env)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, group.stop)
    log.info("supervisor %d: %d workers on http://%s:%d", os.getpid(), group.count,
             settings.host, settings.port)
    for slot in range(group.count):
        group.start_one(slot)
    failed = False
    restart_at: dict[int, float] = {}
    try:
        while group.workers:
            time.sleep(_POLL_S)
            for slot, proc in list(group.workers.items()):
                code = proc.poll()
                if code is None:
                    continue
                _mark_dead(proc.pid, metrics)
                if group.stopping:
                    del group.workers[slot]
                    failed |= code != 0
                    log.info("worker %d (pid %d) exited with %d", slot, proc.pid, code)
                    continue
                # A worker died on its own: start another after a pause (no busy loop).
                when = restart_at.setdefault(slot, time.monotonic() + _RESTART_DELAY_S)
                if time.monotonic() >= when:
                    log.warning("worker %d (pid %d) died with %d: restarting it", slot,
                                proc.pid, code)
                    del restart_at[slot]
                    group.start_one(slot)
    finally:
        deadline = time.monotonic() + settings.shutdown_grace_s + 15
        for proc in group.workers.values():
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # The run is over: its files go (the next start would empty them anyway).
        shutil.rmtree(settings.run_dir, ignore_errors=True)
        Path(lock.name).unlink(missing_ok=True)
        lock.close()
    log.info("supervisor stopped")
    return 1 if failed else 0
