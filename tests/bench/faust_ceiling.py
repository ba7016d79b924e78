"""The ceiling of a Faust worker here: the processor's agent shape with (almost) no work.

``python -m tests.bench.faust_ceiling --bootstrap B --topic T --count N --out F --work none|decode``
runs a Faust app configured like a processor (:func:`services.processors.runtime.app.faust_settings`,
the same ``noack_take`` batches, an ack per record, uvloop) on a topic that already holds
``N`` records, and writes one JSON object to ``--out`` when it has taken them all: records/s from the
first batch to the last and the process's CPU time per record. ``--work none`` only takes
and acks; ``--work decode`` also decodes each record into the canonical model, as the
processor does before it decides anything. What is left between this and the real
worker's rate is the processor's own work (deciding, MySQL, Redis, the updates topic).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import faust

from services.processors.domain.incoming import decode_record
from services.processors.runtime.app import faust_settings
from services.processors.settings import ProcessorSettings
from shared.enums import Sport
from shared.runtime import install_uvloop
from shared.settings import KafkaSettings


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build(args: argparse.Namespace) -> Any:
    """A Faust app whose agent takes batches like the processor and does ``args.work``."""
    settings = ProcessorSettings(
        kafka=KafkaSettings(bootstrap=args.bootstrap),
        data_dir=Path(tempfile.mkdtemp(prefix="faust-ceiling-")),
        group_id=args.group, web_port=args.web_port,
    )
    config = faust_settings(Sport.FOOTBALL, settings)
    app = faust.App(args.group, **config)
    topic = app.topic(args.topic, value_serializer="raw", key_serializer="raw", internal=False)
    seen = {"n": 0, "t0": 0.0, "cpu0": 0.0}
    decode = args.work == "decode"

    async def take(stream: Any) -> None:
        async for events in stream.noack_take(settings.batch_max, within=settings.batch_within_s):
            if seen["n"] == 0:
                seen["t0"], seen["cpu0"] = time.perf_counter(), _cpu()
            if decode:
                for e in events:
                    decode_record(e.message.value, e.message.partition, e.message.offset,
                                  e.message.timestamp)
            for event in events:
                await stream.ack(event)
            seen["n"] += len(events)
            if seen["n"] >= args.count:
                seconds = time.perf_counter() - seen["t0"]
                args.out.write_text(json.dumps({
                    "work": args.work, "records": seen["n"],
                    "records_per_s": round(seen["n"] / seconds),
                    "cpu_us_per_record": round((_cpu() - seen["cpu0"]) / seen["n"] * 1e6, 1),
                }))
                os.kill(os.getpid(), signal.SIGTERM)
                return

    app.agent(topic, name="ceiling", concurrency=1)(take)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--web-port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="where the JSON result goes")
    parser.add_argument("--work", choices=("none", "decode"), default="none")
    args = parser.parse_args(argv)
    install_uvloop()
    worker = faust.Worker(build(args), loglevel="warning", quiet=True)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
