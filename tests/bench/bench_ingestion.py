"""Ingestion throughput and latency against the real local Kafka: ``python -m tests.bench.bench_ingestion``.

What runs where (all on 127.0.0.1, bounded in time):

1. fresh topics are created; the service starts as a subprocess (``python -m
   services.ingestion``, uvloop) on a free port, first with one worker process, then
   with ``--workers`` (default: one per core, the most a host serving ingestion alone
   would run; ``make up`` runs half the cores), and is awaited
   on ``/readyz`` each time;
2. **single**: single-message POSTs from a separate load-generator process (``wrk``
   when installed, else an aiohttp client process) with many connections;
3. **batched**: POSTs of ``--batch-size`` messages each, fewer connections;
4. **bare**: the ceiling, a bare ``AIOKafkaProducer`` with the service's settings writing
   the same encoded messages, in this process, while no service runs;
5. **HTTP floor**: a bare aiohttp app that reads the body and answers, same load;
6. Kafka's end offsets are read back: the messages on the topic must be at least what
   the service acknowledged with 202 (nothing claimed that is not there).

The CPU probe (``tests/bench/report.py``) is taken around every phase and stands beside
its figure; the service's CPU is that of its whole process tree (supervisor and
workers), from ``/proc``.

``--profile`` samples the service with py-spy during the load phases and adds the
hottest functions to the report. Results go to ``.data/bench/ingestion.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.settings import KafkaSettings
from shared.topics import Topics, create_topics, delete_topics
from tests.bench import loadgen
from tests.bench.bench_memory import descendants, tree_cpu_seconds
from tests.bench.profiling import Profiler
from tests.bench.report import REPO, bench_dir, cpu_probe_ms, table, write_report
from tests.support.ingestion_process import wait_group_ready
from tests.support.ports import free_port
from tests.support.stack import load_local_env

GOALS = {"single_rps": 10_000, "batched_mps": 50_000, "ratio_of_bare": 0.5,
         "single_ratio_of_floor": 0.25, "single_cpu_us": 150.0}


def odds_doc(n: int, event: int) -> dict[str, Any]:
    """One native-JSON football odds message (1X2 and a total), unique by ``n``."""
    return {
        "message_id": f"b-{n}", "sport": "football", "event_id": f"ev-{event}", "kind": "odds",
        "provider_ts": "2026-05-01T18:00:00Z",
        "body": {"markets": [
            {"market_key": "1x2", "outcomes": [
                {"id": "home", "price": "2.10"}, {"id": "draw", "price": "3.40"},
                {"id": "away", "price": "3.60"}]},
            {"market_key": "totals|total=2.5", "outcomes": [
                {"id": "over", "price": "1.90"}, {"id": "under", "price": "1.95"}]},
        ]},
    }


class Service:
    """The ingestion service as a subprocess on its own port."""

    def __init__(self, kafka: KafkaSettings, key: str, port: int, log: Path, workers: int,
                 data_dir: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "SPORTSFEED_INGESTION_PORT": str(port),
            "SPORTSFEED_INGESTION_WORKERS": str(workers),
            "SPORTSFEED_INGESTION_DATA_DIR": str(data_dir),
            "SPORTSFEED_INGESTION_API_KEYS": f"bench:{key}",
            "SPORTSFEED_INGESTION_RATE_LIMIT_PER_SECOND": "1e9",
            "SPORTSFEED_INGESTION_RATE_LIMIT_BURST": "1000000000",
            "SPORTSFEED_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "SPORTSFEED_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        }
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.ingestion"], cwd=REPO, env=env,
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def stop(self) -> int:
        """SIGTERM, wait, return the exit code (0 after a clean drain)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._log.close()
        return code


# The floor: an aiohttp app that reads the body and answers, nothing else (same loop, same
# load generator). What the service does on top of this is what it costs.
_HELLO = """
import sys, uvloop
from aiohttp import web
async def handle(request):
    await request.read()
    return web.Response(body=b'{"accepted": []}', status=202, content_type="application/json")
app = web.Application()
app.router.add_post("/v1/feed/json", handle)
uvloop.install()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


async def http_floor(conns: int, seconds: float) -> dict[str, Any]:
    """Requests/s of a bare aiohttp app on this machine, under the same load generator."""
    import aiohttp

    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", _HELLO, str(port))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                with suppress(aiohttp.ClientError):
                    async with session.post(f"http://127.0.0.1:{port}/v1/feed/json"):
                        break
                await asyncio.sleep(0.1)
        cpu_before = tree_cpu_seconds(proc.pid)
        stats = await loadgen.run_load(
            f"http://127.0.0.1:{port}/v1/feed/json", "x", 1, conns, seconds, odds_doc
        )
        cpu = tree_cpu_seconds(proc.pid) - cpu_before
        stats["cpu_us_per_request"] = round(cpu / max(stats["ok"], 1) * 1e6, 1)
        stats["cores_used"] = round(cpu / stats["seconds"], 2)
        return stats
    finally:
        proc.terminate()
        await proc.wait()


def adapter_cost(size: int, rounds: int = 5) -> dict[str, float]:
    """CPU microseconds per message of the JSON adapter alone and of encoding, in-process,
    with the service's garbage-collector settings (restored afterwards); the full path
    (what every payload cost before the fast path) for comparison."""
    import gc

    from services.ingestion.adapters import parse_json
    from services.ingestion.adapters.native_json import parse_json_full
    from services.ingestion.server import tune_gc
    from shared.codec import encode_message

    raw = json.dumps({"messages": [odds_doc(i, i % 1000) for i in range(size)]}).encode()
    now = datetime.now(UTC)
    thresholds = gc.get_threshold()
    tune_gc()
    try:
        t0 = time.process_time()
        for _ in range(rounds):
            result = parse_json(raw, provider="bench", received_at=now)
        t1 = time.process_time()
        for _ in range(rounds):
            for message in result.messages:
                encode_message(message)
        t2 = time.process_time()
        for _ in range(rounds):
            parse_json_full(raw, provider="bench", received_at=now)
        t3 = time.process_time()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    n = rounds * size
    return {"parse_us_per_msg": round((t1 - t0) / n * 1e6, 1),
            "encode_us_per_msg": round((t2 - t1) / n * 1e6, 1),
            "full_path_us_per_msg": round((t3 - t2) / n * 1e6, 1)}


async def bare_producer(kafka: KafkaSettings, values: list[tuple[bytes, bytes]],
                        topic: str, seconds: float) -> dict[str, float]:
    """The ceiling: the service's producer settings, no HTTP, no parsing."""
    from aiokafka import AIOKafkaProducer

    from services.ingestion.publisher import CachingPartitioner
    from services.ingestion.settings import IngestionSettings

    settings = IngestionSettings(api_keys=None)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True,
        linger_ms=settings.kafka_linger_ms, max_batch_size=settings.kafka_max_batch_bytes,
        partitioner=CachingPartitioner(),
    )
    await producer.start()
    sent = 0
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            futures = [await producer.send(topic, value, key) for key, value in values]
            await asyncio.gather(*futures)
            sent += len(futures)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        await producer.stop()
    # This process's CPU: the producer's, with the few other threads this process has.
    return {"messages": sent, "seconds": round(elapsed, 2), "mps": round(sent / elapsed),
            "cpu_us_per_msg": round(cpu / max(sent, 1) * 1e6, 1),
            "cores_used": round(cpu / elapsed, 2)}


async def end_offsets(kafka: KafkaSettings, topic: str) -> int:
    """Messages on a topic (sum of its partitions' end offsets)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap)
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            await consumer._client._wait_on_metadata(topic)
            parts = consumer.partitions_for_topic(topic) or set()
        offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return int(sum(offsets.values()))
    finally:
        await consumer.stop()


def _encoded(n: int) -> list[tuple[bytes, bytes]]:
    """The messages the batched phase sends, encoded exactly as the service encodes them."""
    from services.ingestion.adapters import parse_json
    from shared.codec import encode_message, message_key

    raw = json.dumps({"messages": [odds_doc(i, i % 1000) for i in range(n)]}).encode()
    result = parse_json(raw, provider="bench", received_at=datetime.now(UTC))
    return [(message_key(m), encode_message(m)) for m in result.messages]


async def _service_phases(args: argparse.Namespace, kafka: KafkaSettings, key: str,
                          workers: int, out: Path) -> dict[str, Any]:
    """Single and batched phases against the service run with ``workers`` processes."""
    service = Service(kafka, key, args.port or free_port(), out / f"ingestion-service-{workers}.log",
                      workers, out / "ingestion-run")
    results: dict[str, Any] = {}
    try:
        await wait_group_ready(service.url, service.proc)  # every worker, not just one
        profiles: dict[str, list[tuple[str, float]]] = {}
        for phase, size, conns in (("single", 1, args.connections),
                                   ("batched", args.batch_size, args.batch_connections)):
            pids = _group_pids(service.proc.pid)
            profilers = [Profiler(pid, out / f"ingestion-{phase}-{workers}-{pid}.pyspy.txt",
                                  args.duration) for pid in pids] if args.profile else []
            probe = cpu_probe_ms()
            cpu_before = tree_cpu_seconds(service.proc.pid)
            stats = await loadgen.run_load(
                f"{service.url}/v1/feed/json", key, size, conns, args.duration, odds_doc
            )
            cpu = tree_cpu_seconds(service.proc.pid) - cpu_before
            stats["cpu_probe_ms"] = (probe, cpu_probe_ms())
            stats["messages_per_s"] = round(stats["ok_per_s"] * size)
            # CPU the service spent per message: robust to other load on the machine.
            stats["service_cores_used"] = round(cpu / stats["seconds"], 2)
            stats["service_cpu_us_per_msg"] = round(cpu / max(stats["ok"] * size, 1) * 1e6, 1)
            stats["service_cpu_us_per_request"] = round(cpu / max(stats["ok"], 1) * 1e6, 1)
            # What one whole core would give at that cost.
            stats["per_core_msgs_per_s"] = round(1e6 / max(stats["service_cpu_us_per_msg"], 0.1))
            results[phase] = stats
            if profilers:
                profiles[phase] = merge_tops([p.top() for p in profilers])
            print(f"{phase} ({workers} workers): {json.dumps(stats)}", flush=True)
        results["exit_code"] = service.stop()
        if profiles:
            results["profile_top_self"] = profiles
    finally:
        if service.proc.poll() is None:
            service.stop()
    return results


def _group_pids(pid: int) -> list[int]:
    """The workers of a group (the processes under its supervisor), or the process alone."""
    return descendants(pid) or [pid]


def merge_tops(tops: list[list[tuple[str, float]]], n: int = 15) -> list[tuple[str, float]]:
    """The hottest functions over several processes' profiles (their shares averaged)."""
    merged: dict[str, float] = {}
    for top in tops:
        for name, share in top:
            merged[name] = merged.get(name, 0.0) + share / len(tops)
    return sorted(((k, round(v, 4)) for k, v in merged.items()), key=lambda kv: -kv[1])[:n]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """All phases; returns the results dict of the report."""
    load_local_env()
    base = KafkaSettings()
    kafka = base.model_copy(update={
        "topic_prefix": f"bench{uuid.uuid4().hex[:8]}.sportsfeed", "partitions": args.partitions,
    })
    topics = Topics(kafka.topic_prefix)
    await create_topics(kafka)
    key = secrets.token_urlsafe(24)
    out = bench_dir()
    out.mkdir(parents=True, exist_ok=True)
    workers = args.workers or (os.cpu_count() or 1)
    results: dict[str, Any] = {"settings": {
        "duration_s": args.duration, "connections": args.connections,
        "batch_size": args.batch_size, "batch_connections": args.batch_connections,
        "partitions": args.partitions, "loadgen": "wrk" if loadgen.have_wrk() else "aiohttp",
        "workers": workers,
    }}
    try:
        results["one_worker"] = await _service_phases(args, kafka, key, 1, out)
        results["workers"] = await _service_phases(args, kafka, key, workers, out)
        feed = topics.feed(next(iter(_sports())))
        on_topic = await end_offsets(kafka, feed)
        claimed = sum(r["single"]["ok"] + r["batched"]["ok"] * args.batch_size
                      for r in (results["one_worker"], results["workers"]))
        results["verification"] = {"acknowledged_202": claimed, "on_topic": on_topic,
                                   "nothing_claimed_missing": on_topic >= claimed}
        bare_topic = topics.feed(list(_sports())[1])
        probe = cpu_probe_ms()
        results["bare"] = await bare_producer(kafka, _encoded(args.batch_size), bare_topic,
                                              args.duration)
        results["bare"]["cpu_probe_ms"] = (probe, cpu_probe_ms())
        print(f"bare: {json.dumps(results['bare'])}", flush=True)
        results["adapter_alone"] = adapter_cost(args.batch_size)
        probe = cpu_probe_ms()
        results["http_floor"] = await http_floor(args.connections, min(args.duration, 10.0))
        results["http_floor"]["cpu_probe_ms"] = (probe, cpu_probe_ms())
        print(f"http floor: {json.dumps(results['http_floor'])}", flush=True)
        results["machine_load_avg"] = os.getloadavg()
    finally:
        await delete_topics(kafka, topics.all())
    return judge(results)


def judge(results: dict[str, Any]) -> dict[str, Any]:
    """The ratios against the anchors of the same run, and which goals they meet."""
    bare, floor = results["bare"]["mps"], results["http_floor"]["ok_per_s"]
    for name in ("one_worker", "workers"):
        r = results[name]
        r["single_ratio_of_floor"] = round(r["single"]["ok_per_s"] / floor, 3)
        r["batched_ratio_of_bare"] = round(r["batched"]["messages_per_s"] / bare, 3)
    best = results["workers"]
    results["single"], results["batched"] = best["single"], best["batched"]
    results["exit_code"] = best["exit_code"]
    results["ratio_batched_to_bare"] = best["batched_ratio_of_bare"]
    results["ratio_single_to_floor"] = best["single_ratio_of_floor"]
    results["cpu_ratio_single"] = round(
        best["single"]["service_cpu_us_per_request"] / results["http_floor"]["cpu_us_per_request"], 1)
    results["cpu_ratio_batched"] = round(
        best["batched"]["service_cpu_us_per_msg"] / results["bare"]["cpu_us_per_msg"], 1)
    results["goals"] = GOALS
    results["goals_met"] = {
        "single_rps": best["single"]["ok_per_s"] >= GOALS["single_rps"],
        "batched_mps": best["batched"]["messages_per_s"] >= GOALS["batched_mps"],
        "ratio_of_bare": best["batched_ratio_of_bare"] >= GOALS["ratio_of_bare"],
        "single_ratio_of_floor": best["single_ratio_of_floor"] >= GOALS["single_ratio_of_floor"],
        "single_cpu_us": best["single"]["service_cpu_us_per_request"] <= GOALS["single_cpu_us"],
    }
    return results


def _sports() -> list[Any]:
    from shared.enums import Sport

    return list(Sport)


def _probe(stats: dict[str, Any]) -> str:
    before, after = stats["cpu_probe_ms"]
    return f"{before} → {after}"


def markdown(results: dict[str, Any]) -> str:
    """The report's Markdown section."""
    bare, floor, n = results["bare"], results["http_floor"], results["settings"]["workers"]
    size = results["settings"]["batch_size"]
    rows = []
    for name, label in (("one_worker", "1 process"), ("workers", f"{n} processes")):
        r = results[name]
        s, b = r["single"], r["batched"]
        rows += [
            (f"single-message POSTs, {label}", f"{s['ok_per_s']:,.0f} req/s",
             f"{r['single_ratio_of_floor']:.0%} of floor", f"{s['service_cpu_us_per_request']} µs/req",
             s["service_cores_used"], s["p50_ms"], s["p99_ms"], s["errors"], _probe(s)),
            (f"batched POSTs ({size}/request), {label}", f"{b['messages_per_s']:,} msg/s",
             f"{r['batched_ratio_of_bare']:.0%} of bare", f"{b['service_cpu_us_per_msg']} µs/msg",
             b["service_cores_used"], b["p50_ms"], b["p99_ms"], b["errors"], _probe(b)),
        ]
    rows += [
        ("bare aiokafka producer (ceiling)", f"{bare['mps']:,} msg/s", "-",
         f"{bare['cpu_us_per_msg']} µs/msg", bare["cores_used"], "-", "-", "-", _probe(bare)),
        ("bare aiohttp app, no work (HTTP floor)", f"{floor['ok_per_s']:,.0f} req/s", "-",
         f"{floor['cpu_us_per_request']} µs/req", floor["cores_used"], floor["p50_ms"],
         floor["p99_ms"], floor["errors"], _probe(floor)),
    ]
    alone = results["adapter_alone"]
    met = results["goals_met"]
    lines = [
        "## Ingestion", "",
        table(rows, ("phase", "rate", "of anchor", "service CPU", "cores busy", "p50 ms",
                     "p99 ms", "non-2xx", "CPU probe ms")), "",
        f"With {n} processes: single-message POSTs at {results['ratio_single_to_floor']:.0%} of "
        f"the HTTP floor (goal ≥ 25 % at ≤ 150 µs of service CPU per request), batched "
        f"throughput at {results['ratio_batched_to_bare']:.0%} of the bare producer (goal ≥ 50 %).",
        "Per unit of CPU, which other work on the machine disturbs less than rates: the "
        f"service spends {results['cpu_ratio_single']} times the bare app's CPU per single-message "
        f"request and {results['cpu_ratio_batched']} times the bare producer's per batched message.",
        f"Load generator: {results['settings']['loadgen']}, "
        f"{results['settings']['connections']} connections (single), "
        f"{results['settings']['batch_connections']} (batched), "
        f"{results['settings']['duration_s']} s per phase, on the same machine.", "",
        f"The JSON adapter alone (parse + canonical validation) costs "
        f"{alone['parse_us_per_msg']} µs/msg (its full path, which every payload took before "
        f"the fast path: {alone['full_path_us_per_msg']} µs/msg) and encoding "
        f"{alone['encode_us_per_msg']} µs/msg in-process, with the service's GC settings. "
        f"Load average at the end: "
        f"{', '.join(f'{x:.1f}' for x in results['machine_load_avg'])}.", "",
        "Goals: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items()),
        "", f"Verification: {results['verification']}",
        f"Service exit code after SIGTERM: {results['exit_code']}",
    ]
    for name in ("one_worker", "workers"):
        for phase, top in results[name].get("profile_top_self", {}).items():
            lines += ["", f"Hottest functions (self time), {phase}, {name}:", ""]
            lines += [f"- {share:.1%} {fn}" for fn, share in top[:12]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase (max 30)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0,
                        help="processes of the second run (default: one per core)")
    parser.add_argument("--profile", action="store_true", help="sample the service (py-spy)")
    args = parser.parse_args(argv)
    args.duration = min(args.duration, 30.0)
    with suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    results = asyncio.run(run(args))
    json_path, md_path = write_report("ingestion", results, markdown(results))
    print(markdown(results))
    print(f"\nreport: {json_path} {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
