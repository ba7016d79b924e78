"""The local stack's ``launch`` (infra/local/common.sh) returns a daemon's pid only once
that pid runs the daemon itself: a check of its command line made before then (while
``setsid`` and ``nohup`` exec their way to it, or mid-exec, when /proc reads back empty)
took a starting daemon for a dead one (a stack start failing on a loaded machine with
nothing in the daemon's log)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
source infra/local/common.sh
for n in $(seq 25); do
  pid="$(launch "$SPORTSFEED_DATA_DIR/launch.log" python3 -c 'import time; time.sleep(2)' launch-marker-$n)"
  tr '\0' ' ' </proc/$pid/cmdline; echo
  kill "$pid"
done
"""


def bash(script: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``script`` run by bash in the repository, the stack's data under ``data_dir``."""
    return subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False, env={
                              "PATH": "/usr/local/bin:/usr/bin:/bin",
                              "SPORTSFEED_DATA_DIR": str(data_dir)})


def test_launch_returns_when_the_first_pid_exits_even_under_set_e(tmp_path: Path) -> None:
    # As a daemon that forks does (redis-server): its first pid is gone before launch
    # sees the command line; launch must return, not end a caller running with set -e.
    done = bash("set -e\nsource infra/local/common.sh\n"
                "launch \"$SPORTSFEED_DATA_DIR/launch.log\" python3 -c pass gone-at-once >/dev/null\n"
                "echo survived\n", tmp_path)
    assert (done.returncode, done.stdout) == (0, "survived\n"), done.stderr


def test_launch_returns_once_the_pid_runs_the_daemon(tmp_path: Path) -> None:
    done = bash(SCRIPT, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 25
    for n, line in enumerate(lines, start=1):
        assert line.startswith("python3 -c "), line  # not setsid's, nohup's or empty
        assert line.rstrip().endswith(f"launch-marker-{n}"), line
