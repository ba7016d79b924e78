"""Harness for the processor tests and benchmark: a worker subprocess, Kafka, MySQL.

Not a test module itself (it holds no tests); the name keeps it among the processor
test files. Each worker runs as ``python -m services.processors <sport>`` with the
environment pointing at the test's fresh topics, database and Redis prefix, its own
consumer group and a free web port.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Self

import aiohttp
import aiomysql
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.codec import encode_message, message_key
from shared.enums import Sport
from shared.model import FeedMessage
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.storage.pool import connect_kwargs
from shared.topics import Topics
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]


def stack_env(kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings) -> dict[str, str]:
    """This process's environment pointed at the test's own topics, database and prefix."""
    return {
        **os.environ,
        "SPORTSFEED_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SPORTSFEED_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "SPORTSFEED_MYSQL_HOST": mysql.host,
        "SPORTSFEED_MYSQL_PORT": str(mysql.port),
        "SPORTSFEED_MYSQL_USER": mysql.user,
        "SPORTSFEED_MYSQL_PASSWORD": mysql.password.get_secret_value(),
        "SPORTSFEED_MYSQL_DATABASE": mysql.database,
        "SPORTSFEED_REDIS_URL": redis.url,
        "SPORTSFEED_REDIS_KEY_PREFIX": redis.key_prefix,
    }


def worker_env(
    kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings, *, group: str,
    web_port: int, extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a worker on the test's own topics, database and prefix."""
    return {
        **stack_env(kafka, mysql, redis),
        "SPORTSFEED_PROCESSOR_GROUP_ID": group,
        "SPORTSFEED_PROCESSOR_WEB_PORT": str(web_port),
        "SPORTSFEED_PROCESSOR_WEB_HOST": "127.0.0.1",
        "SPORTSFEED_PROCESSOR_SESSION_TIMEOUT_S": "6",
        **(extra or {}),
    }


class WorkerProcess:
    """``python -m services.processors <sport>`` as a subprocess."""

    def __init__(
        self, sport: Sport, kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings,
        log: Path, *, group: str | None = None, extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.sport = sport
        self.port = free_port()
        self.group = group or f"{kafka.topic_prefix}-proc"
        self.env = worker_env(kafka, mysql, redis, group=self.group, web_port=self.port,
                              extra=extra_env)
        self.log = log
        self.command = [sys.executable, "-m", "services.processors", sport.value]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the worker's web server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Start the process (its output goes to the log file)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        return self

    async def get(self, path: str) -> tuple[int, str]:
        """GET a path of the worker's web server."""
        async with aiohttp.ClientSession() as session, session.get(self.url + path) as response:
            return response.status, await response.text()

    async def wait_ready(
        self, within: float = 60.0, *, partitions: bool = True, behind_ok: bool = False,
    ) -> None:
        """Wait until ``/readyz`` answers 200 (and the consumer has partitions).

        ``behind_ok``: a worker started on a backlog older than its ``max_lag_s`` rightly
        answers 503 (``lag``) until it catches up; with this, MySQL, Redis, Kafka and
        progress being ok is enough (a benchmark timing the catch-up waits for that).
        """
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
            with suppress(aiohttp.ClientError, OSError, ValueError):
                status, body = await self.get("/readyz")
                doc = json.loads(body)
                up = status == 200 or (behind_ok and all(
                    doc.get(check) == "ok" for check in ("mysql", "redis", "kafka", "progress")))
                if up and (not partitions or doc.get("partitions")):
                    return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"worker not ready in {within}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        """The end of the worker's log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def terminate(self, within: float = 60.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def ensure_stopped(self) -> None:
        """Kill the process if it still runs (test clean-up)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


async def produce(
    kafka: KafkaSettings, messages: Sequence[FeedMessage | tuple[bytes | None, bytes]],
    *, sport: Sport = Sport.FOOTBALL, compression: str | None = None,
) -> None:
    """Send messages (or raw ``(key, value)`` records) to the sport's feed topic, in order."""
    topic = Topics(kafka.topic_prefix).feed(sport)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all",
                                enable_idempotence=True, linger_ms=5,
                                compression_type=compression)
    await producer.start()
    try:
        futures = []
        for m in messages:
            key, value = (message_key(m), encode_message(m)) if isinstance(m, FeedMessage) else m
            futures.append(await producer.send(topic, value=value, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_topic(
    kafka: KafkaSettings, topic: str, expect: int, within: float = 30.0
) -> list[tuple[bytes | None, bytes]]:
    """Read a topic from the beginning until ``expect`` records arrived (or time is up)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest",
        enable_auto_commit=False, group_id=None,
    )
    await consumer.start()
    records: list[tuple[bytes | None, bytes]] = []
    try:
        deadline = time.monotonic() + within
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend((r.key, r.value) for r in part)
    finally:
        await consumer.stop()
    return records


class Db:
    """Plain queries against the test database (autocommit: always the latest data)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query."""
        async with self.conn.cursor() as cur:
            await cur.execute(sql, tuple(args) or None)
            return list(await cur.fetchall())

    async def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """The first column of the first row."""
        rows = await self.rows(sql, args)
        return rows[0][0] if rows else None


@asynccontextmanager
async def database(mysql: MySQLSettings) -> AsyncIterator[Db]:
    """A connection to the test database."""
    kwargs = connect_kwargs(mysql)
    kwargs["autocommit"] = True
    conn = await aiomysql.connect(**kwargs)
    try:
        yield Db(conn)
    finally:
        conn.close()


async def wait_until(
    check: Callable[[], Awaitable[bool]], within: float = 30.0, every: float = 0.2,
    what: str = "condition",
) -> None:
    """Poll ``check`` until true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(every)
    raise TimeoutError(f"{what} not reached in {within}s")


def fresh(prefix: str) -> str:
    """A name no other run uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


class TcpProxy:
    """A TCP proxy in front of a shared service, to cut one worker off from it.

    The shared MariaDB and Redis must keep running for everyone else; the worker under
    test talks to them through this proxy, and :meth:`cut` drops its connections and
    refuses new ones until :meth:`restore`.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.open = True
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def start(self) -> TcpProxy:
        """Listen on a free local port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._links.discard(writer)
            writer.transport.abort()

    def cut(self) -> None:
        """Drop every connection and refuse new ones (an outage, for this client only)."""
        self.open = False
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def restore(self) -> None:
        """Accept connections again."""
        self.open = True

    async def stop(self) -> None:
        """Close the proxy."""
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@asynccontextmanager
async def private_mariadb(root: Path, server_options: str) -> AsyncIterator[MySQLSettings]:
    """A MariaDB of its own (``infra/local/stack.sh`` under ``root``, a free port),
    configured with ``server_options`` (``name=value ...``, e.g. a DBA's ``sql_mode``);
    yields settings of a fresh, migrated database on it, and stops it afterwards."""
    from shared.storage.migrate import apply_migrations

    env = {k: v for k, v in os.environ.items() if not k.startswith("SPORTSFEED_")}
    env.update(SPORTSFEED_DATA_DIR=str(root), SPORTSFEED_MYSQL_PORT=str(free_port()),
               SPORTSFEED_MARIADB_SERVER_OPTIONS=server_options)
    stack_sh = str(REPO / "infra" / "local" / "stack.sh")

    def run(action: str) -> None:
        done = subprocess.run([stack_sh, action, "mariadb"], env=env, cwd=REPO, timeout=180,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"stack.sh {action} mariadb failed:\n{done.stdout}{done.stderr}")

    await asyncio.to_thread(run, "start")
    try:
        values = dict(line.split("=", 1) for line in (root / "local.env").read_text().splitlines()
                      if "=" in line)
        settings = MySQLSettings(
            host="127.0.0.1", port=int(env["SPORTSFEED_MYSQL_PORT"]),
            user=values["SPORTSFEED_MYSQL_USER"],
            password=values["SPORTSFEED_MYSQL_PASSWORD"],
            database=fresh("sportsfeed_t_"),
        )
        await apply_migrations(settings)
        yield settings
    finally:
        await asyncio.to_thread(run, "stop")
