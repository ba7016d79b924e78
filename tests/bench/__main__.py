"""``make bench`` → ``python -m tests.bench [--quick] [--only NAME ...]``: every benchmark, one report.

Each benchmark runs as its own subprocess (its own process group, killed whole if it
overruns its time limit), in sequence: ``bench_ingestion``, ``bench_processors``,
``bench_idle`` (the whole platform with nothing to do), ``bench_distribution``,
``bench_access`` (one key's flood beside another key), ``bench_e2e``, ``bench_history``,
``bench_pricing`` (in-process, no stack). Each
writes ``.data/bench/<name>.{json,md}``; this collects them into ``.data/bench/report.md``
and ``.data/bench/report.json``: when and on what the run was made (cores, memory, load
average before and after, git commit, the command), a summary table where every figure
states its goal and whether it was met, then each benchmark's own section. ``--quick`` is
a short smoke run (a few seconds per phase): its figures only show that everything works.

All load goes to 127.0.0.1, bounded in count and time. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.report import REPO, bench_dir, cpu_probe_ms, table, write_report


@dataclass(frozen=True)
class Bench:
    """One benchmark module, its arguments (full and quick) and its time limit."""

    name: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    timeout_s: float


BENCHES = (
    # One worker, then one per core (a host serving ingestion alone); each phase 15 s.
    Bench("ingestion", "tests.bench.bench_ingestion", ("--duration", "15"),
          ("--duration", "3"), 480),
    # bench_processors has no --sport: it measures the football worker (the other
    # sports share the same core, their rules differ only in live-score checks).
    Bench("processors", "tests.bench.bench_processors", (),
          ("--messages", "40000", "--events", "200", "--seconds", "5",
           "--small-messages", "5000"), 900),
    # Every service make up runs beside the generator, ready, with nothing posted.
    Bench("idle", "tests.bench.bench_idle", (), ("--seconds", "5", "--settle", "2"), 300),
    Bench("distribution", "tests.bench.bench_distribution", (),
          ("--subscribers", "200", "--rates", "50", "--seconds", "3", "--events", "200"), 600),
    # One consumer key floods REST and storms the WebSocket while another key's latency is
    # timed, beside an anchor of the same key alone measured just before.
    Bench("access", "tests.bench.bench_access", (), ("--seconds", "3", "--events", "200",
                                                     "--hold", "100"), 600),
    # The platform as make up runs it (four processors, the load spread over the sports),
    # then the same load on one sport's single worker.
    Bench("e2e", "tests.bench.bench_e2e", (), ("--seconds", "5", "--reference-rate", "0"), 400),
    Bench("history", "tests.bench.bench_history", (), ("--rounds", "1"), 300),
    Bench("e2e-football", "tests.bench.bench_e2e", ("--sports", "football", "--report",
          "e2e-football"), ("--seconds", "5", "--reference-rate", "0", "--sports", "football",
                            "--report", "e2e-football"), 400),
    # In-process, no stack: the pricing library's live update, the pricing service's path
    # from delta to ModelPrices, and the football fit.
    Bench("pricing", "tests.bench.bench_pricing", (), ("--matches", "2", "--repeat", "1"), 300),
)
RSS_BUDGET_MIB = 256  # a proposed budget per Python service (no goal is set elsewhere)


def machine_info() -> dict[str, Any]:
    """Cores, memory, git commit (and whether the tree had changes)."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=10, check=False)
        return done.stdout.strip()

    return {"cores": os.cpu_count(), "memory_gib": round(total_kb / 1024 / 1024, 1),
            "commit": git("rev-parse", "--short", "HEAD") or None,
            "uncommitted_changes": bool(git("status", "--porcelain"))}


def run_one(bench: Bench, quick: bool, logs: Path) -> dict[str, Any]:
    """Run one benchmark subprocess within its time limit; what it did and its results."""
    args = bench.quick if quick else bench.full
    command = [sys.executable, "-m", bench.module, *args]
    probe_before = cpu_probe_ms()
    began, load_before = time.time(), os.getloadavg()
    print(f"== {bench.name}: {' '.join(command[1:])}", flush=True)
    with (logs / f"{bench.name}.log").open("wb") as log:
        # A session of its own: on timeout the benchmark and every service it started go.
        proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=bench.timeout_s)
        except subprocess.TimeoutExpired:
            code = None
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=20)
                    break
                except subprocess.TimeoutExpired:
                    continue
    outcome: dict[str, Any] = {
        "command": " ".join(["python", *command[1:]]), "exit_code": code,
        "timed_out": code is None, "seconds": round(time.time() - began, 1),
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "log": str(logs / f"{bench.name}.log"),
        "cpu_probe_ms": (probe_before, cpu_probe_ms()),
    }
    report = bench_dir() / f"{bench.name}.json"
    # Only a report written by this run counts (an older one may lie there).
    if code == 0 and report.exists() and report.stat().st_mtime >= began:
        outcome["results"] = json.loads(report.read_text())["results"]
        outcome["markdown"] = (bench_dir() / f"{bench.name}.md").read_text()
    print(f"   exit {code}, {outcome['seconds']} s", flush=True)
    return outcome


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def summary_rows(runs: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    """Section, measure, result, goal, met: one row per headline figure."""
    rows: list[tuple[str, ...]] = []
    r = runs.get("ingestion", {}).get("results")
    if r:
        ratio = r["ratio_batched_to_bare"]
        n = r["settings"]["workers"]
        rows += [
            ("ingestion", f"single-message POSTs, {n} processes", f"{r['single']['ok_per_s']:,.0f} "
             f"msg/s (p99 {r['single']['p99_ms']} ms)", "≥ 10,000", _met(r["goals_met"]["single_rps"])),
            ("ingestion", "single-message POSTs / bare aiohttp app (floor), service CPU per request",
             f"{r['ratio_single_to_floor']:.0%} of {r['http_floor']['ok_per_s']:,.0f} req/s, "
             f"{r['single']['service_cpu_us_per_request']} µs", "≥ 25 %, ≤ 150 µs",
             _met(r["goals_met"]["single_ratio_of_floor"] and r["goals_met"]["single_cpu_us"])),
            ("ingestion", f"batched POSTs ({r['settings']['batch_size']}/request), {n} processes",
             f"{r['batched']['messages_per_s']:,} msg/s", "≥ 50,000",
             _met(r["goals_met"]["batched_mps"])),
            ("ingestion", "bare aiokafka producer (ceiling)", f"{r['bare']['mps']:,} msg/s", "-", "-"),
            ("ingestion", "batched / ceiling", f"{ratio:.0%}", "≥ 50%",
             _met(r["goals_met"]["ratio_of_bare"])),
        ]
    r = runs.get("processors", {}).get("results")
    if r:
        t, lat = r["throughput"], r["latency"]
        rows.append(("processors", "football worker throughput", f"{t['messages_per_s']:,} msg/s",
                     "≥ 10,000", _met(t["messages_per_s"] >= 10_000)))
        ceiling = t.get("faust_ceiling") or {}
        stock = ceiling.get("stock")
        if stock:
            ratio = t["worker_per_stock_faust"]
            rows += [
                ("processors", "stock faust-streaming, same records, no work (reference)",
                 f"{stock['records_per_s']:,} records/s ({stock['cpu_us_per_record']} µs CPU each)",
                 "-", "-"),
                ("processors", "worker ÷ stock Faust, worker CPU per message",
                 f"{ratio:.2f}, {t['worker_cpu_us_per_message']} µs", "≥ 0.5 (moonshot 1.0)",
                 _met(ratio >= r["goals"]["worker_per_stock_faust"])),
            ]
        small = r.get("small_batches")
        if small:
            rows.append(("processors", "worker CPU per message in batches of "
                         f"{small['batch_max']} (end-to-end sizes)",
                         f"{small['worker_cpu_us_per_message']} µs ({small['messages_per_s']:,} "
                         "msg/s)", "-", "-"))
        idle = r.get("idle")
        if idle:
            rows.append(("processors", f"idle worker, CPU over {idle['seconds']:.0f} s",
                         f"{idle['cpu_percent_of_core']}% of a core", "< 0.5%",
                         _met(idle["cpu_percent_of_core"] < r["goals"]["idle_cpu_percent"])))
        if lat is not None:
            rows.append(("processors", f"Kafka append → commit p99 at {lat['achieved_rate']:,} msg/s",
                         f"{lat['p99_ms']} ms", "< 50 ms", _met(lat["p99_ms"] < 50)))
    r = runs.get("idle", {}).get("results")
    if r:
        shares, met = r["cpu_percent_of_core"], r["met"]
        worst = max(met, key=lambda name: shares[name])
        rows.append(("idle platform", f"every service idle, CPU over {r['settings']['seconds']:g} s "
                     f"(all together; the highest)", f"{r['services_percent']}% of a core; "
                     f"{worst} {shares[worst]}%", "< 0.5% each", _met(r["goal_met"])))
    for name in ("e2e", "e2e-football"):
        r = runs.get(name, {}).get("results")
        if not r:
            continue
        sports = r["settings"].get("sports") or ["football"]
        where = "one football worker" if len(sports) == 1 else f"{len(sports)} sports, a worker each"
        for n, step in enumerate(r["steps"]):
            goal = "< 100 ms" if n == 0 else "- (reference)"
            rows.append(("end to end", f"POST → WebSocket at {step['rate']:,.0f} msg/s ({where}), "
                         "p50 / p99 / p99.9", f"{step['p50_ms']} / {step['p99_ms']} / "
                         f"{step['p999_ms']} ms", goal,
                         _met(step["p99_ms"] < 100) if n == 0 else "-"))
    r = runs.get("history", {}).get("results")
    if r:
        rows += [
            ("history import", f"one season file ({r['season_file']})", f"{r['season_s']:.2f} s",
             "< 1 s", _met(r["goals_met"]["season_under_1s"])),
            ("history import", f"all {r['files']} shared files", f"{r['all_s']:.2f} s", "< 5 s",
             _met(r["goals_met"]["all_under_5s"])),
            ("history import", "MariaDB alone, the same number of odds rows (anchor)",
             f"{r['bare_odds_inserts_s']:.2f} s", "-", "-"),
        ]
    r = runs.get("distribution", {}).get("results")
    if r:
        steps = r.get("ws", [])
        for w in steps:  # a ramp: each step's latency, then the best rate within it
            rows.append(("WebSocket fan-out", f"{r['subscribers']:,} subscribers, {w['rate']} "
                         "deltas/s", f"{w['deliveries_per_s']:,} deliveries/s, p99 "
                         f"{w['p99_ms']:.1f} ms", "p99 < 100 ms", _met(w["p99_ms"] < 100)))
        if steps:
            best = max((w["deliveries_per_s"] for w in steps if w["p99_ms"] < 100), default=0)
            rows.append(("WebSocket fan-out", "most deliveries/s with p99 < 100 ms",
                         f"{best:,}/s", "≥ 100,000/s", _met(best >= 100_000)))
        for rest in r.get("rest", []):
            cache = "detail cache on" if rest["detail_cache"] else "detail cache off"
            ok = rest["rps"] >= 10_000 and rest["p99_ms"] < 20
            rows.append(("REST", f"GET /v1/events/{{id}}, {cache}",
                         f"{rest['rps']:,} req/s, p99 {rest['p99_ms']} ms",
                         "≥ 10,000 req/s, p99 < 20 ms", _met(ok)))
    r = runs.get("access", {}).get("results")
    if r:
        rows += access_rows(r)
    r = runs.get("pricing", {}).get("results")
    if r:
        for sport, u in r["updates"].items():
            rows.append(("pricing", f"one live update, {sport} ({u['markets']} markets), mean / p99",
                         f"{u['mean_ms']} / {u['p99_ms']} ms CPU", "< 2 ms",
                         _met(u["p99_ms"] < r["goals"]["update_p99_ms"])))
        for sport, u in r.get("service", {}).items():
            rows.append(("pricing", f"service: one live update → ModelPrices, {sport}, p50 / p99",
                         f"{u['live_update_p50_ms']} / {u['live_update_p99_ms']} ms CPU", "< 2 ms",
                         _met(u["live_update_p99_ms"] < r["goals"]["update_p99_ms"])))
        fit = r["fit"]
        rows.append(("pricing", f"fit Dixon-Coles on {fit['matches']} matches (3 seasons)",
                     f"{fit['dixon_coles']['best_s']} s CPU", "< 10 s",
                     _met(fit["dixon_coles"]["best_s"] < r["goals"]["fit_s"])))
    r = runs.get("e2e", {}).get("results")
    if r:
        # Ours first, then the shared stack's (the JSON round trip sorted the names).
        order = ["ingestion", "ingestion-worker-1", "ingestion-worker-2",
                 "processor-football", "processor-basketball", "processor-tennis",
                 "processor-ice_hockey", "distribution", "ws-receiver", "load-generator"]
        procs = sorted(r["processes"].items(),
                       key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        for name, p in procs:
            # The benchmark's own processes (its WebSocket client, the POSTing one) have none.
            harness = name in ("ws-receiver", "load-generator")
            budget = "-" if p["shared"] or harness else f"< {RSS_BUDGET_MIB} MiB"
            met = "-" if budget == "-" else _met(p["hwm_mib"] < RSS_BUDGET_MIB)
            shared = " (shared stack)" if p["shared"] else ""
            rows.append(("memory", f"{name}{shared} RSS peak / VmHWM",
                         f"{p['rss_peak_mib']} / {p['hwm_mib']} MiB", budget, met))
    return rows


def access_rows(r: dict[str, Any]) -> list[tuple[str, ...]]:
    """The victim key's p99 beside each flood against its anchor alone: unchanged means
    within half again the anchor plus 5 ms (the drift of two runs alone on this machine)."""
    rows: list[tuple[str, ...]] = []
    for surface, name, what in (("rest", "flood", "REST flood over its rate (paced)"),
                                ("rest", "flood_all_out", "REST flood over its rate (all out)"),
                                ("rest", "greedy", "REST flood with no limit (counterfactual)"),
                                ("ws", "flood", "WebSocket storm over its connection limit"),
                                ("ws", "greedy", "WebSocket storm with no limit (counterfactual)")):
        pair = r[surface][name]
        alone, beside = pair["anchor"]["victim"]["p99_ms"], pair["loaded"]["victim"]["p99_ms"]
        goal = name != "greedy"
        rows.append(("access", f"other key's p99 beside a {what}", f"{alone} → {beside} ms",
                     "unchanged" if goal else "-",
                     _met(beside <= alone * 1.5 + 5) if goal else "-"))
    return rows


def markdown(info: dict[str, Any], runs: dict[str, dict[str, Any]]) -> str:
    """The whole report."""
    load = info["loadavg_before"], info["loadavg_after"]
    lines = [
        "# SportsFeed benchmarks", "",
        f"- measured: {info['started_utc']} → {info['finished_utc']} (UTC)"
        + (" — QUICK smoke run: the figures only show that everything works" if info["quick"] else ""),
        f"- machine: {info['cores']} cores, {info['memory_gib']} GiB memory",
        f"- load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in load[0])} before, "
        f"{', '.join(f'{x:.2f}' for x in load[1])} after",
        f"- commit: {info['commit']}{' (with uncommitted changes)' if info['uncommitted_changes'] else ''}",
        f"- command: `{info['command']}`", "",
        "Every process (load generators, services, Kafka, MariaDB, Redis) shares these cores; "
        "a load average above the core count means something else competed for them. "
        "See docs/benchmarks.md for how to read a run made on a loaded machine.", "",
        "## Summary", "",
        table(summary_rows(runs), ("section", "measure", "result", "goal", "")), "",
        table([(name, run["command"], "timed out" if run["timed_out"] else run["exit_code"],
                run["seconds"], f"{run['loadavg_before'][0]:.1f} → {run['loadavg_after'][0]:.1f}",
                " → ".join(str(x) for x in run["cpu_probe_ms"]))
               for name, run in runs.items()],
              ("benchmark", "command", "exit", "seconds", "load avg (1 min)",
               "CPU probe ms before → after")), "",
        "CPU probe: a fixed pure-Python loop (`tests/bench/report.py: cpu_probe_ms`, best of 5), "
        "timed before and after each benchmark. This VM's speed drifts by up to half with "
        "little or no steal time (the end-to-end and idle sections report it); compare two "
        "reports only where their probes agree.",
    ]
    for name, run in runs.items():
        lines += ["", run.get("markdown") or f"## {name}\n\nNo results: see {run['log']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, write the report; exit 1 if one of them failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES],
                        help="run only these benchmarks")
    args = parser.parse_args(argv)
    logs = bench_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m tests.bench", *(argv if argv is not None else sys.argv[1:])]),
        "quick": args.quick, "loadavg_before": os.getloadavg(), **machine_info(),
    }
    runs = {b.name: run_one(b, args.quick, logs) for b in BENCHES
            if not args.only or b.name in args.only}
    info["loadavg_after"] = os.getloadavg()
    info["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = markdown(info, runs)
    data = {"run": info, "summary": [dict(zip(("section", "measure", "result", "goal", "met"),
                                              row, strict=True)) for row in summary_rows(runs)],
            "benchmarks": {name: {k: v for k, v in run.items() if k != "markdown"}
                           for name, run in runs.items()}}
    json_path, md_path = write_report("report", data, text)
    print(text)
    print(f"report: {md_path} {json_path}")
    return 0 if all(run["exit_code"] == 0 for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
