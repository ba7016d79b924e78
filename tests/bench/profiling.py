"""py-spy sampling of a service process during a benchmark phase (``--profile``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


class Profiler:
    """py-spy sampling the service during one phase (optional)."""

    def __init__(self, pid: int, out: Path, seconds: float) -> None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.out = out
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "97",
             "--format", "raw", "--nonblocking", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def top(self, n: int = 15) -> list[tuple[str, float]]:
        """The functions with the most self time, as shares of all samples."""
        self.proc.wait(timeout=120)
        if not self.out.exists():
            return []
        own: dict[str, int] = {}
        total = 0
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            leaf = stack.rsplit(";", 1)[-1]
            own[leaf] = own.get(leaf, 0) + int(count)
            total += int(count)
        ranked = sorted(own.items(), key=lambda kv: -kv[1])[:n]
        return [(name, round(count / max(total, 1), 4)) for name, count in ranked]
