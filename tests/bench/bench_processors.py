"""Processor throughput and latency on the real stack: ``python -m tests.bench.bench_processors``.

Three phases, each on fresh topics, a fresh database and a fresh Redis prefix, with one
worker subprocess (``python -m services.processors football``):

1. **throughput**: ``--messages`` realistic messages (fixtures of ``--events`` events,
   then odds changes of one or two markets, live scores and bet stops, in provider-time
   order) are produced before the worker starts; the clock runs from the first ledger
   row to the moment the ledger holds them all. The worker's CPU time is reported too.
   Under a backlog a batch holds thousands of records: its round trips (MySQL, Redis,
   Kafka) are spread over all of them, and an event's messages in it share one
   snapshot, one event row and one Redis entry.
2. **small batches** (``--small-batch``, default 50): the same on ``--small-messages``
   messages with batches of at most that many records, as end to end, where a batch
   holds what came in one batch interval, each message of a different event.
3. **latency**: a fresh worker gets the fixtures, then odds at a fixed rate (``--rate``,
   default half the measured throughput) for ``--seconds``; the delay from the Kafka
   record timestamp to the MySQL commit is read from the worker's own histogram
   (``sportsfeed_processor_append_to_commit_seconds``), p50 and p99 interpolated
   within its buckets.

Every phase checks the ledger afterwards: one row per message, all applied. Results go
to ``.data/bench/processors.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from services.processors.settings import ProcessorSettings
from shared.codec import encode_message, message_key
from shared.enums import EventStatus, Sport
from shared.model import FeedMessage
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.storage.migrate import apply_migrations, drop_database
from shared.topics import Topics, create_topics, delete_topics
from tests.bench.bench_memory import cpu_seconds
from tests.bench.profiling import Profiler
from tests.bench.report import REPO, table, write_report
from tests.support.ports import free_port
from tests.support.processors import WorkerProcess, database, fresh
from tests.support.samples import Messages
from tests.support.stack import load_local_env, local_endpoints

GOALS = {"worker_per_stock_faust": 0.5, "moonshot_worker_per_stock_faust": 1.0,
         "p99_ms_at_half_load": 50, "idle_cpu_percent": 0.5}
SPORT = Sport.FOOTBALL
LINES = ("totals|total=2.5", "handicap|hcp=-0.5")


class Feed:
    """Realistic messages over many events: mostly odds moves, some scores and bet stops."""

    def __init__(self, events: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.msgs = Messages(SPORT, prefix=f"b{seed}-")
        self.events = [f"ev{i}" for i in range(events)]
        self.prices: dict[tuple[str, str], dict[str, Decimal]] = {}
        self.goals: dict[str, tuple[int, int]] = {}

    def fixtures(self) -> list[FeedMessage]:
        """The first fixture of every event."""
        return [self.msgs.fixture(e) for e in self.events]

    def _move(self, event: str, key: str) -> dict[str, str]:
        outcomes = {"1x2": ("home", "draw", "away"), LINES[0]: ("over", "under"),
                    LINES[1]: ("home", "away")}[key]
        book = self.prices.setdefault(
            (event, key), {o: Decimal("2.0") + Decimal(i) / 2 for i, o in enumerate(outcomes)}
        )
        for o in outcomes:  # a real move: every outcome's price changes
            step = Decimal(self.rng.choice((-3, -2, -1, 1, 2, 3))) / 100
            book[o] = min(Decimal(50), max(Decimal("1.05"), book[o] + step))
        return {o: str(p) for o, p in book.items()}

    def next(self) -> FeedMessage:
        """One message of the mix (85% odds, 10% live, 5% bet stop)."""
        event = self.rng.choice(self.events)
        roll = self.rng.random()
        if roll < 0.85:
            keys = ["1x2"] if self.rng.random() < 0.5 else ["1x2", self.rng.choice(LINES)]
            return self.msgs.odds(event, {k: self._move(event, k) for k in keys})
        if roll < 0.95:
            home, away = self.goals.get(event, (0, 0))
            if self.rng.random() < 0.1:
                home, away = (home + 1, away) if self.rng.random() < 0.5 else (home, away + 1)
            self.goals[event] = (home, away)
            return self.msgs.live(event, EventStatus.LIVE, periods=[("1h", home, away)])
        return self.msgs.bet_stop(event)


async def produce_all(kafka: KafkaSettings, messages: list[FeedMessage]) -> float:
    """Produce as fast as possible; returns seconds taken."""
    topic = Topics(kafka.topic_prefix).feed(SPORT)
    records = [(message_key(m), encode_message(m)) for m in messages]
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    started = time.monotonic()
    try:
        futures = [await producer.send(topic, value=v, key=k) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.monotonic() - started


async def produce_paced(kafka: KafkaSettings, messages: list[FeedMessage], rate: float) -> float:
    """Produce at ``rate`` messages per second (in 10 ms slices); returns the achieved rate."""
    topic = Topics(kafka.topic_prefix).feed(SPORT)
    records = [(message_key(m), encode_message(m)) for m in messages]
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=0)
    await producer.start()
    started = time.monotonic()
    sent = 0
    futures = []
    try:
        while sent < len(records):
            due = min(len(records), int((time.monotonic() - started) * rate) + 1)
            while sent < due:
                key, value = records[sent]
                futures.append(await producer.send(topic, value=value, key=key))
                sent += 1
            await asyncio.sleep(0.01)
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(records) / (time.monotonic() - started)


def histogram(text: str, name: str) -> list[tuple[float, float]]:
    """Cumulative ``(le, count)`` buckets of a Prometheus histogram in exposition text."""
    buckets = []
    for match in re.finditer(rf'^{name}_bucket{{[^}}]*le="([^"]+)"[^}}]*}} ([0-9.e+]+)$', text, re.M):
        le = float("inf") if match[1] == "+Inf" else float(match[1])
        buckets.append((le, float(match[2])))
    return sorted(buckets)


def series(text: str, name: str) -> list[tuple[str, float]]:
    """Every sample of ``name`` in exposition text: (its labels as written, its value)."""
    return [(m[1], float(m[2])) for m in re.finditer(
        rf"^{name}{{([^}}]*)}} ([0-9.e+]+)$", text, re.M)]


def quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """The q-quantile, interpolated linearly inside its bucket (as Prometheus does)."""
    total = buckets[-1][1]
    rank = q * total
    lower_le, lower_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return lower_le
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0
            return lower_le + (le - lower_le) * share
        lower_le, lower_count = le, count
    return lower_le


class Stack:
    """Fresh topics, database and Redis prefix for one phase."""

    def __init__(self, endpoints: Any, partitions: int) -> None:
        self.kafka = KafkaSettings(bootstrap=endpoints.kafka_bootstrap,
                                   topic_prefix=fresh("bench") + ".sf", partitions=partitions)
        self.mysql = MySQLSettings(host=endpoints.mysql_host, port=endpoints.mysql_port,
                                   user=endpoints.mysql_user, password=endpoints.mysql_password,
                                   database=fresh("sportsfeed_bench_"))
        self.redis = RedisSettings(url=endpoints.redis_url, key_prefix=fresh("bench"))

    async def __aenter__(self) -> Stack:
        await create_topics(self.kafka)
        await apply_migrations(self.mysql)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await delete_topics(self.kafka, Topics(self.kafka.topic_prefix).all())
        await drop_database(self.mysql)
        import redis.asyncio as aioredis

        client = aioredis.from_url(self.redis.url)
        keys = [k async for k in client.scan_iter(match=f"{self.redis.key_prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def batch_totals(text: str) -> tuple[float, float]:
    """The worker's batches so far and the records they held (its batch-size histogram)."""
    count = sum(v for _, v in series(text, "sportsfeed_processor_batch_size_count"))
    records = sum(v for _, v in series(text, "sportsfeed_processor_batch_size_sum"))
    return count, records


def mean_batch(before: str, after: str) -> float | None:
    """Mean records per batch between two scrapes of the worker's metrics ("": none)."""
    (count0, sum0), (count1, sum1) = batch_totals(before), batch_totals(after)
    return round((sum1 - sum0) / (count1 - count0), 1) if count1 > count0 else None


async def ledger_count(stack: Stack) -> int:
    async with database(stack.mysql) as db:
        return int(await db.scalar("SELECT COUNT(*) FROM ledger"))


async def wait_ledger(stack: Stack, n: int, within: float) -> list[tuple[float, int]]:
    """Poll the ledger until it holds ``n`` rows; returns the (time, count) timeline."""
    timeline: list[tuple[float, int]] = []
    deadline = time.monotonic() + within
    async with database(stack.mysql) as db:
        while time.monotonic() < deadline:
            count = int(await db.scalar("SELECT COUNT(*) FROM ledger"))
            timeline.append((time.monotonic(), count))
            if count >= n:
                return timeline
            await asyncio.sleep(0.1)
    raise TimeoutError(f"ledger has {timeline[-1][1]} of {n} rows after {within}s")


async def dispositions(stack: Stack) -> dict[str, int]:
    async with database(stack.mysql) as db:
        rows = await db.rows("SELECT disposition, COUNT(*) FROM ledger GROUP BY disposition")
    return {str(d): int(n) for d, n in rows}


async def faust_ceiling(stack: Stack, count: int, work: str, limit_s: float,
                        args: argparse.Namespace) -> dict[str, Any]:
    """The same records taken with no work, in a group of its own: stock Faust (the
    reference) or the worker's bulk consumer path."""
    out = Path(tempfile.mkdtemp(prefix="faust-ceiling-")) / "result.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.faust_ceiling", "--bootstrap", stack.kafka.bootstrap,
        "--topic", Topics(stack.kafka.topic_prefix).feed(SPORT), "--count", str(count),
        "--group", fresh("ceiling"), "--web-port", str(free_port()), "--work", work,
        "--batch", str(args.batch_max or 5000),
        "--out", str(out), cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.wait_for(proc.wait(), limit_s)
    except TimeoutError:
        proc.kill()
        raise
    if not out.exists():
        raise RuntimeError(f"faust ceiling ({work}) wrote no result; exit {proc.returncode}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def throughput(endpoints: Any, args: argparse.Namespace, logs: Path,
                     small_batches: int = 0) -> dict[str, Any]:
    """The backlog phase; with ``small_batches``, the worker takes batches of at most that
    many records (as end to end, where a batch holds what came in one batch interval) and
    runs on ``--small-messages`` messages without the Faust references."""
    feed = Feed(args.events)
    total = args.small_messages if small_batches else args.messages
    messages = feed.fixtures() + [feed.next() for _ in range(total - args.events)]
    env = dict(args.worker_env)
    if small_batches:
        env["SPORTSFEED_PROCESSOR_BATCH_MAX"] = str(small_batches)
    async with Stack(endpoints, args.partitions) as stack:
        produce_s = await produce_all(stack.kafka, messages)
        ceiling = {} if small_batches else {
            work: await faust_ceiling(stack, len(messages), work, args.timeout, args)
            for work in ("stock", "bulk")}
        name = "small-batches" if small_batches else "throughput"
        worker = WorkerProcess(SPORT, stack.kafka, stack.mysql, stack.redis,
                               logs / f"{name}.log", extra_env=env).start()
        try:
            # The backlog may be older than the worker's max_lag_s by now (the ceilings
            # ran first): it is then "not ready" until it catches up, which is the timing.
            await worker.wait_ready(behind_ok=True)
            assert worker.proc is not None
            cpu0, ready_at = cpu_seconds(worker.proc.pid), time.monotonic()
            profiler = (Profiler(worker.proc.pid, logs / f"{name}.pyspy.txt", args.profile)
                        if args.profile else None)
            timeline = await wait_ledger(stack, len(messages), args.timeout)
            cpu1 = cpu_seconds(worker.proc.pid)
            _, metrics = await worker.get("/metrics")
        finally:
            code = worker.terminate()
        first = next((t, c) for t, c in timeline if c > 0)
        last = timeline[-1]
        if last[0] <= first[0]:  # all in one batch: time it from the last empty poll
            first = max(((t, c) for t, c in timeline if c == 0), default=first)
        if last[0] - max(first[0], ready_at) < 0.5:
            # Applied (nearly) before the worker said it was ready: nothing to time, and a
            # rate from two polls would be absurd (the latency phase would offer it).
            raise RuntimeError(f"{len(messages):,} messages were applied within 0.5 s of the "
                               "worker's readiness: too few to time (--messages)")
        rate = (last[1] - first[1]) / (last[0] - first[0])
        return {
            "messages": len(messages),
            "produce_s": round(produce_s, 2),
            "messages_per_s": round(rate),
            "worker_per_stock_faust": (round(rate / ceiling["stock"]["records_per_s"], 2)
                                       if ceiling else None),
            "apply_s": round(last[0] - first[0], 2),
            "worker_cpu_us_per_message": round((cpu1 - cpu0) / len(messages) * 1e6, 1),
            "mean_batch": mean_batch("", metrics),
            "batch_max": int(env.get("SPORTSFEED_PROCESSOR_BATCH_MAX")
                             or ProcessorSettings.model_fields["batch_max"].default),
            # Batches decided ahead while the one before them was written (overlap).
            "prepared": {labels.split('outcome="', 1)[1].split('"', 1)[0]: int(value)
                         for labels, value in series(
                             metrics, "sportsfeed_processor_prepared_batches_total")},
            "dispositions": await dispositions(stack),
            "exit_code": code,
            "faust_ceiling": ceiling,
            "profile": profiler.top(25) if profiler is not None else None,
        }


async def idle(endpoints: Any, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """A ready worker with no traffic: its CPU over ``--idle-seconds`` (from ``/proc``)."""
    async with Stack(endpoints, args.partitions) as stack:
        worker = WorkerProcess(SPORT, stack.kafka, stack.mysql, stack.redis, logs / "idle.log",
                               extra_env=args.worker_env).start()
        try:
            await worker.wait_ready()
            await asyncio.sleep(3)  # start-up work (joining the group, first fetches) done
            assert worker.proc is not None
            cpu0, t0 = cpu_seconds(worker.proc.pid), time.monotonic()
            await asyncio.sleep(args.idle_seconds)
            cpu1, t1 = cpu_seconds(worker.proc.pid), time.monotonic()
        finally:
            code = worker.terminate()
    return {"seconds": round(t1 - t0, 1),
            "cpu_percent_of_core": round((cpu1 - cpu0) / (t1 - t0) * 100, 2), "exit_code": code}


async def latency(endpoints: Any, args: argparse.Namespace, rate: float, logs: Path) -> dict[str, Any]:
    feed = Feed(args.events, seed=11)
    fixtures = feed.fixtures()
    count = int(rate * args.seconds)
    load = [feed.next() for _ in range(count)]
    async with Stack(endpoints, args.partitions) as stack:
        worker = WorkerProcess(SPORT, stack.kafka, stack.mysql, stack.redis,
                               logs / "latency.log", extra_env=args.worker_env).start()
        try:
            await worker.wait_ready()
            await produce_all(stack.kafka, fixtures)
            await wait_ledger(stack, len(fixtures), 120)
            _, before = await worker.get("/metrics")
            assert worker.proc is not None
            profiler = (Profiler(worker.proc.pid, logs / "latency.pyspy.txt", args.profile)
                        if args.profile else None)
            cpu0 = cpu_seconds(worker.proc.pid)
            achieved = await produce_paced(stack.kafka, load, rate)
            await wait_ledger(stack, len(fixtures) + count, args.timeout)
            cpu1 = cpu_seconds(worker.proc.pid)
            _, after = await worker.get("/metrics")
        finally:
            code = worker.terminate()
        name = "sportsfeed_processor_append_to_commit_seconds"
        base = dict(histogram(before, name))
        buckets = [(le, c - base.get(le, 0.0)) for le, c in histogram(after, name)]
        return {
            "target_rate": round(rate),
            "achieved_rate": round(achieved),
            "messages": count,
            "p50_ms": round(quantile(buckets, 0.50) * 1000, 1),
            "p99_ms": round(quantile(buckets, 0.99) * 1000, 1),
            # Paced, a batch holds what came in one interval: CPU per message at that size,
            # the worker alone on the machine (end to end it shares the cores with eight
            # other Python processes, Kafka and MariaDB).
            "worker_cpu_us_per_message": round((cpu1 - cpu0) / count * 1e6, 1),
            "mean_batch": mean_batch(before, after),
            "dispositions": await dispositions(stack),
            "exit_code": code,
            "profile": profiler.top(25) if profiler is not None else None,
        }


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    t, lat = results["throughput"], results["latency"]
    stock = t["faust_ceiling"]["stock"]
    ratio = t["worker_per_stock_faust"]
    rows = [
        ("throughput, one worker", f"{t['messages_per_s']:,} msg/s "
         f"({t['worker_cpu_us_per_message']} us CPU each)", "", ""),
        ("stock faust-streaming, no work, same records (reference)",
         f"{stock['records_per_s']:,} records/s ({stock['cpu_us_per_record']} us CPU each)", "", ""),
        ("worker / stock Faust", f"{ratio}", f">= {GOALS['worker_per_stock_faust']} "
         f"(moonshot {GOALS['moonshot_worker_per_stock_faust']})",
         "moonshot" if ratio >= GOALS["moonshot_worker_per_stock_faust"]
         else "met" if ratio >= GOALS["worker_per_stock_faust"] else "missed"),
    ]
    small = results.get("small_batches")
    if small is not None:
        rows.append((f"throughput in batches of at most {small['batch_max']} records "
                     "(end-to-end sizes)", f"{small['messages_per_s']:,} msg/s "
                     f"({small['worker_cpu_us_per_message']} us CPU each)", "", ""))
    idle_run = results.get("idle")
    if idle_run is not None:
        rows.append((f"idle worker CPU over {idle_run['seconds']} s",
                     f"{idle_run['cpu_percent_of_core']}% of a core",
                     f"< {GOALS['idle_cpu_percent']}%",
                     "met" if idle_run["cpu_percent_of_core"] < GOALS["idle_cpu_percent"] else "missed"))
    if lat is not None:
        rows += [
            (f"append to commit p50 at {lat['achieved_rate']:,} msg/s", f"{lat['p50_ms']} ms", "", ""),
            (f"append to commit p99 at {lat['achieved_rate']:,} msg/s", f"{lat['p99_ms']} ms",
             f"< {GOALS['p99_ms_at_half_load']} ms",
             "met" if lat["p99_ms"] < GOALS["p99_ms_at_half_load"] else "missed"),
        ]
        rows.append((f"worker CPU per message at {lat['achieved_rate']:,} msg/s "
                     f"(mean batch {lat['mean_batch']} records)",
                     f"{lat['worker_cpu_us_per_message']} us", "", ""))
    ledgers = " and ".join(f"{run['dispositions']}" for run in (t, small, lat) if run is not None)
    return "\n".join([
        "## Processors",
        "",
        f"One football worker, {args.partitions} partitions, {t['messages']:,} messages over "
        f"{args.events} events (85% odds, 10% live, 5% bet stops).",
        "",
        table(rows, ("measure", "result", "goal", "")),
        "",
        f"Worker CPU: {t['worker_cpu_us_per_message']} us per message; mean batch "
        f"{t['mean_batch']} records; batches decided ahead while the one before was "
        f"written: {t.get('prepared') or 'none'}. Ledger after the runs: {ledgers}.",
        "",
        *_ceiling_lines(t.get("faust_ceiling")),
    ])


def _ceiling_lines(ceiling: dict[str, Any] | None) -> list[str]:
    if not ceiling:
        return []
    bulk = ceiling["bulk"]
    return [
        "The worker's own consumer path doing nothing (`tests/bench/faust_ceiling.py --work "
        f"bulk`: aiokafka getmany batches, a commit per batch) takes {bulk['records_per_s']:,} "
        f"records/s ({bulk['cpu_us_per_record']} us CPU each): the rest of the worker's cost is "
        "its own work (decode, decide, MySQL, Redis, the updates topic).",
    ]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_local_env()
    endpoints = local_endpoints()
    logs = Path(tempfile.mkdtemp(prefix="bench-processors-"))
    results: dict[str, Any] = {"throughput": await throughput(endpoints, args, logs)}
    results["small_batches"] = (await throughput(endpoints, args, logs, args.small_batch)
                                if args.small_batch > 0 else None)
    results["idle"] = await idle(endpoints, args, logs) if args.idle_seconds > 0 else None
    if args.throughput_only:
        results["latency"] = None
    else:
        rate = args.rate or results["throughput"]["messages_per_s"] / 2
        results["latency"] = await latency(endpoints, args, rate, logs)
    results["goals"] = GOALS
    results["logs"] = str(logs)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--rate", type=float, help="latency phase rate (default: half the throughput)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--profile", type=float, metavar="SECONDS",
                        help="sample the worker with py-spy for this long in each phase")
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency phase")
    parser.add_argument("--idle-seconds", type=float, default=20.0,
                        help="how long an idle worker's CPU is measured (0: not at all)")
    parser.add_argument("--batch-within", type=float,
                        help="SPORTSFEED_PROCESSOR_BATCH_WITHIN_S for the worker")
    parser.add_argument("--batch-max", type=int, help="SPORTSFEED_PROCESSOR_BATCH_MAX for the worker")
    # End to end, a worker's batch holds what came in one batch interval (tens of records,
    # each of a different event): the backlog phase's batches of thousands, where an
    # event's messages share one snapshot and one row, do not show what that costs.
    parser.add_argument("--small-batch", type=int, default=50,
                        help="a second backlog phase in batches of at most this many records "
                             "(0: none)")
    parser.add_argument("--small-messages", type=int, default=20_000,
                        help="messages of the small-batch phase")
    args = parser.parse_args(argv)
    args.worker_env = {"SPORTSFEED_PROCESSOR_LOG_LEVEL": "warning"}
    if args.batch_max:
        args.worker_env["SPORTSFEED_PROCESSOR_BATCH_MAX"] = str(args.batch_max)
    if args.batch_within:
        args.worker_env["SPORTSFEED_PROCESSOR_BATCH_WITHIN_S"] = str(args.batch_within)
    results = asyncio.run(run(args))
    json_path, md_path = write_report("processors", results, markdown(results, args))
    print(md_path.read_text())
    print(f"report: {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
