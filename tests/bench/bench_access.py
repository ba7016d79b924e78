"""Per-key limits under load: ``python -m tests.bench.bench_access``.

Does one key's flood leave another key's latency alone? On the local stack, all on
127.0.0.1, every phase bounded in time:

1. fresh topics, database and Redis prefix; ``--events`` football events in MySQL and Redis;
2. the service as its own process with three keys: ``victim`` (every scope, no limit
   reached), ``flood`` (``--flood-rate`` requests a second, 5 WebSocket connections, 20
   sports and events followed) and ``greedy`` (the same scopes, no limit reached: what
   the flood would cost without its limits);
3. **REST**: the victim GETs ``/v1/events/{id}`` ``--victim-rps`` times a second from
   this process, timing each; four phases of ``--seconds``: alone, while ``wrk`` (its
   own process, ``--flood-connections``) floods ``/v1/events?limit=50`` (a MySQL read of
   50 rows) with flood's key, each connection pausing ``--flood-pause-ms`` between
   requests; the same flood with greedy's key; and flood's key all out (no pause);
4. **WebSocket**: the victim follows ``--ws-events`` events while this process publishes
   deltas at ``--ws-rate`` a second (latency: ``applied_at`` stamped before the Kafka send
   → receipt); three phases: alone, while a storm process (this module with ``storm``)
   holds flood's connections subscribed to every event and keeps opening more (each
   refused, 4029), and while it holds ``--hold`` connections of greedy's key.

The victim's latency without the flood is the anchor of each figure (same run, same
machine); the CPU probe before and after says how fast the cores were. Results go to
``.data/bench/access.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from datetime import datetime
from typing import Any

import aiohttp

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.topics import Topics
from tests.bench.bench_distribution import RawClient, Service, bench_delta, bench_snapshot
from tests.bench.bench_memory import cpu_seconds
from tests.bench.report import bench_dir, cpu_probe_ms, table, write_report
from tests.support.distribution import seed_mysql, service_env, start_process
from tests.support.ports import free_port
from tests.support.stack import fresh_local_stack

KEYS = {"victim": "victim-key-0123456789abcdef", "flood": "flood-key-0123456789abcdefg",
        "greedy": "greedy-key-0123456789abcdef"}
FLOOD_CONNECTIONS, FLOOD_FOLLOWS = 5, 20
FLOOD_PAGE = 50  # events per flood request: a MySQL read and 50 rows of JSON
UNLIMITED = "rate=1000000|burst=1000000|connections=100000|subscriptions=10000000"


def key_setting(flood_rate: int) -> str:
    """The three keys, as ``SPORTSFEED_DISTRIBUTION_API_KEYS``."""
    flood = (f"rate={flood_rate}|burst={2 * flood_rate}|connections={FLOOD_CONNECTIONS}"
             f"|subscriptions={FLOOD_FOLLOWS}")
    return ",".join([f"victim:{KEYS['victim']}:all:{UNLIMITED}",
                     f"flood:{KEYS['flood']}:rest|ws:{flood}",
                     f"greedy:{KEYS['greedy']}:rest|ws:{UNLIMITED}"])


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` in ms (0 when empty)."""
    return round(values[min(len(values) - 1, int(len(values) * q))] * 1000, 2) if values else 0.0


def latency(values: list[float]) -> dict[str, float | int]:
    """Count, p50, p99 and max of latencies in seconds, as ms."""
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": pct(ordered, 0.5), "p99_ms": pct(ordered, 0.99),
            "max_ms": round(ordered[-1] * 1000, 2) if ordered else 0.0}


# --- REST ------------------------------------------------------------------------------------


async def victim_rest(url: str, events: int, rps: int, seconds: float) -> list[float]:
    """GET random events' details at ``rps`` for ``seconds``; each request's latency."""
    headers = {"Authorization": f"Bearer {KEYS['victim']}"}
    times: list[float] = []
    rng = random.Random(7)
    async with aiohttp.ClientSession(headers=headers) as http:
        started = time.monotonic()
        for n in range(int(rps * seconds)):
            due = started + n / rps
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            sent = time.perf_counter()
            async with http.get(f"{url}/v1/events/bench-{rng.randrange(events):04d}") as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"the victim got {response.status}")
            times.append(time.perf_counter() - sent)
    return times


async def flood_rest(url: str, key: str, connections: int, pause_ms: int, seconds: int) -> dict[str, float]:
    """``wrk`` on ``/v1/events?limit=50`` with ``key``, each connection pausing ``pause_ms``
    between requests (0: all out); attempts, served and refused a second."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(f"delay = function() return {pause_ms} end\n" if pause_ms else "")
    try:
        process = await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", lua.name,
            "-H", f"Authorization: Bearer {key}", f"{url}/v1/events?limit={FLOOD_PAGE}",
            stdout=asyncio.subprocess.PIPE)
        out = (await process.communicate())[0].decode()
    finally:
        os.unlink(lua.name)
    requests = re.search(r"(\d+) requests in", out)
    assert requests is not None, out
    total = int(requests.group(1))
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    refused_n = int(refused.group(1)) if refused else 0
    return {"attempted_per_s": round(total / seconds), "refused_per_s": round(refused_n / seconds),
            "served_per_s": round((total - refused_n) / seconds, 1)}


async def rest_phase(service: Service, args: argparse.Namespace, flood_key: str | None,
                     pause_ms: int) -> dict[str, Any]:
    """The victim's latency, alone or beside a flood with ``flood_key``."""
    url = f"http://127.0.0.1:{service.rest}"
    cpu, wall = cpu_seconds(service.process.pid), time.monotonic()
    probe = asyncio.create_task(victim_rest(url, args.events, args.victim_rps, args.seconds))
    flood = None
    if flood_key is not None:
        flood = await flood_rest(url, flood_key, args.flood_connections, pause_ms, int(args.seconds))
    times = await probe
    share = (cpu_seconds(service.process.pid) - cpu) / (time.monotonic() - wall)
    return {"victim": latency(times), "flood": flood, "server_cpu_share": round(share, 2)}


# --- WebSocket -------------------------------------------------------------------------------


async def victim_ws(url: str, ids: list[str], ready: asyncio.Event, stop: asyncio.Event) -> list[float]:
    """Follow ``ids`` with the victim's key; each delta's latency until ``stop``."""
    from websockets.asyncio.client import connect

    times: list[float] = []
    async with connect(url, max_size=None, additional_headers={
            "Authorization": f"Bearer {KEYS['victim']}"}) as ws:
        await ws.send(json.dumps({"type": "subscribe", "event_ids": ids}))
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            message = json.loads(raw)
            if message["type"] == "subscribed":
                ready.set()
            elif message["type"] == "delta":
                times.append(time.time() - datetime.fromisoformat(message["applied_at"]).timestamp())
    return times


async def publish_deltas(kafka: KafkaSettings, ids: range, rate: int, seconds: float,
                         versions: dict[int, int]) -> int:
    """Deltas of the events ``ids`` at ``rate`` a second for ``seconds``; how many."""
    from aiokafka import AIOKafkaProducer

    from shared.enums import Sport

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, linger_ms=2)
    await producer.start()
    topic, sent = Topics(kafka.topic_prefix).updates(Sport.FOOTBALL), 0
    try:
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            for _ in range(int(elapsed * rate) - sent):
                event = ids[sent % len(ids)]
                versions[event] += 1
                d = bench_delta(event, versions[event])
                await producer.send(topic, d.model_dump_json(exclude_none=True).encode(),
                                    key=d.event_id.encode())
                sent += 1
            await asyncio.sleep(0.01)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def ws_phase(service: Service, kafka: KafkaSettings, args: argparse.Namespace,
                   storm_key: str | None, step: int, versions: dict[int, int]) -> dict[str, Any]:
    """The victim's delta latency, alone or beside a storm with ``storm_key``.

    Each step moves events of its own: Redis keeps their version-1 snapshots (no processor
    runs here), so a subscriber to events an earlier step moved would first be sent that
    step's retained deltas, with their old ``applied_at``.
    """
    ids = range(step * args.ws_events, (step + 1) * args.ws_events)
    url = f"ws://127.0.0.1:{service.ws}/"
    ready, stop = asyncio.Event(), asyncio.Event()
    victim = asyncio.create_task(victim_ws(url, [f"bench-{n:04d}" for n in ids], ready, stop))
    await asyncio.wait_for(ready.wait(), 30)
    storm = None
    if storm_key is not None:
        storm = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.bench.bench_access", "storm", "--port", str(service.ws),
            "--key", storm_key, "--first", str(ids[0]), "--events", str(args.ws_events),
            "--hold", str(args.hold),
            "--seconds", str(args.seconds + 4), stdout=asyncio.subprocess.PIPE)
        assert storm.stdout is not None
        line = await asyncio.wait_for(storm.stdout.readline(), 120)  # connections held
        if line.strip() != b"READY":
            raise RuntimeError(f"storm failed: {line!r}")
    cpu, wall = cpu_seconds(service.process.pid), time.monotonic()
    sent = await publish_deltas(kafka, ids, args.ws_rate, args.seconds, versions)
    await asyncio.sleep(1.0)
    share = (cpu_seconds(service.process.pid) - cpu) / (time.monotonic() - wall)
    stop.set()
    times = await victim
    storm_out = None
    if storm is not None:
        out, _ = await asyncio.wait_for(storm.communicate(), 60)
        storm_out = json.loads(out.decode().strip().splitlines()[-1])
    return {"victim": latency(times), "published": sent, "storm": storm_out,
            "server_cpu_share": round(share, 2)}


async def storm(port: int, key: str, first: int, events: int, hold: int, seconds: float) -> None:
    """Hold up to ``hold`` connections with ``key``, each following every event; keep opening
    more until ``seconds`` pass (each refused one counted); then print the counts."""
    loop = asyncio.get_running_loop()
    subscribe = json.dumps({"type": "subscribe",
                            "event_ids": [f"bench-{n:04d}" for n in range(first, first + events)]}).encode()
    clients: list[dict[str, Any]] = []

    async def attempt() -> None:
        stats: dict[str, Any] = {"deltas": 0, "snapshots": 0, "conflated": 0, "closed": 0,
                                 "latencies": [], "first": None, "last": None,
                                 "expect_snapshots": 10**9}
        await loop.create_connection(lambda: RawClient(stats, subscribe, key), "127.0.0.1", port)
        clients.append(stats)

    def open_ones() -> int:
        return sum(1 for c in clients if not c["closed"])

    for _ in range(hold):
        await attempt()
    await asyncio.sleep(1.0)  # the server admits or refuses them
    print("READY", flush=True)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if open_ones() < hold:
            await attempt()  # over the key's limit: refused
        await asyncio.sleep(0.01)
    codes = [code for c in clients for code in c.get("close_codes", [])]
    print(json.dumps({"held": open_ones(), "attempts": len(clients), "refused_4029": codes.count(4029),
                      "limit_errors": sum(c.get("errors", 0) for c in clients),
                      "deltas": sum(c["deltas"] for c in clients)}), flush=True)


# --- the run ---------------------------------------------------------------------------------


async def seed(mysql: MySQLSettings, redis: RedisSettings, events: int) -> None:
    """The bench's football events, in MySQL (the list) and Redis (the details)."""
    from shared.cache import open_cache

    snapshots = [bench_snapshot(n) for n in range(events)]
    await seed_mysql(mysql, snapshots)
    async with open_cache(redis) as cache:
        await cache.write(snapshots)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase; returns the figures."""
    bench_dir().mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"settings": {k: v for k, v in vars(args).items() if k != "command"},
                               "cpu_probe_ms_before": cpu_probe_ms(),
                               "loadavg_before": os.getloadavg()[0]}
    async with fresh_local_stack("access") as (kafka, mysql, redis):
        await seed(mysql, redis, args.events)
        rest_port, ws_port = free_port(), free_port()
        env = service_env(kafka, mysql, redis, rest_port, ws_port)
        env.update({"SPORTSFEED_DISTRIBUTION_API_KEYS": key_setting(args.flood_rate),
                    "SPORTSFEED_DISTRIBUTION_HEARTBEAT_S": "5",
                    "SPORTSFEED_DISTRIBUTION_LOG_LEVEL": "warning"})
        log = bench_dir() / "access-service.log"
        service = Service(await asyncio.to_thread(start_process, env, log), rest_port, ws_port)
        try:
            await victim_rest(f"http://127.0.0.1:{rest_port}", args.events, args.victim_rps, 2)  # warm-up
            # Each flood beside its own anchor, measured just before it: the machine drifts.
            pause, results["rest"], results["ws"] = args.flood_pause_ms, {}, {}
            for name, key, ms in (("flood", KEYS["flood"], pause), ("greedy", KEYS["greedy"], pause),
                                  ("flood_all_out", KEYS["flood"], 0)):
                results["rest"][name] = {"anchor": await rest_phase(service, args, None, 0),
                                         "loaded": await rest_phase(service, args, key, ms)}
            versions, step = dict.fromkeys(range(args.events), 1), 0
            for name, key in (("flood", KEYS["flood"]), ("greedy", KEYS["greedy"])):
                anchor = await ws_phase(service, kafka, args, None, step, versions)
                loaded = await ws_phase(service, kafka, args, key, step + 1, versions)
                results["ws"][name] = {"anchor": anchor, "loaded": loaded}
                step += 2
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEYS['victim']}"}) as http, \
                    http.get(f"http://127.0.0.1:{rest_port}/v1/access/usage") as response:
                results["usage"] = {k["name"]: {"requests": k["requests"], "refusals": k["refusals"]}
                                    for k in (await response.json())["keys"]}
        finally:
            service.stop()
    results["cpu_probe_ms_after"] = cpu_probe_ms()
    results["loadavg_after"] = os.getloadavg()[0]
    return results


def markdown(r: dict[str, Any]) -> str:
    """The report section."""
    s = r["settings"]
    rows = []
    for name, label in (("flood", f"flood (limit {s['flood_rate']}/s), paced"),
                        ("greedy", "greedy (no limit reached), paced"),
                        ("flood_all_out", f"flood (limit {s['flood_rate']}/s), all out")):
        a, b = r["rest"][name]["anchor"], r["rest"][name]["loaded"]
        f = b["flood"]
        rows.append((label, f"{a['victim']['p50_ms']} / {a['victim']['p99_ms']}",
                     f"{b['victim']['p50_ms']} / {b['victim']['p99_ms']}", b["victim"]["max_ms"],
                     f["attempted_per_s"], f["served_per_s"], f["refused_per_s"],
                     f"{a['server_cpu_share']} → {b['server_cpu_share']}"))
    ws_rows = []
    for name, label in (("flood", f"flood's storm ({FLOOD_CONNECTIONS} connections allowed)"),
                        ("greedy", f"greedy's {s['hold']} connections (no limit reached)")):
        a, b = r["ws"][name]["anchor"], r["ws"][name]["loaded"]
        st = b["storm"]
        ws_rows.append((label, f"{a['victim']['p50_ms']} / {a['victim']['p99_ms']}",
                        f"{b['victim']['p50_ms']} / {b['victim']['p99_ms']}", b["victim"]["max_ms"],
                        st["held"], st["refused_4029"], st["limit_errors"], f"{st['deltas']:,}",
                        f"{a['server_cpu_share']} → {b['server_cpu_share']}"))
    return "\n".join([
        "## Access: one key's flood against another key's latency", "",
        f"CPU probe {r['cpu_probe_ms_before']} → {r['cpu_probe_ms_after']} ms (lower is faster); "
        f"load average {r['loadavg_before']:.1f} → {r['loadavg_after']:.1f} on a shared 2-core machine. "
        "Each row's anchor is the victim alone, measured just before the flood in the same run.", "",
        f"REST: the victim GETs `/v1/events/{{id}}` {s['victim_rps']} times a second for {s['seconds']} s; "
        f"the flood is `wrk -c{s['flood_connections']}` on `/v1/events?limit={FLOOD_PAGE}` (a MySQL read "
        f"of {FLOOD_PAGE} rows), each connection pausing {s['flood_pause_ms']} ms between requests, "
        "or all out.", "",
        table(rows, ("beside", "victim p50 / p99 ms alone", "victim p50 / p99 ms beside", "max ms",
                     "flood tried/s", "served/s", "429/s", "server CPU")), "",
        f"WebSocket: the victim follows {s['ws_events']} events, deltas at {s['ws_rate']}/s for "
        f"{s['seconds']} s; latency from `applied_at` (before the Kafka send) to receipt. The flood "
        f"key may hold {FLOOD_CONNECTIONS} connections and follow {FLOOD_FOLLOWS} events: its storm "
        f"tries to hold {s['hold']}, each following the victim's events, and keeps opening more.", "",
        table(ws_rows, ("beside", "victim p50 / p99 ms alone", "victim p50 / p99 ms beside", "max ms",
                        "held", "refused (4029)", "subscriptions refused", "storm deliveries",
                        "server CPU")), "",
        f"Counted per key (`/v1/access/usage`): {json.dumps(r['usage'])}",
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI: the benchmark, or (``storm``) the WebSocket storm process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    storm_cmd = sub.add_parser("storm", help="internal: the WebSocket storm process")
    storm_cmd.add_argument("--port", type=int, required=True)
    storm_cmd.add_argument("--key", required=True)
    storm_cmd.add_argument("--first", type=int, required=True)
    storm_cmd.add_argument("--events", type=int, required=True)
    storm_cmd.add_argument("--hold", type=int, required=True)
    storm_cmd.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--events", type=int, default=500, help="football events seeded")
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--victim-rps", type=int, default=100)
    parser.add_argument("--flood-rate", type=int, default=20, help="the flood key's requests a second")
    parser.add_argument("--flood-connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--flood-pause-ms", type=int, default=20,
                        help="each wrk connection's pause between requests (the all-out phase: none)")
    parser.add_argument("--ws-events", type=int, default=20)
    parser.add_argument("--ws-rate", type=int, default=100, help="deltas a second")
    parser.add_argument("--hold", type=int, default=400, help="connections the storm tries to hold")
    args = parser.parse_args(argv)
    if args.command == "storm":
        asyncio.run(storm(args.port, args.key, args.first, args.events, args.hold, args.seconds))
        return 0
    results = asyncio.run(run(args))
    json_path, md_path = write_report("access", results, markdown(results))
    print(md_path.read_text())
    print(f"report: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
