"""The reference the processor worker is judged against, and the ceiling of its consumer path.

``python -m tests.bench.faust_ceiling --bootstrap B --topic T --count N --out F --work W``
takes a topic that already holds ``N`` records and writes one JSON object to ``--out``
when it has taken them all: records/s from the first batch to the last and the
process's CPU time per record.

- ``--work stock``: **the fixed reference** — stock faust-streaming: ``faust.App`` with its
  default settings (only the broker, and raw bytes so nothing is deserialised), one agent
  doing ``stream.take(n, within=5 ms)`` with ``n`` the worker's batch size, Faust acking
  each record itself, and no work at all; no uvloop. It does not move when the worker's
  settings move.
- ``--work bulk``: the worker's own consumer path doing nothing: an aiokafka consumer in
  a consumer group, ``getmany`` batches up to ``n`` records, offsets committed after
  each batch's (absent) work — what the worker would reach if its work were free.
"""

from __future__ import annotations

import argparse
import asyncio
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
from aiokafka import AIOKafkaConsumer

STOCK_WITHIN_S = 0.005


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def result(args: argparse.Namespace, seen: dict[str, Any]) -> None:
    """Write the result."""
    seconds = time.perf_counter() - seen["t0"]
    args.out.write_text(json.dumps({
        "work": args.work, "records": seen["n"],
        "records_per_s": round(seen["n"] / seconds),
        "cpu_us_per_record": round((_cpu() - seen["cpu0"]) / seen["n"] * 1e6, 1),
    }))


def stock_app(args: argparse.Namespace) -> Any:
    """Stock faust-streaming: default settings, ``take`` batches, no work."""
    seen = {"n": 0, "t0": 0.0, "cpu0": 0.0}
    brokers = ";".join(f"kafka://{b.strip()}" for b in args.bootstrap.split(","))
    app = faust.App(args.group, broker=brokers, web_port=args.web_port,
                    datadir=tempfile.mkdtemp(prefix="faust-stock-"),
                    consumer_auto_offset_reset="earliest")
    topic = app.topic(args.topic, value_serializer="raw", key_serializer="raw")

    async def stock(stream: Any) -> None:
        async for values in stream.take(args.batch, within=STOCK_WITHIN_S):
            if seen["n"] == 0:
                seen["t0"], seen["cpu0"] = time.perf_counter(), _cpu()
            seen["n"] += len(values)
            if seen["n"] >= args.count:
                result(args, seen)
                os.kill(os.getpid(), signal.SIGTERM)
                return

    app.agent(topic, name="ceiling", concurrency=1)(stock)
    return app


async def bulk(args: argparse.Namespace) -> None:
    """The worker's consumer path with no work: getmany batches, commit after each."""
    seen = {"n": 0, "t0": 0.0, "cpu0": 0.0}
    consumer = AIOKafkaConsumer(
        args.topic, bootstrap_servers=args.bootstrap, group_id=args.group,
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=args.batch,
    )
    await consumer.start()
    try:
        while seen["n"] < args.count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=args.batch)
            if not batch:
                continue
            if seen["n"] == 0:
                seen["t0"], seen["cpu0"] = time.perf_counter(), _cpu()
            seen["n"] += sum(len(records) for records in batch.values())
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        result(args, seen)
    finally:
        await consumer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--web-port", type=int, required=True)
    parser.add_argument("--batch", type=int, default=5000, help="records per take / getmany")
    parser.add_argument("--out", type=Path, required=True, help="where the JSON result goes")
    parser.add_argument("--work", choices=("stock", "bulk"), default="stock")
    args = parser.parse_args(argv)
    if args.work == "bulk":
        asyncio.run(bulk(args))
        return 0
    worker = faust.Worker(stock_app(args), loglevel="warning", quiet=True)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
