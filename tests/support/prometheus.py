"""A real Prometheus for tests: ``infra/local/prometheus.sh`` on a private port and data
folder, scraping the targets a test names (this module holds no tests)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.support.platform import REPO, clean_env
from tests.support.ports import free_port

PROMETHEUS_SH = REPO / "infra" / "local" / "prometheus.sh"


def _script(action: str, env: dict[str, str]) -> None:
    done = subprocess.run([str(PROMETHEUS_SH), action], env=env, cwd=REPO, timeout=120,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"prometheus.sh {action} failed ({done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")


@asynccontextmanager
async def running_prometheus(targets: Sequence[tuple[str, str, str]], data_dir: Path, *,
                             port: int | None = None) -> AsyncIterator[str]:
    """Prometheus scraping ``targets`` (job, host:port, service) on ``port`` (default: a
    free one); yields its base URL."""
    port = port or free_port()
    env = {**clean_env(), "PATH": os.environ.get("PATH", ""),
           "SPORTSFEED_DATA_DIR": str(data_dir), "SPORTSFEED_PROMETHEUS_PORT": str(port),
           "SPORTSFEED_PROMETHEUS_TARGETS": " ".join("|".join(t) for t in targets)}
    await asyncio.to_thread(_script, "start", env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.to_thread(_script, "stop", env)


async def query(url: str, expr: str) -> list[dict[str, object]]:
    """An instant query's result vector."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, \
            http.get(f"{url}/api/v1/query", params={"query": expr}) as response:
        body = await response.json()
    return list(body["data"]["result"])
