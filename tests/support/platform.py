"""Harness of the fault tests: a private stack, and the platform on it as subprocesses.

The fault tests stop and restart Kafka, MariaDB and Redis, so they never use the shared
local stack (other tests and engineers depend on it) nor testcontainers (a container
restart moves its mapped ports, and the services under test must find the broker where
it was). They run ``infra/local/stack.sh`` itself on a **private** stack: its own
``SPORTSFEED_DATA_DIR`` in a temporary directory and ports found free at start
(19092/19093, 13306 and 16379 when those are free), started once per session, stopped
and deleted at the end whatever happened. Its logs are kept in pytest's temporary
directory. The broker's jars are hard-linked from the main stack's ``.data/kafka/libs``
when present, so no Maven fetch is needed.

Each test then gets fresh topics, a fresh database and a fresh Redis prefix on it, and
starts the services it needs as ``python -m`` subprocesses (:class:`Platform`), which
are killed at teardown even when the test fails. What the tests then check is in
``tests/e2e/checks.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from shared.enums import Sport
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.storage.migrate import apply_migrations
from shared.topics import create_topics
from tests.support.consumer_keys import AUTH, TEST_KEYS
from tests.support.ports import claim, free_port

REPO = Path(__file__).resolve().parents[2]
STACK_SH = REPO / "infra" / "local" / "stack.sh"
PROVIDER = "feedgen"
PROBE = "probe"
FAULTS = "dup=0.01,reorder=0.01,malformed=0.005"
PREFERRED_PORTS = {"kafka": 19092, "controller": 19093, "mysql": 13306, "redis": 16379}
PORT_ENV = {"kafka": "SPORTSFEED_KAFKA_PORT", "controller": "SPORTSFEED_KAFKA_CONTROLLER_PORT",
            "mysql": "SPORTSFEED_MYSQL_PORT", "redis": "SPORTSFEED_REDIS_PORT"}


def clean_env() -> dict[str, str]:
    """This process's environment without any ``SPORTSFEED_*`` variable.

    ``make test`` exports the main stack's settings; a child that inherited one of them
    would quietly talk to the shared stack instead of the private one.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPORTSFEED_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "feed-generator")])
    return env


# --- the private stack -----------------------------------------------------------------


@dataclass
class PrivateStack:
    """Kafka, MariaDB and Redis of ``infra/local/stack.sh`` under a private data dir."""

    root: Path
    ports: dict[str, int]
    start_s: float = 0.0  # ``stack.sh start`` on a fresh data dir
    ready_s: float = 0.0  # the same plus migrations and topics

    @property
    def env(self) -> dict[str, str]:
        """The environment every ``stack.sh`` call of this stack runs with."""
        env = clean_env()
        env["SPORTSFEED_DATA_DIR"] = str(self.root)
        env.update({PORT_ENV[name]: str(port) for name, port in self.ports.items()})
        return env

    def settings(self) -> dict[str, str]:
        """The stack's ``local.env`` (credentials and endpoints)."""
        lines = (self.root / "local.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def stack_sh(self, *args: str, timeout: float = 180) -> float:
        """Run ``stack.sh ARGS`` on this stack; returns the seconds it took.

        A failed ``start`` is tried once more: ``mariadb.sh`` can read mariadbd's pid
        file in the instant mariadbd rewrites it (empty) and report a failure while the
        server comes up fine; the second ``start`` finds it running. Said on stdout.
        """
        began = time.monotonic()
        for attempt in (1, 2):
            done = subprocess.run([str(STACK_SH), *args], env=self.env, cwd=REPO,
                                  timeout=timeout, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                return time.monotonic() - began
            if args[0] != "start" or attempt == 2:
                break
            print(f"stack.sh {' '.join(args)} failed once, trying again:\n{done.stderr[-600:]}")
        raise RuntimeError(f"stack.sh {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")

    async def service(self, action: str, name: str) -> float:
        """``stack.sh <start|stop> <kafka|mariadb|redis>`` without blocking the event loop."""
        return await asyncio.to_thread(self.stack_sh, action, name)

    def start(self) -> None:
        """Start the stack, apply the migrations and create the default topics."""
        # The main stack's jars (its data dir is ours to read, never to write).
        libs = Path(os.environ.get("SPORTSFEED_DATA_DIR", REPO / ".data")) / "kafka" / "libs"
        if libs.is_dir() and not (self.root / "kafka" / "libs").exists():
            (self.root / "kafka").mkdir(parents=True)
            # Hard links: instant, and the main stack's files are never written to.
            shutil.copytree(libs, self.root / "kafka" / "libs", copy_function=os.link)
        began = time.monotonic()
        self.start_s = self.stack_sh("start")
        env = {**self.env, **self.settings()}
        for module in ("shared.storage.migrate", "shared.topics"):
            subprocess.run([sys.executable, "-m", module], env=env, cwd=REPO, timeout=120,
                           check=True, capture_output=True)
        self.ready_s = time.monotonic() - began

    def stop(self, keep_logs: Path | None = None) -> None:
        """Stop every daemon, keep the logs if asked, delete the data dir."""
        try:
            self.stack_sh("stop")
        finally:
            if keep_logs is not None and (self.root / "logs").is_dir():
                shutil.copytree(self.root / "logs", keep_logs, dirs_exist_ok=True)
            shutil.rmtree(self.root, ignore_errors=True)

    def fresh(self, partitions: int = 4) -> Scope:
        """Names for one test: its own topic prefix, database and Redis prefix."""
        s = self.settings()
        tag = uuid.uuid4().hex[:10]
        return Scope(
            kafka=KafkaSettings(bootstrap=s["SPORTSFEED_KAFKA_BOOTSTRAP"],
                                topic_prefix=f"f{tag}.sportsfeed", partitions=partitions),
            mysql=MySQLSettings(host=s["SPORTSFEED_MYSQL_HOST"], port=int(s["SPORTSFEED_MYSQL_PORT"]),
                                user=s["SPORTSFEED_MYSQL_USER"],
                                password=SecretStr(s["SPORTSFEED_MYSQL_PASSWORD"]),
                                database=f"sportsfeed_t_{tag}"),
            redis=RedisSettings(url=s["SPORTSFEED_REDIS_URL"], key_prefix=f"f{tag}"),
        )


def pick_ports() -> dict[str, int]:
    """The preferred private ports where free, else any free ones (never the main stack's)."""
    ports: dict[str, int] = {}
    for name, preferred in PREFERRED_PORTS.items():
        ports[name] = preferred if claim(preferred) else free_port()
    return ports


_shared: PrivateStack | None = None
_users = 0


@contextlib.contextmanager
def shared_private_stack(keep_logs: Path) -> Iterator[PrivateStack]:
    """One private stack for the whole session, however many modules ask for it.

    Each fault-test module has its own session fixture calling this; the first starts
    the stack, the last one out stops it (all session finalizers run at the very end).
    """
    global _shared, _users
    if _shared is None:
        stack = PrivateStack(Path(tempfile.mkdtemp(prefix="sportsfeed-faults-")), pick_ports())
        try:
            stack.start()
        except BaseException:
            stack.stop(keep_logs)
            raise
        print(f"\nprivate stack: {stack.ports}, started in {stack.start_s:.1f} s "
              f"({stack.ready_s:.1f} s with migrations and topics)")
        _shared = stack
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0 and _shared is not None:
            stack, _shared = _shared, None
            stack.stop(keep_logs)


# --- one test's resources and processes ------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A test's own topics, database and Redis prefix on the private stack."""

    kafka: KafkaSettings
    mysql: MySQLSettings
    redis: RedisSettings

    async def create(self) -> Scope:
        """Create the topics and apply the migrations."""
        await create_topics(self.kafka)
        await apply_migrations(self.mysql)
        return self

    def env(self) -> dict[str, str]:
        """The environment of a service (or command) pointed at this scope."""
        return {
            **clean_env(),
            "SPORTSFEED_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "SPORTSFEED_KAFKA_TOPIC_PREFIX": self.kafka.topic_prefix,
            "SPORTSFEED_KAFKA_PARTITIONS": str(self.kafka.partitions),
            "SPORTSFEED_MYSQL_HOST": self.mysql.host,
            "SPORTSFEED_MYSQL_PORT": str(self.mysql.port),
            "SPORTSFEED_MYSQL_USER": self.mysql.user,
            "SPORTSFEED_MYSQL_PASSWORD": self.mysql.password.get_secret_value(),
            "SPORTSFEED_MYSQL_DATABASE": self.mysql.database,
            "SPORTSFEED_REDIS_URL": self.redis.url,
            "SPORTSFEED_REDIS_KEY_PREFIX": self.redis.key_prefix,
        }


@dataclass
class Proc:
    """One ``python -m`` subprocess with its log file (and its web port, if any)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    ws_port: int | None = None
    ready_path: str = "/readyz"
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        """Start (again): output is appended to the log."""
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen([sys.executable, "-m", *self.args], cwd=REPO,
                                          env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        """Started and not exited."""
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        """The end of the log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    async def get(self, path: str) -> tuple[int, Any]:
        """GET a path of the process's web server (with the tests' consumer key, which
        distribution asks for): status and JSON body."""
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as http, \
                http.get(f"http://127.0.0.1:{self.port}{path}", headers=AUTH) as response:
            return response.status, await response.json(content_type=None)

    async def wait_ready(self, within: float = 90.0, *, partitions: bool = False) -> dict[str, Any]:
        """Poll the ready path until 200 (and, for a worker, until it owns partitions)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited before ready:\n{self.tail()}")
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError, ValueError):
                status, body = await self.get(self.ready_path)
                if status == 200 and (not partitions or body.get("partitions")):
                    return dict(body)
            await asyncio.sleep(0.3)
        raise TimeoutError(f"{self.name} not ready in {within} s:\n{self.tail()}")

    async def wait_exit(self, within: float) -> int:
        """Wait for the process to end by itself; killed (and an error) after ``within``."""
        assert self.popen is not None
        try:
            return await asyncio.to_thread(self.popen.wait, within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TimeoutError(f"{self.name} still running after {within} s:\n{self.tail()}") from None

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        if self.running():
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(timeout=10)

    def stop(self, within: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after ``within`` seconds; the exit status."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=within)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.popen.returncode


class Platform:
    """The services a fault test runs, on one scope; everything is stopped by :meth:`close`."""

    def __init__(self, scope: Scope, workdir: Path) -> None:
        self.scope = scope
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.key = uuid.uuid4().hex
        # A second provider for the tests' own probes: its ledger rows are told apart.
        self.probe_key = uuid.uuid4().hex
        self.group = f"faults-{uuid.uuid4().hex[:8]}"
        self.procs: list[Proc] = []

    def _add(self, proc: Proc) -> Proc:
        self.procs.append(proc)
        return proc.start()

    def ingestion(self, **extra_env: str) -> Proc:
        """``python -m services.ingestion`` on a free port, accepting the generator's key."""
        port = free_port()
        env = {**self.scope.env(), "SPORTSFEED_INGESTION_PORT": str(port),
               "SPORTSFEED_INGESTION_API_KEYS": f"{PROVIDER}:{self.key},{PROBE}:{self.probe_key}",
               **extra_env}
        return self._add(Proc("ingestion", ["services.ingestion"], env,
                              self.logs / "ingestion.log", port))

    def processor(self, sport: Sport, name: str | None = None, **extra_env: str) -> Proc:
        """A worker of ``sport``; workers of one sport share the test's consumer group."""
        name = name or f"processor-{sport.value}"
        port = free_port()
        env = {**self.scope.env(),
               "SPORTSFEED_PROCESSOR_WEB_PORT": str(port),
               "SPORTSFEED_PROCESSOR_WEB_HOST": "127.0.0.1",
               "SPORTSFEED_PROCESSOR_GROUP_ID": f"{self.group}-{sport.value}",
               # The shortest session the settings allow: a killed worker's partitions
               # move sooner.
               "SPORTSFEED_PROCESSOR_SESSION_TIMEOUT_S": "6",
               "SPORTSFEED_PROCESSOR_DATA_DIR": str(self.workdir / f"faust-{name}"),
               "SPORTSFEED_PROCESSOR_LOG_LEVEL": "warning", **extra_env}
        return self._add(Proc(name, ["services.processors", sport.value], env,
                              self.logs / f"{name}.log", port))

    def distribution(self, **extra_env: str) -> Proc:
        """``python -m services.distribution`` on free REST and WebSocket ports."""
        rest, ws = free_port(), free_port()
        env = {**self.scope.env(), "SPORTSFEED_DISTRIBUTION_REST_PORT": str(rest),
               "SPORTSFEED_DISTRIBUTION_WS_PORT": str(ws),
                "SPORTSFEED_DISTRIBUTION_LOG_LEVEL": "warning",
                "SPORTSFEED_DISTRIBUTION_API_KEYS": TEST_KEYS, **extra_env}
        return self._add(Proc("distribution", ["services.distribution"], env,
                              self.logs / "distribution.log", rest, ws_port=ws))

    def pricing(self) -> Proc:
        """``python -m services.pricing run`` (priors where no model is stored)."""
        port = free_port()
        env = {**self.scope.env(), "SPORTSFEED_PRICING_WEB_PORT": str(port),
               "SPORTSFEED_PRICING_WEB_HOST": "127.0.0.1",
               "SPORTSFEED_PRICING_GROUP_ID": f"{self.group}-pricing",
               "SPORTSFEED_PRICING_REFIT_INTERVAL_S": "0",
               "SPORTSFEED_PRICING_DATA_DIR": str(self.workdir / "faust-pricing"),
               "SPORTSFEED_PRICING_LOG_LEVEL": "warning"}
        return self._add(Proc("pricing", ["services.pricing", "run"], env,
                              self.logs / "pricing.log", port))

    def trading(self) -> Proc:
        """``python -m services.trading run`` with the repository's strategies."""
        port = free_port()
        env = {**self.scope.env(), "SPORTSFEED_TRADING_WEB_PORT": str(port),
               "SPORTSFEED_TRADING_WEB_HOST": "127.0.0.1",
               "SPORTSFEED_TRADING_GROUP_ID": f"{self.group}-trading",
               "SPORTSFEED_TRADING_STRATEGIES_FILE": str(REPO / "infra" / "trading" / "strategies.toml"),
               "SPORTSFEED_TRADING_DATA_DIR": str(self.workdir / "faust-trading"),
               "SPORTSFEED_TRADING_LOG_LEVEL": "warning"}
        return self._add(Proc("trading", ["services.trading", "run"], env,
                              self.logs / "trading.log", port))

    def control(self) -> Proc:
        """``python -m feedgen serve``: the generator's control API (health, metrics, runs)."""
        ingestion = next(p for p in self.procs if p.name == "ingestion")
        port = free_port()
        env = {**self.scope.env(), "SPORTSFEED_FEEDGEN_API_KEY": self.key,
               "SPORTSFEED_FEEDGEN_URL": f"http://127.0.0.1:{ingestion.port}",
               "SPORTSFEED_FEEDGEN_CONTROL_PORT": str(port),
               "SPORTSFEED_FEEDGEN_DATA_DIR": str(self.workdir / "feedgen")}
        return self._add(Proc("feedgen", ["feedgen", "serve"], env, self.logs / "feedgen.log",
                              port, ready_path="/healthz"))

    def generator(self, load: Load, run_id: str) -> Proc:
        """``python -m feedgen run`` posting ``load`` to ingestion (the first one started)."""
        ingestion = next(p for p in self.procs if p.name == "ingestion")
        env = {**self.scope.env(), "SPORTSFEED_FEEDGEN_API_KEY": self.key}
        args = ["feedgen", "run", "--matches", str(load.matches), "--rate", str(load.rate),
                "--duration", str(load.duration), "--sports", load.sports,
                "--faults", load.faults, "--seed", str(load.seed),
                "--max-retries", str(load.max_retries), "--drain", str(load.drain),
                "--url", f"http://127.0.0.1:{ingestion.port}",
                "--data-dir", str(self.workdir / "feedgen"), "--run-id", run_id]
        return self._add(Proc("feedgen", args, env, self.logs / "feedgen.log"))

    async def wait_ready(self, *, partitions: bool = True) -> None:
        """Every started service ready (workers: owning partitions, unless told otherwise)."""
        await asyncio.gather(*(
            p.wait_ready(partitions=partitions and p.name.startswith("processor"))
            for p in self.procs if p.port is not None and p.running()))

    def close(self) -> None:
        """Stop everything still running: the generator first, then SIGTERM, then SIGKILL."""
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                proc.stop(within=15)
        for proc in self.procs:
            proc.kill()


@dataclass(frozen=True)
class Load:
    """A bounded generator run: realistic faults, modest rate."""

    matches: int = 10
    rate: float = 250.0
    duration: float = 30.0
    sports: str = "football,basketball"
    faults: str = FAULTS
    seed: int = 7
    # Enough tries (backoff capped at 10 s) to outlast a restart of any dependency.
    max_retries: int = 12
    drain: float = 60.0
