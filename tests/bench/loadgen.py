"""A bounded HTTP POST load generator for the benchmarks, always in a separate process.

``wrk`` (Debian package ``wrk``) is used when installed: it costs the machine far less
CPU per request than any Python client, which matters when the load generator and the
service share two cores. Without it, a Python aiohttp client runs as a subprocess
(``python -m tests.bench.loadgen``). Either way the load goes to 127.0.0.1 only, for a
fixed number of seconds, and the result is the same dict of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DocFn = Callable[[int, int], dict[str, Any]]
DISTINCT_BODIES = 256  # single-message bodies cycled by each connection (unique ids)
DISTINCT_BATCHES = 8


def have_wrk() -> bool:
    """True when the ``wrk`` binary is on PATH."""
    return shutil.which("wrk") is not None


def bodies(size: int, doc: DocFn) -> list[bytes]:
    """Request bodies: single messages, or ``{"messages": [...]}`` batches of ``size``."""
    if size == 1:
        return [json.dumps(doc(n, n % 1000)).encode() for n in range(DISTINCT_BODIES)]
    out = []
    for b in range(DISTINCT_BATCHES):
        docs = [doc(b * size + i, (b * size + i) % 1000) for i in range(size)]
        out.append(json.dumps({"messages": docs}).encode())
    return out


def _lua(path: str, key: str, payloads: list[bytes]) -> str:
    items = ",\n".join(f"[==[{p.decode()}]==]" for p in payloads)
    return f"""
local bodies = {{ {items} }}
local requests = {{}}
local i = 0
init = function(args)
  local headers = {{["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer {key}"}}
  for n, body in ipairs(bodies) do
    requests[n] = wrk.format("POST", "{path}", headers, body)
  end
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests": %d, "duration_us": %d, "status_errors": %d, "connect": %d, '
    .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, '
    .. '"mean_us": %f}}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def _run_wrk(url: str, key: str, payloads: list[bytes], conns: int, seconds: float
             ) -> dict[str, Any]:
    parts = urlsplit(url)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(parts.path, key, payloads))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{conns}", f"-d{int(seconds)}s", "--timeout", "10s",
             "-s", script.name, f"{parts.scheme}://{parts.netloc}"],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds_run = raw["duration_us"] / 1e6
    errors = raw["status_errors"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    ok = raw["requests"] - raw["status_errors"]
    return {
        "requests": raw["requests"], "ok": ok, "errors": errors, "seconds": round(seconds_run, 2),
        "ok_per_s": round(ok / seconds_run, 1), "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2), "mean_ms": round(raw["mean_us"] / 1000, 2),
    }


async def _aiohttp_load(url: str, key: str, payloads: list[bytes], conns: int,
                        seconds: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    ok = errors = 0
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    deadline = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession, start: int) -> None:
        nonlocal ok, errors
        n = start
        while time.perf_counter() < deadline:
            n += 1
            t0 = time.perf_counter()
            try:
                async with session.post(url, data=payloads[n % len(payloads)],
                                        headers=headers) as response:
                    await response.read()
                    good = 200 <= response.status < 300
            except aiohttp.ClientError:
                good = False
            latencies.append(time.perf_counter() - t0)
            ok, errors = (ok + 1, errors) if good else (ok, errors + 1)

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session, i * 7919) for i in range(conns)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    return {
        "requests": ok + errors, "ok": ok, "errors": errors, "seconds": round(elapsed, 2),
        "ok_per_s": round(ok / elapsed, 1), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
        "mean_ms": round(sum(latencies) / max(len(latencies), 1) * 1000, 2),
    }


async def run_load(url: str, key: str, size: int, conns: int, seconds: float, doc: DocFn
                   ) -> dict[str, Any]:
    """POST to ``url`` for ``seconds`` from another process; return the figures."""
    payloads = bodies(size, doc)
    if have_wrk():
        return await asyncio.to_thread(_run_wrk, url, key, payloads, conns, seconds)
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as f:
        for p in payloads:
            f.write(p.replace(b"\n", b" ") + b"\n")
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.bench.loadgen", url, key, f.name, str(conns),
            str(seconds), stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
    finally:
        os.unlink(f.name)
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def main() -> int:
    """Subprocess entry: ``python -m tests.bench.loadgen URL KEY BODIES_FILE CONNS SECONDS``."""
    parser = argparse.ArgumentParser()
    for name in ("url", "key", "bodies", "conns", "seconds"):
        parser.add_argument(name)
    args = parser.parse_args()
    payloads = Path(args.bodies).read_bytes().splitlines()
    stats = asyncio.run(_aiohttp_load(args.url, args.key, payloads, int(args.conns),
                                      min(float(args.seconds), 30.0)))
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
