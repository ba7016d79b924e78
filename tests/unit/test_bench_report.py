"""The benchmark report's own code: the summary rows and the process-tree CPU helpers.

A benchmark that ran for minutes must not lose its report to a key renamed in one place
(the processors' reference became stock Faust; the summary still asked for the old one).
"""

from __future__ import annotations

import subprocess
import sys
import time

from tests.bench.__main__ import summary_rows
from tests.bench.bench_memory import cpu_seconds, descendants, tree_cpu_seconds


def processors_results(ratio: float, idle: float) -> dict[str, object]:
    """The shape ``bench_processors`` writes (only what the summary reads)."""
    return {
        "goals": {"worker_per_stock_faust": 0.5, "idle_cpu_percent": 0.5,
                  "moonshot_worker_per_stock_faust": 1.0, "p99_ms_at_half_load": 50},
        "idle": {"cpu_percent_of_core": idle, "seconds": 20.0, "exit_code": 0},
        "latency": None,
        "throughput": {
            "messages_per_s": 5194, "worker_cpu_us_per_message": 144.8,
            "worker_per_stock_faust": ratio,
            "faust_ceiling": {
                "stock": {"records_per_s": 9597, "cpu_us_per_record": 103.5, "work": "stock"},
                "bulk": {"records_per_s": 291616, "cpu_us_per_record": 3.0, "work": "bulk"},
            },
        },
    }


def rows_of(results: dict[str, object]) -> dict[str, tuple[str, ...]]:
    rows = summary_rows({"processors": {"results": results}})
    return {row[1]: row for row in rows}


def test_the_processors_rows_state_the_ratio_to_stock_faust_and_the_idle_cpu() -> None:
    rows = rows_of(processors_results(0.54, 0.4))
    ratio = rows["worker ÷ stock Faust, worker CPU per message"]
    assert ratio[2:] == ("0.54, 144.8 µs", "≥ 0.5 (moonshot 1.0)", "met")
    assert rows["idle worker, CPU over 20 s"][2:] == ("0.4% of a core", "< 0.5%", "met")
    assert "9,597 records/s" in rows["stock faust-streaming, same records, no work (reference)"][2]


def test_missed_goals_say_so() -> None:
    rows = rows_of(processors_results(0.33, 0.7))
    assert rows["worker ÷ stock Faust, worker CPU per message"][4] == "**not met**"
    assert rows["idle worker, CPU over 20 s"][4] == "**not met**"


def test_the_small_batch_phase_shows_the_workers_cost_at_end_to_end_batch_sizes() -> None:
    results = processors_results(0.96, 0.3)
    assert "worker CPU per message in batches of 50 (end-to-end sizes)" not in rows_of(results)
    results["small_batches"] = {"messages_per_s": 1761, "worker_cpu_us_per_message": 352.0,
                                "batch_max": 50, "mean_batch": 50.0}
    row = rows_of(results)["worker CPU per message in batches of 50 (end-to-end sizes)"]
    assert row[2] == "352.0 µs (1,761 msg/s)"


def test_a_supervisors_cpu_includes_its_workers() -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n" \
           "time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time\n"
                               f"subprocess.Popen([sys.executable, '-c', {busy!r}])\n"
                               "time.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            kids = descendants(parent.pid)
            if kids and cpu_seconds(kids[0]) >= 0.3:
                break
            time.sleep(0.05)
        assert len(kids) == 1
        assert tree_cpu_seconds(parent.pid) >= cpu_seconds(parent.pid) + 0.3
    finally:
        for kid in descendants(parent.pid):
            subprocess.run(["kill", str(kid)], check=False)
        parent.kill()
        parent.wait()


def test_the_e2e_cost_per_batch_sums_the_processors_and_sets_the_distribution_beside() -> None:
    from tests.bench.bench_e2e import batch_costs

    used = {"ingestion": 9.0, "processor-football": 1.5, "processor-tennis": 0.5,
            "distribution": 0.8}
    assert batch_costs(used, 400) == {"processor_cpu_ms_per_batch": 5.0,
                                      "distribution_cpu_ms_per_batch": 2.0}
    assert batch_costs(used, 0) == {}


def _batch_metrics(count: int, total: int) -> str:
    labels = 'sport="football"'
    return "\n".join([
        f'sportsfeed_processor_batch_size_bucket{{{labels},le="50.0"}} {count}.0',
        f'sportsfeed_processor_batch_size_bucket{{{labels},le="+Inf"}} {count}.0',
        f"sportsfeed_processor_batch_size_count{{{labels}}} {count}.0",
        f"sportsfeed_processor_batch_size_sum{{{labels}}} {total}.0",
    ])


def test_the_latency_phases_mean_batch_counts_only_the_batches_between_the_scrapes() -> None:
    from tests.bench.bench_processors import mean_batch

    # 20 fixtures batches holding 1,000 records before the paced load; 300 of 4,000 after.
    before, after = _batch_metrics(20, 1000), _batch_metrics(320, 5000)
    assert mean_batch(before, after) == 13.3
    assert mean_batch("", after) == 15.6
    assert mean_batch(after, after) is None


_COUNTER = """
import sys
answers = [int(a) for a in sys.argv[1:]]
for n, line in enumerate(sys.stdin):
    assert line.split() == ["COUNT", "bench-s0"], line
    print(answers[min(n, len(answers) - 1)], flush=True)
"""


async def _wait_on(answers: list[int], expected: int, quiet_s: float) -> tuple[int, float]:
    import asyncio

    from tests.bench.bench_e2e import wait_delivered

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _COUNTER, *map(str, answers),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        return await wait_delivered(proc, "bench-s0", expected, within=20, quiet_s=quiet_s)
    finally:
        proc.kill()
        await proc.wait()


def test_the_e2e_step_waits_for_the_clients_last_deltas_and_gives_up_when_none_come() -> None:
    import asyncio

    # The deltas keep arriving after the ledger caught up: waited for, all of them.
    held, _ = asyncio.run(_wait_on([5, 8, 10], expected=10, quiet_s=5))
    assert held == 10
    # Nothing more comes (a delta lost): the wait ends after the quiet spell, with what came.
    held, waited = asyncio.run(_wait_on([3], expected=10, quiet_s=0.6))
    assert held == 3
    assert 0.6 <= waited < 5


def test_the_idle_platform_row_names_the_service_that_idles_worst_and_each_is_judged() -> None:
    from tests.bench.bench_idle import markdown, percents, verdicts

    before = {"processor-football": 1.0, "pricing": 2.0, "kafka": 10.0}
    after = {"processor-football": 1.06, "pricing": 2.9, "kafka": 10.5}
    shares = percents(before, after, 20.0)
    assert shares == {"processor-football": 0.3, "pricing": 4.5, "kafka": 2.5}
    met = verdicts(shares)
    assert met == {"processor-football": True, "pricing": False}  # the stack is not judged
    results = {"settings": {"seconds": 20.0, "settle": 5.0}, "cpu_percent_of_core": shares,
               "services_percent": 4.8, "machine_percent": 9.1, "stolen_percent": 2.2,
               "met": met, "goal_met": all(met.values())}
    (row,) = summary_rows({"idle": {"results": results}})
    assert row[2] == "4.8% of a core; pricing 4.5%"
    assert row[-1] == "**not met**"
    section = markdown(results)
    assert "| pricing | 4.5% | < 0.5% | **not met** |" in section
    assert "| kafka | 2.5% | (shared stack) | - |" in section
    assert "the whole machine: 9.1%" in section
    assert "taken by the host (steal): 2.2%" in section


def test_stolen_time_is_reported_apart_from_the_machines_busy_time() -> None:
    """``/proc/stat``'s cpu line: user nice system idle iowait irq softirq steal guest
    guest_nice. Steal is time the host ran something else: neither busy nor idle here."""
    from tests.bench.bench_memory import cpu_line_seconds, machine_cpu_seconds

    line = "cpu  1000 20 300 90000 50 7 13 460 0 0"
    assert cpu_line_seconds(line, 100) == (13.4, 4.6)
    assert cpu_line_seconds("cpu  1000 20 300 90000", 100) == (13.2, 0.0)  # an old kernel
    busy, stolen = machine_cpu_seconds()
    assert busy > 0
    assert stolen >= 0


def test_a_measuring_process_runs_without_the_collector_and_gets_it_back() -> None:
    import gc

    from tests.bench.bench_e2e import instrument_without_collector

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with instrument_without_collector():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > frozen  # what existed is out of every collection
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    try:
        with instrument_without_collector():
            raise RuntimeError("the measurement failed")
    except RuntimeError:
        pass
    assert gc.isenabled()
