"""Distribution throughput and latency on the local stack: ``python -m tests.bench.bench_distribution``.

What runs where (all on 127.0.0.1, every phase bounded in time):

1. fresh topics, database and Redis prefix; ``--events`` football snapshots in Redis;
2. the service as its own process (``python -m services.distribution``, uvloop);
3. **REST**: ``wrk`` (Debian package ``wrk``, one thread, in its own process) requests
   ``GET /v1/events/{id}`` over random seeded ids, once with the rendered-detail cache
   on (the default) and once with it off (every request reads Redis);
4. **WebSocket**: ``--subscribers`` clients in a separate process (this module with
   ``clients``: raw asyncio sockets, a minimal RFC 6455 client, so the load generator
   costs as little CPU as possible), each following the same ``--ws-events`` events
   (the first ones seeded); this process publishes
   deltas to Kafka at each ``--rates`` step for ``--seconds``; latency is the time
   from a delta's ``applied_at`` (set just before it is handed to Kafka) to its
   arrival in a client.

Results go to ``.data/bench/distribution.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from shared.enums import EventStatus, MessageKind, Sport
from shared.live import EventDelta, EventSnapshot, FixtureState, MarketState, OutcomeState
from shared.model import Competition, Competitor
from shared.settings import KafkaSettings
from shared.topics import Topics
from tests.bench.bench_memory import cpu_seconds
from tests.bench.report import REPO, bench_dir, table, write_report
from tests.support.distribution import (
    TEST_KEY,
    service_env,
    start_process,
    stop_process,
)
from tests.support.ports import free_port
from tests.support.stack import fresh_local_stack

LATENCY_SAMPLE = 4
GOALS = {"rest_rps": 10_000, "rest_p99_ms": 20.0, "ws_deliveries_per_s": 100_000,
         "ws_p99_ms": 100.0}
MARKETS = [("1x2", ("home", "draw", "away"))] + [
    (f"totals|total={n}.5", ("over", "under")) for n in range(1, 4)] + [
    (f"handicap|hcp={h}", ("home", "away")) for h in ("-0.5", "0.5")]


# --- data ---------------------------------------------------------------------------------


def bench_snapshot(n: int) -> EventSnapshot:
    """A live football event with six markets."""
    start = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    return EventSnapshot(
        event_id=f"bench-{n:04d}", sport=Sport.FOOTBALL, version=1, status=EventStatus.LIVE,
        fixture=FixtureState(
            competition=Competition(id="bench-league", name="Bench League"), start_time=start,
            home=Competitor(id=f"h{n}", name=f"Home {n}"), away=Competitor(id=f"a{n}", name=f"Away {n}"),
        ),
        markets={key: MarketState(market_key=key, status="active", outcomes=tuple(
            OutcomeState(id=o, price=Decimal("1.90")) for o in outcomes)) for key, outcomes in MARKETS},
    )


def bench_delta(event: int, version: int) -> EventDelta:
    """One price move of the event's 1x2 market, stamped now."""
    now = datetime.now(UTC)
    price = Decimal(f"{1.5 + (version % 100) / 100:.2f}")
    return EventDelta(
        event_id=f"bench-{event:04d}", sport=Sport.FOOTBALL, version=version,
        message_id=f"b{event}-{version}", kind=MessageKind.ODDS, provider="bench",
        provider_ts=now, applied_at=now,
        markets=(MarketState(market_key="1x2", status="active", outcomes=tuple(
            OutcomeState(id=o, price=price) for o in ("home", "draw", "away"))),),
    )


# --- the WebSocket load generator (runs as its own process) ---------------------------------


class RawClient(asyncio.Protocol):
    """A minimal WebSocket client: handshake (with ``key``), one subscribe, counts what
    arrives (and, in ``stats["close_codes"]``, the server's close codes)."""

    def __init__(self, stats: dict[str, Any], subscribe: bytes, key: str = TEST_KEY) -> None:
        self.stats = stats
        self.subscribe = subscribe
        self.key = key
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.ready = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream connection's transport (uvloop's is not an asyncio.Transport subclass,
        # so no isinstance check: the clients run on uvloop).
        self.transport = transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        transport.write(
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Authorization: Bearer {self.key}\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())

    def send_text(self, payload: bytes) -> None:
        mask = secrets.token_bytes(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        size = len(payload)
        # Client frames are masked (RFC 6455); the subscribe is under 64 KiB.
        short = size < 126
        header = bytes((0x81, 0x80 | (size if short else 126)))
        if not short:
            header += size.to_bytes(2, "big")
        assert self.transport is not None
        self.transport.write(header + mask + masked)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(bytes(buf[:200]))
            del buf[: end + 4]
            self.upgraded = True
            self.send_text(self.subscribe)
        now = time.time()
        stats = self.stats
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode, length, head = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            start = pos + head
            pos = start + length
            if opcode == 8:  # the server closes: answer by closing the socket
                code = int.from_bytes(buf[start : start + 2], "big") if length >= 2 else 1005
                stats.setdefault("close_codes", []).append(code)
                assert self.transport is not None
                self.transport.close()
            if opcode != 1:
                continue  # pings are answered by nobody: the bench disables them
            if buf.startswith(b'{"type":"delta"', start):
                stats["deltas"] += 1
                # Latency of one delta in LATENCY_SAMPLE: parsing every timestamp would
                # make the load generator, not the server, the bottleneck.
                if stats["deltas"] % LATENCY_SAMPLE == 0:
                    at = buf.find(b'"applied_at":"', start, pos) + 14
                    sent = datetime.fromisoformat(buf[at : buf.find(b'"', at)].decode()).timestamp()
                    stats["latencies"].append(now - sent)
                if stats["first"] is None:
                    stats["first"] = now
                stats["last"] = now
                if buf.find(b'"conflated"', start, pos) >= 0:
                    stats["conflated"] += 1
            elif buf.startswith(b'{"type":"error"', start):
                stats["errors"] = stats.get("errors", 0) + 1
            elif buf.startswith(b'{"type":"snapshot"', start):
                stats["snapshots"] += 1
                if stats["snapshots"] >= stats["expect_snapshots"] and not self.ready.done():
                    self.ready.set_result(None)
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats["closed"] += 1


async def _run_clients(port: int, count: int, first: int, events: int) -> None:
    """Connect ``count`` clients, say READY, count until told STOP on stdin, print stats."""
    loop = asyncio.get_running_loop()
    ids = [f"bench-{n:04d}" for n in range(first, first + events)]
    subscribe = json.dumps({"type": "subscribe", "event_ids": ids}).encode()
    clients: list[RawClient] = []
    all_stats = []
    for _ in range(count):
        stats: dict[str, Any] = {"deltas": 0, "snapshots": 0, "conflated": 0, "closed": 0,
                                 "latencies": [], "first": None, "last": None,
                                 "expect_snapshots": events}
        _, client = await loop.create_connection(functools.partial(RawClient, stats, subscribe),
                                                 "127.0.0.1", port)
        clients.append(client)
        all_stats.append(stats)
    async with asyncio.timeout(120):
        await asyncio.gather(*(c.ready for c in clients))
    print("READY", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    latencies = sorted(x for s in all_stats for x in s["latencies"])
    firsts = [s["first"] for s in all_stats if s["first"] is not None]
    lasts = [s["last"] for s in all_stats if s["last"] is not None]
    print(json.dumps({
        "deltas": sum(s["deltas"] for s in all_stats),
        "conflated": sum(s["conflated"] for s in all_stats),
        "closed": sum(s["closed"] for s in all_stats),
        "window_s": (max(lasts) - min(firsts)) if firsts else 0.0,
        "p50_ms": _pct(latencies, 0.50) * 1000, "p99_ms": _pct(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
    }), flush=True)


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] if values else 0.0


# --- the phases ------------------------------------------------------------------------------


async def lag_buckets(rest_port: int) -> list[tuple[float, float]]:
    """The service's update-lag histogram: cumulative (upper bound, count) pairs."""
    import aiohttp

    async with asyncio.timeout(10), aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{rest_port}/metrics") as response:
        text = await response.text()
    found = re.findall(r'^sportsfeed_distribution_update_lag_seconds_bucket\{le="([^"]+)"\} (\S+)',
                       text, re.M)
    return [(float(le), float(n)) for le, n in found]


def lag_quantile(before: list[tuple[float, float]], after: list[tuple[float, float]],
                 q: float) -> float:
    """Upper bound (ms) of the bucket holding quantile ``q`` of the updates between two reads."""
    diffs = [(le, n - (before[i][1] if before else 0.0)) for i, (le, n) in enumerate(after)]
    total = diffs[-1][1] if diffs else 0.0
    for le, n in diffs:
        if total and n >= q * total:
            return le * 1000
    return float("inf")


@dataclass
class Service:
    """``python -m services.distribution`` running as its own process."""

    process: subprocess.Popen[bytes]
    rest: int
    ws: int

    def stop(self) -> None:
        """SIGTERM, then make sure it is gone."""
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        stop_process(self.process)


def _wrk(url: str, events: int, seconds: int, conns: int) -> dict[str, float]:
    """``wrk`` GETs of random event ids; requests/s and latency percentiles."""
    # Requests are formatted once in init(): per-request Lua work costs wrk CPU, and
    # wrk shares the two cores with the service.
    script = (
        "local reqs = {}\n"
        f"init = function(args) for i = 0, {events - 1} do reqs[i + 1] = wrk.format('GET', "
        "string.format('/v1/events/bench-%04d', i)) end end\n"
        "request = function() return reqs[math.random(#reqs)] end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s",
             "-H", f"Authorization: Bearer {TEST_KEY}", "-s", lua.name, url],
            capture_output=True, text=True, timeout=seconds + 30, check=True,
        ).stdout
    finally:
        os.unlink(lua.name)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found is not None, out
    rps = float(found.group(1))
    pcts = {m[0]: _ms(m[1]) for m in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": round(rps), "p50_ms": pcts.get("50", 0.0), "p99_ms": pcts.get("99", 0.0),
            "non_2xx": int(errors.group(1)) if errors else 0}


def _ms(text: str) -> float:
    found = re.match(r"([\d.]+)(\w+)", text)
    assert found is not None, text
    number, unit = found.groups()
    return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)


async def _ws_step(service: Service, kafka: KafkaSettings, subscribers: int, first: int,
                   events: int, rate: int, seconds: float) -> dict[str, Any]:
    """One rate step: clients connect, deltas flow for ``seconds``, clients report.

    Each step moves its own events (``first`` on): Redis keeps their version-1 snapshots
    (no processor runs here), so a step on events an earlier step moved would first get
    those earlier deltas replayed from the rings.
    """
    version = dict.fromkeys(range(first, first + events), 1)
    from aiokafka import AIOKafkaProducer

    clients = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.bench_distribution", "clients", "--port", str(service.ws),
        "--count", str(subscribers), "--first", str(first), "--events", str(events), cwd=REPO,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert clients.stdout is not None
    assert clients.stdin is not None
    async with asyncio.timeout(180):
        line = await clients.stdout.readline()
    if line.strip() != b"READY":
        raise RuntimeError(f"clients failed: {line!r}")
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, linger_ms=2)
    await producer.start()
    topic = Topics(kafka.topic_prefix).updates(Sport.FOOTBALL)
    sent = 0
    cpu = (cpu_seconds(service.process.pid), cpu_seconds(clients.pid), time.monotonic())
    lag_before = await lag_buckets(service.rest)
    try:
        tick = 0.01  # publish in 10 ms bursts, as processors do per batch
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) - sent
            for _ in range(max(0, due)):
                event = first + sent % events
                version[event] += 1
                d = bench_delta(event, version[event])
                await producer.send(topic, d.model_dump_json(exclude_none=True).encode(),
                                    key=d.event_id.encode())
                sent += 1
            await asyncio.sleep(tick)
        await producer.flush()
    finally:
        await producer.stop()
    await asyncio.sleep(2.0)  # let the last deltas arrive
    wall = time.monotonic() - cpu[2]
    lag_after = await lag_buckets(service.rest)
    server_cpu = cpu_seconds(service.process.pid) - cpu[0]
    client_cpu = cpu_seconds(clients.pid) - cpu[1]
    clients.stdin.write(b"STOP\n")
    await clients.stdin.drain()
    async with asyncio.timeout(60):
        out, _ = await clients.communicate()
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result.update(rate=rate, published=sent, expected=sent * subscribers,
                  deliveries_per_s=round(result["deltas"] / seconds),
                  server_cpu_share=round(server_cpu / wall, 2),
                  clients_cpu_share=round(client_cpu / wall, 2),
                  deliveries_per_server_cpu_s=round(result["deltas"] / server_cpu) if server_cpu else None,
                  hub_lag_p50_ms=lag_quantile(lag_before, lag_after, 0.5),
                  hub_lag_p99_ms=lag_quantile(lag_before, lag_after, 0.99))
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase; returns the figures."""
    from shared.cache import open_cache

    bench_dir().mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"events": args.events, "subscribers": args.subscribers,
                               "ws_events": args.ws_events, "loadavg_before": os.getloadavg()[0]}
    async with fresh_local_stack("bench") as (kafka, mysql, redis):
        async with open_cache(redis) as cache:
            await cache.write([bench_snapshot(n) for n in range(args.events)])
        rest_runs = []
        for detail_cache in (True, False):
            rest_port, ws_port = free_port(), free_port()
            env = service_env(kafka, mysql, redis, rest_port, ws_port)
            env.update({"SPORTSFEED_DISTRIBUTION_HEARTBEAT_S": "5",
                        "SPORTSFEED_DISTRIBUTION_PING_INTERVAL_S": "60",
                        "SPORTSFEED_DISTRIBUTION_LOG_LEVEL": "warning"})
            if not detail_cache:
                env["SPORTSFEED_DISTRIBUTION_DETAIL_CACHE_S"] = "0"
            if args.flush_ms is not None:
                env["SPORTSFEED_DISTRIBUTION_FLUSH_INTERVAL_MS"] = str(args.flush_ms)
            log = bench_dir() / f"distribution-service-{'cache' if detail_cache else 'nocache'}.log"
            service = Service(await asyncio.to_thread(start_process, env, log), rest_port, ws_port)
            try:
                if not args.skip_rest:
                    url = f"http://127.0.0.1:{service.rest}"
                    await asyncio.to_thread(_wrk, url, args.events, 2, args.connections)  # warm-up
                    before = cpu_seconds(service.process.pid), time.monotonic()
                    figures = await asyncio.to_thread(_wrk, url, args.events, args.seconds, args.connections)
                    used = cpu_seconds(service.process.pid) - before[0]
                    figures["server_cpu_share"] = round(used / (time.monotonic() - before[1]), 2)
                    figures["requests_per_server_cpu_s"] = round(figures["rps"] * args.seconds / used)
                    rest_runs.append({"detail_cache": detail_cache, **figures})
                if detail_cache and not args.skip_ws:
                    results["ws"] = [
                        await _ws_step(service, kafka, args.subscribers, step * args.ws_events,
                                       args.ws_events, rate, args.seconds)
                        for step, rate in enumerate(args.rates)
                    ]
            finally:
                service.stop()
        results["rest"] = rest_runs
        results["loadavg_after"] = os.getloadavg()[0]
    return results


def markdown(results: dict[str, Any]) -> str:
    """The report section."""
    rest, ws = results.get("rest", []), results.get("ws", [])
    lines = [
        "## Distribution", "",
        f"Load average of the machine (2 cores, shared): {results['loadavg_before']:.1f} before, "
        f"{results.get('loadavg_after', 0.0):.1f} after. CPU shares are of one core, measured from "
        "`/proc`: a share well below 1.0 with a missed goal means the process waited for a core.",
        "",
        f"`GET /v1/events/{{id}}` over {results['events']} events, `wrk -t1` in its own process; "
        f"goal ≥ {GOALS['rest_rps']:,} req/s with p99 < {GOALS['rest_p99_ms']:g} ms.", "",
        table([("on" if r["detail_cache"] else "off (Redis per request)", f"{r['rps']:,}",
                r["p50_ms"], r["p99_ms"], r["server_cpu_share"],
                f"{r['requests_per_server_cpu_s']:,}", r["non_2xx"]) for r in rest],
              ("detail cache", "req/s", "p50 ms", "p99 ms", "server CPU", "req per CPU-s",
               "non-2xx")),
        "",
        f"WebSocket: {results['subscribers']} subscribers (one separate process), each following "
        f"the same {results['ws_events']} events; deltas published to Kafka at each rate; latency "
        "= `applied_at` stamped before the Kafka send → client receipt. Goal ≥ "
        f"{GOALS['ws_deliveries_per_s']:,} deliveries/s with p99 < {GOALS['ws_p99_ms']:g} ms.", "",
        table([(w["rate"], f"{w['expected']:,}", f"{w['deltas']:,}", f"{w['deliveries_per_s']:,}",
                round(w["p50_ms"], 1), round(w["p99_ms"], 1), round(w["max_ms"], 1),
                w["server_cpu_share"], w["clients_cpu_share"],
                f"{w['deliveries_per_server_cpu_s'] or 0:,}", f"≤ {w['hub_lag_p99_ms']:g}",
                w["conflated"], w["closed"])
               for w in ws],
              ("deltas/s", "expected", "delivered", "deliveries/s", "p50 ms", "p99 ms", "max ms",
               "server CPU", "clients CPU", "deliveries per server CPU-s",
               "Kafka→hub p99 ms", "conflated", "disconnected")),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI: the benchmark, or (``clients``) the WebSocket load generator process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    clients = sub.add_parser("clients", help="internal: the WebSocket client process")
    clients.add_argument("--port", type=int, required=True)
    clients.add_argument("--count", type=int, required=True)
    clients.add_argument("--first", type=int, required=True)
    clients.add_argument("--events", type=int, required=True)
    parser.add_argument("--events", type=int, default=1000,
                        help="events seeded (REST reads them all, each WebSocket step its own)")
    parser.add_argument("--ws-events", type=int, default=50, help="events the deltas move")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rates", type=int, nargs="+", default=[50, 100, 150],
                        help="deltas per second, one step each")
    parser.add_argument("--seconds", type=int, default=10, help="length of each phase")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--flush-ms", type=float, help="the service's flush_interval_ms")
    parser.add_argument("--skip-rest", action="store_true")
    parser.add_argument("--skip-ws", action="store_true")
    args = parser.parse_args(argv)
    _use_uvloop()
    if args.command == "clients":
        asyncio.run(_run_clients(args.port, args.count, args.first, args.events))
        return 0
    results = asyncio.run(run(args))
    json_path, md_path = write_report("distribution", results, markdown(results))
    print(md_path.read_text())
    print(f"report: {json_path}")
    return 0


def _use_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


if __name__ == "__main__":
    sys.exit(main())
