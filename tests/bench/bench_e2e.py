"""End-to-end latency, provider POST to WebSocket delivery: ``python -m tests.bench.bench_e2e``.

What runs where (all on 127.0.0.1, bounded in count and time):

1. fresh topics, a fresh database and a fresh Redis prefix on the local stack; the
   services as their own processes (``python -m services.ingestion``, one ``python -m
   services.processors <sport>`` per sport of ``--sports`` (default: all four), ``python
   -m services.distribution``), started by the harness of the fault tests
   (``tests/support/platform.py``);
2. a WebSocket client in a separate process (this module with ``receive``: the Python
   client, ``sportsfeed_client``, applying every delta to its events' states) subscribes
   to those sports and records when each delta arrives, by the delta's ``message_id``;
3. fixtures for ``--events`` events are posted and applied; event ``n`` is of sport
   ``sports[n % len(sports)]`` and priced in that sport's main market;
4. this process POSTs odds messages at exactly ``--rate`` messages/s (open loop: a
   batch of ``--batch`` messages every ``batch / rate`` seconds, whatever the answers;
   a late tick is caught up, so the average rate holds) for ``--seconds``; each
   message's send time is the start of its POST (the bodies are built beforehand,
   each message stamped with the time it is due);
5. latency = WebSocket receipt - POST start, matched on ``message_id``; percentiles
   over the messages delivered. The services' memory (VmRSS sampled, VmHWM) and CPU
   are read from ``/proc`` during the load (``tests/bench/bench_memory.py``).

A second step at ``--reference-rate`` (500 msg/s) shows the latency when the platform is
not saturated. Results go to ``.data/bench/e2e.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from pydantic import SecretStr

from shared.enums import Sport
from shared.rules import rules_for
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.topics import Topics, delete_topics
from tests.bench.bench_memory import (
    ProcessSampler,
    cpu_seconds,
    descendants,
    machine_cpu_seconds,
    stack_pids,
    tree_cpu_seconds,
)
from tests.bench.report import REPO, bench_dir, table, write_report
from tests.support.consumer_keys import TEST_KEY
from tests.support.platform import Platform, Proc, Scope
from tests.support.processors import database
from tests.support.samples import MAIN_MARKET
from tests.support.stack import load_local_env, local_endpoints

GOALS = {"p99_ms": 100.0}
SPORTS = [s.value for s in Sport]  # --sports: the choices and the default
JSON_HEADERS = {"Content-Type": "application/json"}
MAX_IN_FLIGHT = 64  # concurrent POSTs; beyond this the schedule slips (and says so)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def sport_of(event: int, sports: list[Sport]) -> Sport:
    """The sport of event ``event``: the sports take turns."""
    return sports[event % len(sports)]


def fixture_doc(n: int, tag: str, sport: Sport) -> dict[str, Any]:
    """The first (complete) fixture of event ``n``, of ``sport``."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        # A competition belongs to one sport: one per sport.
        "competition": {"id": f"bench-{sport.value}", "name": f"Bench League ({sport.value})"},
        "start_time": _iso(now + timedelta(hours=1)), "status": "not_started",
        "home": {"id": f"{tag}-h{n}", "name": f"Home {n}"},
        "away": {"id": f"{tag}-a{n}", "name": f"Away {n}"}}
    if sport is Sport.TENNIS:
        body["best_of"] = 3
    return {"message_id": f"{tag}-fx-{n}", "sport": sport.value, "event_id": f"{tag}-ev{n}",
            "kind": "fixture", "provider_ts": _iso(now - timedelta(minutes=5)), "body": body}


@functools.cache
def _outcomes(sport: Sport) -> tuple[str, ...]:
    return tuple(rules_for(sport).markets[MAIN_MARKET[sport]].outcomes)


def odds_doc(prefix: str, n: int, event: int, tag: str, rng: random.Random,
             sport: Sport, at: datetime | None = None) -> dict[str, Any]:
    """Message ``<prefix>-<n>``: a price move in the main market of event ``event`` (1X2
    or moneyline, with the catalogue's outcomes of ``sport``), stamped ``at`` (now)."""
    market = MAIN_MARKET[sport]
    outcomes = _outcomes(sport)
    return {"message_id": f"{prefix}-{n}", "sport": sport.value, "event_id": f"{tag}-ev{event}",
            "kind": "odds", "provider_ts": _iso(at or datetime.now(UTC)),
            "body": {"markets": [{"market_key": market, "status": "active", "outcomes": [
                {"id": o, "price": f"{rng.uniform(1.2, 6.0):.2f}"} for o in outcomes]}]}}


# --- the WebSocket receiver (its own process) ----------------------------------------------


@contextlib.contextmanager
def instrument_without_collector() -> Iterator[None]:
    """Keep CPython's cyclic collector out of a measuring process while it measures.

    The receiver and the load generator stamp times (a delta's arrival, a POST's start),
    so a pause of theirs is counted as the platform's latency. With the collector on, the
    receiver (its client's event states, the growing list of arrivals) paused in
    collections of up to 80 ms wall (51 ms of CPU, a full one) and 29 ms (a young one
    that was preempted), and the only two latency spikes of a 25 s run at 2,000 msg/s
    (``gc.callbacks`` in every process, matched with the arrivals) were those two pauses,
    every sport's deltas late together. What exists is frozen and the collector is off
    until the measurement ends; what the two processes allocate meanwhile is freed by
    reference counting (the receiver's peak memory is in the report: 80.3-80.5 MiB
    either way). Three rounds interleaved at 2,000 msg/s: p99 100.0 / 88.1 / 82.5 ms
    with the collector on, 82.0 / 81.9 / 80.9 ms off.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def _receive(url: str, out: Path, sports: list[str]) -> None:
    """Follow ``sports`` with the Python client, say READY once subscribed, record each
    applied delta until STOP on stdin, write ``out``. ``COUNT <prefix>`` on stdin is
    answered on stdout with how many deltas of message ids starting with it arrived."""
    from sportsfeed_client import FeedClient

    arrivals: list[tuple[str, float, float, str]] = []
    client = FeedClient(url, token=TEST_KEY, open_timeout_s=20)
    loop = asyncio.get_running_loop()

    async def read() -> None:
        async for update in client.follow(sports=sports):
            delta = update.delta
            if delta is not None:
                arrivals.append((delta.message_id, update.received_at,
                                 delta.applied_at.timestamp(), delta.sport.value))

    async def ready() -> None:
        await client.subscribed.wait()
        print("READY", flush=True)

    with instrument_without_collector():
        reader = asyncio.create_task(read())
        announce = asyncio.create_task(ready())
        # Counted when asked, not per delta: the receiver shares the cores with what it
        # measures.
        by_prefix: Counter[str] = Counter()
        counted = 0
        while (line := (await loop.run_in_executor(None, sys.stdin.readline)).split()):
            if line[0] != "COUNT" or len(line) != 2:
                break  # STOP (or anything else): finish
            by_prefix.update(a[0].rsplit("-", 1)[0] for a in arrivals[counted:])
            counted = len(arrivals)
            print(by_prefix[line[1]], flush=True)
    for task in (reader, announce):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    st = client.stats
    counts = {"snapshots": st.snapshots, "deltas": st.deltas, "gaps": st.gaps,
              "connects": st.connects}
    await asyncio.to_thread(out.write_text, json.dumps({"counts": counts, "arrivals": arrivals}))
    print("DONE", flush=True)


# --- the load -------------------------------------------------------------------------------


async def post_all(url: str, key: str, docs: list[dict[str, Any]], size: int = 100) -> int:
    """POST ``docs`` in batches, one at a time; returns how many were accepted."""
    accepted = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http:
        for start in range(0, len(docs), size):
            async with http.post(url, json={"messages": docs[start:start + size]}) as response:
                body = await response.json()
                accepted += len(body.get("accepted", []))
    return accepted


async def paced_load(url: str, key: str, rate: float, args: argparse.Namespace,
                     prefix: str) -> dict[str, Any]:
    """POST odds at exactly ``rate`` msg/s for ``args.seconds``; per-message send times.

    Message ids are ``<prefix>-<n>``; event ids those of :func:`fixture_doc` under the
    run's tag (the prefix up to its last ``-``).
    """
    rng = random.Random(7)
    total = int(rate * args.seconds)
    interval = args.batch / rate
    tag = prefix.rsplit("-", 1)[0]
    sent_at: dict[str, float] = {}
    by_sport: Counter[str] = Counter()  # messages sent, by sport
    acked: dict[str, float] = {}
    statuses: dict[int, int] = {}
    slips: list[float] = []
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()

    async def post(ids: list[str], body: bytes, http: aiohttp.ClientSession) -> None:
        try:
            began = time.time()
            for message_id in ids:
                sent_at[message_id] = began
            async with http.post(url, data=body, headers=JSON_HEADERS) as response:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                reply: dict[str, Any] = await response.json(content_type=None)
                done = time.time()
                for item in reply.get("accepted", []):
                    acked[item["message_id"]] = done
        except (aiohttp.ClientError, TimeoutError):
            statuses[0] = statuses.get(0, 0) + 1
        finally:
            gate.release()

    async with aiohttp.ClientSession(connector=connector,
                                     headers={"Authorization": f"Bearer {key}"},
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        # Every POST is built before the clock starts, each message stamped with the time
        # it is due: the load generator shares the two cores with what it measures, and
        # building and encoding 2,000 messages a second cost it a third of its CPU.
        # The first is due once they are built (about 12 µs a message on this VM).
        t0 = time.time() + 0.5 + total * 25e-6
        posts: list[tuple[list[str], bytes]] = []
        for first in range(0, total, args.batch):
            at = datetime.fromtimestamp(t0 + len(posts) * interval, UTC)
            docs = [odds_doc(prefix, m, e, tag, rng, sport_of(e, args.sports), at)
                    for m in range(first, min(first + args.batch, total))
                    for e in [m % args.events]]
            by_sport.update(doc["sport"] for doc in docs)
            posts.append(([d["message_id"] for d in docs], orjson.dumps({"messages": docs})))
        with instrument_without_collector():
            started = time.monotonic() + max(0.0, t0 - time.time())
            n = 0
            for tick, (ids, body) in enumerate(posts):
                due = started + tick * interval
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await gate.acquire()
                slips.append(max(0.0, time.monotonic() - due))
                n += len(ids)
                task = asyncio.create_task(post(ids, body, http))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            offered_s = time.monotonic() - started
            async with asyncio.timeout(60):
                await asyncio.gather(*tasks)
    slips.sort()
    return {"sent_at": sent_at, "acked": acked, "statuses": statuses, "messages": n,
            "sent_by_sport": by_sport,
            "offered_s": round(offered_s, 2), "offered_rate": round(n / offered_s, 1),
            "slip_p99_ms": round(_pct(slips, 0.99) * 1000, 1),
            "slip_max_ms": round((slips[-1] if slips else 0.0) * 1000, 1)}


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted ``values``."""
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


async def metrics_text(port: int | None) -> str:
    """A service's Prometheus exposition."""
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{port}/metrics") as response:
        return await response.text()


async def metrics_texts(procs: list[Proc]) -> list[str]:
    """The expositions of several services."""
    return list(await asyncio.gather(*(metrics_text(p.port) for p in procs)))


def env_of(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` arguments as an environment."""
    return dict(item.split("=", 1) for item in items)


def processor_stages(before: list[str], after: list[str]) -> dict[str, float]:
    """p50/p99 (ms) of the processors' own histograms over the load, by bucket interpolation:
    Kafka append → batch taken, and Kafka append → MySQL commit. ``before`` and ``after``
    are the processors' expositions; their bucket counts are summed per ``le``."""
    from tests.bench.bench_processors import histogram, quantile, series

    def merged(texts: list[str], name: str) -> dict[float, float]:
        total: dict[float, float] = {}
        for text in texts:
            for le, count in histogram(text, name):
                total[le] = total.get(le, 0.0) + count
        return total

    stages: dict[str, float] = {}
    for short, name in (("append_to_batch", "sportsfeed_processor_append_to_batch_seconds"),
                        ("append_to_commit", "sportsfeed_processor_append_to_commit_seconds")):
        base = merged(before, name)
        buckets = sorted((le, c - base.get(le, 0.0)) for le, c in merged(after, name).items())
        if buckets and buckets[-1][1] > 0:
            stages[f"{short}_p50_ms"] = round(quantile(buckets, 0.50) * 1000, 1)
            stages[f"{short}_p99_ms"] = round(quantile(buckets, 0.99) * 1000, 1)

    def total(texts: list[str], name: str) -> float:
        return sum(value for text in texts for _, value in series(text, name))

    batches = (total(after, "sportsfeed_processor_batch_size_count")
               - total(before, "sportsfeed_processor_batch_size_count"))
    records = (total(after, "sportsfeed_processor_batch_size_sum")
               - total(before, "sportsfeed_processor_batch_size_sum"))
    if batches > 0:
        stages["batches"] = int(batches)
        stages["mean_batch"] = round(records / batches, 1)
    return stages


def batch_costs(used: dict[str, float], batches: float) -> dict[str, float]:
    """CPU ms per processor batch over a step (``used``: CPU seconds by service, the
    processors named ``processor-<sport>``): the processors' together, and the
    distribution's, whose fetch, dispatch and WebSocket writes follow each batch
    published. Mostly a fixed cost per batch at these sizes: set beside the mean batch,
    it tells what a shorter ``batch_interval_s`` would cost."""
    if batches <= 0:
        return {}
    processors = sum(v for name, v in used.items() if name.startswith("processor-"))
    return {"processor_cpu_ms_per_batch": round(processors / batches * 1000, 2),
            "distribution_cpu_ms_per_batch": round(used.get("distribution", 0.0) / batches * 1000, 2)}


def dispatch_stage(before: str, after: str) -> dict[str, float]:
    """p50/p99 (ms) from a delta's ``applied_at`` to its dispatch by the distribution's hub,
    from the service's own histogram (``before`` and ``after`` are its expositions; coarse
    buckets, interpolated): what of ``applied_at`` → client is before the fan-out."""
    from tests.bench.bench_processors import histogram, quantile

    name = "sportsfeed_distribution_update_lag_seconds"
    base = dict(histogram(before, name))
    buckets = [(le, c - base.get(le, 0.0)) for le, c in histogram(after, name)]
    if not buckets or buckets[-1][1] <= 0:
        return {}
    return {"applied_to_dispatch_p50_ms": round(quantile(buckets, 0.50) * 1000, 1),
            "applied_to_dispatch_p99_ms": round(quantile(buckets, 0.99) * 1000, 1)}


async def ledger_total(mysql: MySQLSettings) -> dict[str, int]:
    """Ledger rows by disposition."""
    async with database(mysql) as db:
        rows = await db.rows("SELECT disposition, COUNT(*) FROM ledger GROUP BY disposition")
    return {str(d): int(c) for d, c in rows}


async def applied_of(mysql: MySQLSettings, prefix: str) -> int:
    """Messages of ids ``<prefix>-<n>`` the ledger has as applied (each gives one delta)."""
    async with database(mysql) as db:
        rows = await db.rows("SELECT COUNT(*) FROM ledger WHERE disposition = 'applied'"
                             " AND message_id LIKE %s", (prefix.replace("_", "\\_") + "-%",))
    return int(rows[0][0])


async def wait_delivered(receiver: asyncio.subprocess.Process, prefix: str, expected: int,
                         within: float, quiet_s: float = 10.0) -> tuple[int, float]:
    """Wait until the receiver holds ``expected`` deltas of ``prefix``'s messages, or
    ``within`` passes, or none came for ``quiet_s``; (deltas held, seconds waited).

    The ledger catches up when the last batch commits; its deltas still travel through
    the updates topic and the distribution, which at saturation takes seconds. Stopping
    the receiver before they came would drop the slowest messages from the percentiles.
    """
    assert receiver.stdin is not None
    assert receiver.stdout is not None
    began = last_change = time.monotonic()
    held = -1
    while True:
        receiver.stdin.write(f"COUNT {prefix}\n".encode())
        await receiver.stdin.drain()
        async with asyncio.timeout(30):
            count = int(await receiver.stdout.readline())
        now = time.monotonic()
        if count != held:
            held, last_change = count, now
        if held >= expected or now - began >= within or now - last_change >= quiet_s:
            return held, now - began
        await asyncio.sleep(0.25)


async def wait_ledger(mysql: MySQLSettings, rows: int, within: float) -> float:
    """Wait until the ledger holds ``rows`` rows (or ``within`` passes); seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < within:
        if sum((await ledger_total(mysql)).values()) >= rows:
            break
        await asyncio.sleep(0.25)
    return time.monotonic() - began


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole measurement; returns the figures."""
    tag = f"e2e{uuid.uuid4().hex[:8]}"
    scope = bench_scope(tag, args.partitions, args.fanout_partitions)
    await scope.create()
    workdir = bench_dir() / "e2e"
    platform = Platform(scope, workdir)
    receiver: asyncio.subprocess.Process | None = None
    settings = {k: v for k, v in vars(args).items() if k != "command"}
    settings.update(partitions=scope.kafka.partitions,
                    fanout_partitions=scope.kafka.fanout_partitions)
    results: dict[str, Any] = {"settings": settings, "loadavg_before": os.getloadavg()}
    try:
        ingestion = platform.ingestion(**env_of(args.ingestion_env))
        processors = [platform.processor(sport, **env_of(args.processor_env))
                      for sport in args.sports]
        distribution = platform.distribution(**env_of(args.distribution_env))
        await platform.wait_ready()
        out = workdir / "arrivals.json"
        receiver = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.bench.bench_e2e", "receive", "--url",
            f"ws://127.0.0.1:{distribution.ws_port}/", "--out", str(out),
            "--sports", *args.sports, cwd=REPO,
            env=scope.env(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert receiver.stdout is not None
        assert receiver.stdin is not None
        async with asyncio.timeout(60):
            line = await receiver.stdout.readline()
        if line.strip() != b"READY":
            raise RuntimeError(f"receiver failed: {line!r}")
        url = f"http://127.0.0.1:{ingestion.port}/v1/feed/json"
        fixtures = await post_all(url, platform.key, [fixture_doc(n, tag, sport_of(n, args.sports))
                                                      for n in range(args.events)])
        await wait_ledger(scope.mysql, fixtures, 60)
        await asyncio.sleep(1.0)  # the fixtures' snapshots reach the client

        workers = {p.name: p.pid for p in processors}  # processor-<sport>
        # Ingestion is a supervisor and its worker processes: each one's memory apart.
        ingestion_workers = {f"ingestion-worker-{n}": pid
                             for n, pid in enumerate(descendants(ingestion.pid), 1)}
        pids = {"ingestion": ingestion.pid, **ingestion_workers, **workers,
                "distribution": distribution.pid, "ws-receiver": receiver.pid,
                "load-generator": os.getpid(), **stack_pids()}
        sampler = ProcessSampler(pids, shared={"kafka", "mariadb", "redis"}).start()
        rates = [args.rate] + ([args.reference_rate] if args.reference_rate else [])
        steps: list[dict[str, Any]] = []
        expected = fixtures
        services = {"ingestion": ingestion.pid, **workers, "distribution": distribution.pid}
        # Everything this benchmark runs, to tell its CPU from the rest of the machine's.
        # The rest of the cores a step uses: the stack and this benchmark's own clients.
        rest = {**stack_pids(), "ws-receiver": receiver.pid, "load-generator": os.getpid()}
        ours = [*services.values(), *descendants(ingestion.pid), *rest.values()]
        for n, rate in enumerate(rates):
            before = await metrics_texts(processors)
            dispatch_before = await metrics_text(distribution.port)
            # A service's process tree: ingestion is a supervisor with its workers under it.
            cpu = {name: tree_cpu_seconds(pid) for name, pid in services.items()}
            rest_cpu = {name: cpu_seconds(pid) for name, pid in rest.items()}
            ours_before, (busy_before, stolen_before) = (sum(map(cpu_seconds, ours)),
                                                         machine_cpu_seconds())
            began = time.monotonic()
            prefix = f"{tag}-s{n}"
            load = await paced_load(url, platform.key, rate, args, prefix)
            expected += len(load["acked"])
            drained_s = await wait_ledger(scope.mysql, expected, args.drain)
            # CPU over the load and its drain: what each service needed for these messages.
            wall = time.monotonic() - began
            used = {name: tree_cpu_seconds(pid) - cpu[name] for name, pid in services.items()}
            shares = {name: round(seconds / wall, 2) for name, seconds in used.items()}
            rest_shares = {name: round((cpu_seconds(pid) - rest_cpu[name]) / wall, 2)
                           for name, pid in rest.items()}
            busy_after, stolen_after = machine_cpu_seconds()
            machine = {"busy_cores": round((busy_after - busy_before) / wall, 2),
                       "ours_cores": round((sum(map(cpu_seconds, ours)) - ours_before) / wall, 2),
                       "stolen_cores": round((stolen_after - stolen_before) / wall, 2)}
            expected_deltas = await applied_of(scope.mysql, prefix)
            _held, delivered_s = await wait_delivered(receiver, prefix, expected_deltas,
                                                     args.drain)
            stages = {**processor_stages(before, await metrics_texts(processors)),
                      **dispatch_stage(dispatch_before, await metrics_text(distribution.port))}
            stages.update(batch_costs(used, stages.get("batches", 0)))
            steps.append({"rate": rate, "load": load, "drain_s": round(drained_s, 1),
                          "applied": expected_deltas, "delivered_wait_s": round(delivered_s, 1),
                          "cpu_share": shares, "cpu_share_rest": rest_shares,
                          "machine": machine, "processor_stages": stages})
        await sampler.stop()
        receiver.stdin.write(b"STOP\n")
        await receiver.stdin.drain()
        async with asyncio.timeout(60):
            await receiver.communicate()
        received = json.loads(await asyncio.to_thread(out.read_text))
        results["steps"] = [{**figures(step.pop("load"), received), **step} for step in steps]
        results["ledger"] = await ledger_total(scope.mysql)
        results["ws"] = received["counts"]
        results["processes"] = sampler.results()
        results["loadavg_after"] = os.getloadavg()
        results["goals"] = GOALS
        results["goal_met"] = results["steps"][0]["p99_ms"] < GOALS["p99_ms"]
    finally:
        if receiver is not None and receiver.returncode is None:
            receiver.kill()
            await receiver.wait()
        platform.close()
        await cleanup(scope)
    return results


def figures(load: dict[str, Any], received: dict[str, Any]) -> dict[str, Any]:
    """Latencies of the delivered messages, and what happened to the others."""
    sent_at, acked = load["sent_at"], load["acked"]
    seen: dict[str, float] = {}
    applied: dict[str, float] = {}
    sport: dict[str, str] = {}
    for message_id, at, applied_at, of in received["arrivals"]:
        if message_id not in sent_at:
            continue  # another step's message
        seen.setdefault(message_id, at)
        applied.setdefault(message_id, applied_at)
        sport.setdefault(message_id, of)
    delivered_by_sport = Counter(sport.values())
    latencies = sorted(seen[m] - sent_at[m] for m in seen if m in sent_at)
    # The two halves, split at the processor's applied_at (same host, same clock).
    to_applied = sorted(applied[m] - sent_at[m] for m in seen if m in sent_at)
    to_client = sorted(seen[m] - applied[m] for m in seen if m in sent_at)
    acks = sorted(acked[m] - sent_at[m] for m in acked)
    times = sorted(seen[m] for m in seen if m in sent_at)
    return {
        "messages": load["messages"], "offered_rate": load["offered_rate"],
        "offered_s": load["offered_s"], "slip_p99_ms": load["slip_p99_ms"],
        "slip_max_ms": load["slip_max_ms"], "http": load["statuses"],
        "accepted": len(acked), "delivered": len(latencies),
        "by_sport": {s: {"sent": n, "delivered": delivered_by_sport.get(s, 0)}
                     for s, n in load["sent_by_sport"].items()},
        "delivered_rate": round(len(times) / (times[-1] - times[0]), 1) if len(times) > 1 else 0.0,
        "p50_ms": round(_pct(latencies, 0.50) * 1000, 1),
        "p99_ms": round(_pct(latencies, 0.99) * 1000, 1),
        "p999_ms": round(_pct(latencies, 0.999) * 1000, 1),
        "max_ms": round((latencies[-1] if latencies else float("nan")) * 1000, 1),
        "ack_p50_ms": round(_pct(acks, 0.50) * 1000, 1),
        "ack_p99_ms": round(_pct(acks, 0.99) * 1000, 1),
        "to_applied_p50_ms": round(_pct(to_applied, 0.50) * 1000, 1),
        "to_applied_p99_ms": round(_pct(to_applied, 0.99) * 1000, 1),
        "to_client_p50_ms": round(_pct(to_client, 0.50) * 1000, 1),
        "to_client_p99_ms": round(_pct(to_client, 0.99) * 1000, 1),
    }


def bench_scope(tag: str, partitions: int | None = None, fanout_partitions: int | None = None,
                ) -> Scope:
    """Fresh names on the local stack for one benchmark run (topics, database, Redis
    prefix, all marked ``bench<tag>``); :func:`cleanup` drops them. Partitions: the
    settings' defaults (those ``make topics`` creates) unless given."""
    load_local_env()
    stack = local_endpoints()
    kafka = KafkaSettings(bootstrap=stack.kafka_bootstrap, topic_prefix=f"bench{tag}.sportsfeed")
    counts = {k: v for k, v in (("partitions", partitions),
                                ("fanout_partitions", fanout_partitions)) if v is not None}
    return Scope(
        kafka=kafka.model_copy(update=counts),
        mysql=MySQLSettings(host=stack.mysql_host, port=stack.mysql_port, user=stack.mysql_user,
                            password=SecretStr(stack.mysql_password),
                            database=f"sportsfeed_bench_{tag}"),
        redis=RedisSettings(url=stack.redis_url, key_prefix=f"bench{tag}"),
    )


async def cleanup(scope: Scope) -> None:
    """Drop the fresh topics, database and Redis keys."""
    from shared.cache import open_cache
    from shared.storage.migrate import drop_database

    with contextlib.suppress(Exception):
        await delete_topics(scope.kafka, Topics(scope.kafka.topic_prefix).all())
    with contextlib.suppress(Exception):
        await drop_database(scope.mysql)
    with contextlib.suppress(Exception):
        async with open_cache(scope.redis) as cache:
            keys = [k async for k in cache.client.scan_iter(match=f"{scope.redis.key_prefix}:*")]
            if keys:
                await cache.client.delete(*keys)


def markdown(r: dict[str, Any]) -> str:
    """The report section."""
    s, goal = r["settings"], r["steps"][0]
    met = "met" if r["goal_met"] else "NOT met"
    rows = [(f"{x['rate']:,.0f} (achieved {x['offered_rate']:,})", f"{x['messages']:,}",
             f"{x['delivered']:,}", f"{x['delivered_rate']:,}", x["p50_ms"], x["p99_ms"],
             x["p999_ms"], x["max_ms"], f"{x['ack_p50_ms']} / {x['ack_p99_ms']}")
            for x in r["steps"]]
    by_sport = "; ".join(f"{x['rate']:,.0f} msg/s: " + ", ".join(
        f"{sport} {n['delivered']:,} of {n['sent']:,}" for sport, n in x["by_sport"].items())
        for x in r["steps"])
    sports, cpu_names = ", ".join(s["sports"]), " / ".join(goal["cpu_share"])
    rest_names = " / ".join(goal["cpu_share_rest"])
    one = len(s["sports"]) == 1
    workers = f"one {sports} processor" if one else f"{len(s['sports'])} processors (one per sport)"
    stages = [(f"{x['rate']:,.0f}", f"{x['to_applied_p50_ms']} / {x['to_applied_p99_ms']}",
               _pair(x["processor_stages"], "append_to_batch"),
               _pair(x["processor_stages"], "append_to_commit"),
               f"{x['processor_stages'].get('batches', '-')} "
               f"({x['processor_stages'].get('mean_batch', '-')})",
               f"{x['processor_stages'].get('processor_cpu_ms_per_batch', '-')} / "
               f"{x['processor_stages'].get('distribution_cpu_ms_per_batch', '-')}",
               f"{x['to_client_p50_ms']} / {x['to_client_p99_ms']}",
               _pair(x["processor_stages"], "applied_to_dispatch"), x["drain_s"],
               f"{x['slip_p99_ms']} / {x['slip_max_ms']}",
               " / ".join(str(v) for v in x["cpu_share"].values()),
               " / ".join(str(v) for v in x["cpu_share_rest"].values()),
               f"{x['machine']['busy_cores']} / {x['machine']['ours_cores']}",
               x["machine"].get("stolen_cores", "-"))
              for x in r["steps"]]
    procs = [(name, p["pid"], p["rss_start_mib"], p["rss_peak_mib"], p["hwm_mib"], p["cpu_share"])
             for name, p in r["processes"].items()]
    return "\n".join([
        "## End to end", "",
        "Provider POST start → WebSocket delivery of the delta, matched on `message_id`: "
        f"{s['events']} events of {sports}{'' if one else ' (the sports take turns)'}, odds "
        f"POSTed in batches of {s['batch']} for {s['seconds']:g} s per step (open loop); "
        f"ingestion, {workers} and distribution each in its own process; one WebSocket "
        f"subscriber to {'the sport' if one else 'all of them'} in another. Partitions: "
        f"{s.get('partitions', 6)} per feed topic, {s.get('fanout_partitions', 6)} per updates "
        "and model topic. "
        f"Goal at {goal['rate']:,.0f} msg/s: p99 < {GOALS['p99_ms']:g} ms, **{met}**.",
        "",
        table(rows, ("msg/s offered", "sent", "delivered", "delivered msg/s", "p50 ms", "p99 ms",
                     "p99.9 ms", "max ms", "POST→202 p50 / p99 ms")),
        "", f"Delivered by sport: {by_sport}.", "",
        "Each step waits, after the ledger caught up, until the client holds a delta for "
        "every message the ledger applied (the others were stale or duplicates: no delta), "
        "so the slowest deltas count: " + "; ".join(
            f"{x['rate']:,.0f} msg/s: {x['delivered']:,} of {x['applied']:,} applied, "
            f"{x['delivered_wait_s']} s after the ledger" for x in r["steps"]) + ".",
        "",
        "Where the time goes (p50 / p99 ms). `applied_at` is stamped by the processor when "
        "it decides the batch, before that batch's MySQL commit (a batch decided ahead is "
        "stamped while the batch before it commits); the two Kafka-append stages come from the "
        "workers' own histograms (bucket counts summed over the processors, then "
        "interpolated), `applied_at` → dispatch from the distribution's (coarser buckets). "
        "CPU is a share of one core over the step and its drain (per batch: the "
        "processors' CPU together, and the distribution's, over the batches taken), for "
        "the services and then for the rest of what the step runs: the stack (Kafka, "
        "MariaDB, Redis; the shared local one, so other users count too) and this "
        "benchmark's own WebSocket client and load generator; "
        "\"cores busy\" compares the "
        "whole machine (`/proc/stat`) with "
        "this benchmark's processes plus Kafka, MariaDB and Redis: the difference is other "
        "work competing for the cores. \"Cores stolen\" is the time the host gave this "
        "virtual machine's cores to something else while they had work (steal in "
        "`/proc/stat`): a machine slower than its two cores, not counted as busy.", "",
        table(stages, ("msg/s", "POST → applied_at", "Kafka append → batch taken",
                       "Kafka append → MySQL commit", "batches (mean records)",
                       "CPU ms per batch: processors / distribution",
                       "applied_at → client",
                       "of which applied_at → distribution dispatch",
                       "ledger caught up s after the load", "sender slip p99 / max ms",
                       f"CPU {cpu_names}",
                       f"CPU {rest_names}",
                       "cores busy: machine / this benchmark", "cores stolen")),
        "",
        f"Ledger {r['ledger']}; client {r['ws']}. Load average "
        f"{', '.join(f'{x:.1f}' for x in r['loadavg_before'])} before, "
        f"{', '.join(f'{x:.1f}' for x in r['loadavg_after'])} after.", "",
        "### Memory and CPU", "",
        "During the steps above: `/proc/<pid>/status` VmRSS sampled every 0.5 s, VmHWM (the "
        "process's lifetime peak) at the end, CPU as a share of one core. Kafka, MariaDB and "
        "Redis are the shared local stack's, so their figures include other users.", "",
        table(procs, ("process", "pid", "RSS at start MiB", "RSS peak MiB", "VmHWM MiB",
                      "CPU share")),
    ]) + "\n"


def _pair(stages: dict[str, float], name: str) -> str:
    return f"{stages.get(name + '_p50_ms', '-')} / {stages.get(name + '_p99_ms', '-')}"


def main(argv: list[str] | None = None) -> int:
    """CLI: the benchmark, or (``receive``) the WebSocket receiver process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    receive = sub.add_parser("receive", help="internal: the WebSocket receiver process")
    receive.add_argument("--url", required=True)
    receive.add_argument("--out", type=Path, required=True)
    receive.add_argument("--sports", nargs="+", choices=SPORTS, default=SPORTS)
    parser.add_argument("--rate", type=float, default=2000.0, help="messages per second offered")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the load (max 60)")
    parser.add_argument("--reference-rate", type=float, default=500.0,
                        help="a second step at this rate, to show the unloaded latency (0: none)")
    parser.add_argument("--batch", type=int, default=20, help="messages per POST")
    # Many events: one event's messages are 0.5 s apart, so concurrent POSTs rarely
    # reorder them (a reordered one is stale: no delta, not delivered).
    parser.add_argument("--events", type=int, default=1000, help="events the odds move")
    parser.add_argument("--sports", nargs="+", choices=SPORTS, default=SPORTS,
                        help="one processor per sport; event n is of sport n %% len(sports)")
    parser.add_argument("--partitions", type=int, default=None,
                        help="partitions of each feed topic (default: the settings', 6)")
    parser.add_argument("--fanout-partitions", type=int, default=None,
                        help="partitions of each updates and model topic (default: the "
                             "settings', 1)")
    parser.add_argument("--report", default="e2e", help="report name (.data/bench/<name>.*)")
    parser.add_argument("--drain", type=float, default=90.0,
                        help="seconds to wait for the ledger after the load")
    parser.add_argument("--distribution-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="settings for distribution, to try one (e.g. "
                             "SPORTSFEED_DISTRIBUTION_FETCH_MAX_WAIT_MS=10)")
    parser.add_argument("--processor-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="settings for every processor (e.g. "
                             "SPORTSFEED_PROCESSOR_BATCH_WITHIN_S=0.01)")
    parser.add_argument("--ingestion-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="settings for ingestion (e.g. SPORTSFEED_INGESTION_WORKERS=1)")
    args = parser.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if args.command == "receive":
        asyncio.run(_receive(args.url, args.out, args.sports))
        return 0
    args.seconds = min(args.seconds, 60.0)
    args.sports = [Sport(s) for s in dict.fromkeys(args.sports)]  # in order, once each
    results = asyncio.run(run(args))
    json_path, md_path = write_report(args.report, results, markdown(results))
    print(md_path.read_text())
    print(f"report: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
