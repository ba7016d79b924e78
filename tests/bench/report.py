"""Benchmark reports: one JSON file and one Markdown file per benchmark, in ``.data/bench/``.

Every benchmark calls :func:`write_report` once at the end of its run::

    write_report("ingestion", {"single_rps": 12000.0, ...}, "## Ingestion\\n...")

and gets ``.data/bench/ingestion.json`` (the figures plus when and where they were
measured) and ``.data/bench/ingestion.md`` (the Markdown it wrote, under the same
header), so ``make bench`` can collect the sections into one summary.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def bench_dir() -> Path:
    """Where reports go: ``$SPORTSFEED_DATA_DIR/bench`` (default ``<repo>/.data/bench``)."""
    base = Path(os.environ.get("SPORTSFEED_DATA_DIR", REPO / ".data"))
    return base / "bench"


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git_commit(),
    }


def cpu_probe_ms(rounds: int = 5) -> float:
    """Milliseconds a fixed pure-Python loop takes here (best of ``rounds``).

    This machine is a VM whose speed drifts (the same CPU-bound code measured 32 and
    60 us per message within minutes, with little or no steal time): the probe, taken
    before and after each benchmark, says how fast the cores were while it ran, so two
    reports can be compared. Lower is faster.
    """
    import time

    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - began)
    return round(best * 1000, 1)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
            timeout=5, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def write_report(name: str, results: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md``; returns both paths.

    ``results`` must be JSON-serialisable (numbers, strings, lists, dicts); ``markdown``
    is the human-readable section, written below a header naming the run.
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"report name {name!r} must be a plain file stem")
    directory = bench_dir()
    directory.mkdir(parents=True, exist_ok=True)
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    info = machine()
    document = {"name": name, "measured_at": measured_at, "machine": info, "results": results}
    json_path = directory / f"{name}.json"
    md_path = directory / f"{name}.md"
    json_path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    header = (
        f"<!-- {name}: measured {measured_at} on {info['cpus']} CPUs, "
        f"Python {info['python']}, commit {info['commit'] or 'uncommitted'} -->\n"
    )
    md_path.write_text(header + markdown.rstrip() + "\n")
    return json_path, md_path


def table(rows: list[tuple[Any, ...]], headers: tuple[str, ...]) -> str:
    """A Markdown table from rows of cells."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
