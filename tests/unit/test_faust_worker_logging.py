"""The Faust workers (processors, pricing, trading) keep the log level they were given.

Faust's terminal spinner sets the root logger to DEBUG: every library's debug line then
became a LogRecord (5 % of a processor's CPU). Checked in a subprocess, since the
worker's logging set-up replaces the root logger's handlers.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import json, logging, faust
from shared.runtime import faust_worker
app = faust.App("logging-probe", broker="kafka://127.0.0.1:1")
stock = faust.Worker(app, loglevel="warning", quiet=True)
ours = faust_worker(app, loglevel="warning")
out = {}
for name, worker in (("stock", stock), ("ours", ours)):
    logging.root.setLevel(logging.NOTSET)
    worker._setup_logging()
    out[name] = [logging.root.level,
                 logging.getLogger("aiokafka.conn").isEnabledFor(logging.DEBUG)]
import sys; sys.__stdout__.write(json.dumps(out) + "\n")
"""


def test_the_workers_root_logger_stays_at_the_level_asked() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=60, check=True)
    levels = json.loads(done.stdout.strip().splitlines()[-1])
    assert levels["stock"] == [10, True]  # what Faust does by itself: the reason for this
    assert levels["ours"] == [30, False]
