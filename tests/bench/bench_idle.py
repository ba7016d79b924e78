"""The platform with nothing to do: ``python -m tests.bench.bench_idle``.

The services ``make up`` runs beside the feed generator (ingestion, one processor per
sport, distribution, pricing, trading), each its own process on fresh topics, a fresh
database and a fresh Redis prefix of the local stack (started by the harness of the fault
tests, ``tests/support/platform.py``, with the services' default settings), ready, then
left alone: each one's CPU over ``--seconds`` from ``/proc`` (a supervisor with its
workers), and the stack's (Kafka, MariaDB, Redis: the shared local one, so other users
count too). An idle service that polls (a fetch every 50 ms, a batch clock every 10 ms)
shows here; the goal is the processors' (< 0.5 % of a core each), given for every service.
Results go to ``.data/bench/idle.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from typing import Any

from shared.enums import Sport
from tests.bench.bench_e2e import bench_scope, cleanup
from tests.bench.bench_memory import machine_cpu_seconds, stack_pids, tree_cpu_seconds
from tests.bench.report import bench_dir, table, write_report
from tests.support.platform import Platform

GOALS = {"idle_cpu_percent": 0.5}
STACK = ("kafka", "mariadb", "redis")


def percents(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """CPU seconds used between two readings, as a percentage of one core over ``wall``."""
    return {name: round((after[name] - before[name]) / wall * 100, 2) for name in before}


def verdicts(shares: dict[str, float]) -> dict[str, bool]:
    """Each service (not the stack) against the idle goal."""
    return {name: share < GOALS["idle_cpu_percent"] for name, share in shares.items()
            if name not in STACK}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the platform, wait until it is ready and settled, measure it idle."""
    scope = bench_scope(f"idle{uuid.uuid4().hex[:8]}")
    await scope.create()
    platform = Platform(scope, bench_dir() / "idle")
    try:
        platform.ingestion()
        for sport in Sport:
            # The harness shortens the workers' session for its fault tests; idle, the
            # default's heartbeat is what runs.
            platform.processor(sport, SPORTSFEED_PROCESSOR_SESSION_TIMEOUT_S="10")
        platform.distribution()
        platform.pricing()
        platform.trading()
        await platform.wait_ready()
        await asyncio.sleep(args.settle)  # start-up's own work (first fetches, joins) ends
        pids = {p.name: p.pid for p in platform.procs}
        pids.update(stack_pids())
        before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
        (busy, stolen), began = machine_cpu_seconds(), time.monotonic()
        await asyncio.sleep(args.seconds)
        wall = time.monotonic() - began
        shares = percents(before, {n: tree_cpu_seconds(p) for n, p in pids.items()}, wall)
        busy_after, stolen_after = machine_cpu_seconds()
        machine = round((busy_after - busy) / wall * 100, 1)
        stolen = round((stolen_after - stolen) / wall * 100, 1)
        if not all(p.running() for p in platform.procs):
            raise RuntimeError("a service exited while idle: " + ", ".join(
                p.name for p in platform.procs if not p.running()))
    finally:
        platform.close()
        await cleanup(scope)
    met = verdicts(shares)
    services = sum(v for k, v in shares.items() if k not in STACK)
    return {"settings": {"seconds": args.seconds, "settle": args.settle},
            "cpu_percent_of_core": shares, "services_percent": round(services, 2),
            "machine_percent": machine, "stolen_percent": stolen, "goals": GOALS, "met": met,
            "goal_met": all(met.values())}


def markdown(r: dict[str, Any]) -> str:
    """The report section."""
    rows = [(name, f"{share}%", "(shared stack)" if name in STACK else
             f"< {GOALS['idle_cpu_percent']}%",
             "-" if name in STACK else ("met" if r["met"][name] else "**not met**"))
            for name, share in r["cpu_percent_of_core"].items()]
    return "\n".join([
        "## Idle platform", "",
        f"Ingestion, a processor per sport, distribution, pricing and trading (what `make up` "
        f"runs beside the feed generator), ready and {r['settings']['settle']:g} s settled, "
        f"then nothing posted for {r['settings']['seconds']:g} s: each one's CPU from "
        f"`/proc`, as a share of one core. The services together: "
        f"{r['services_percent']}%; the whole machine: {r['machine_percent']}% (other users "
        "of the shared cores count there); taken by the host (steal): "
        f"{r.get('stolen_percent', '-')}%.", "",
        table(rows, ("process", "CPU", "goal", "")),
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds to wait after every service is ready")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    json_path, md_path = write_report("idle", results, markdown(results))
    print(md_path.read_text())
    print(f"report: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
