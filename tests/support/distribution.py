"""Builders and helpers shared by the distribution tests (this module holds no tests).

Events are built as :class:`EventSnapshot` objects and written the way processors
write them: rows in MySQL (:func:`seed_mysql`), the snapshot in Redis through
``shared.cache`` (:func:`seed_redis`), deltas on the fresh updates topic
(:func:`publish`). The service runs in-process on free ports (:func:`running_service`).

Its consumer keys: :data:`TEST_KEY` (name ``tests``, every scope, limits no test
reaches) unless a test gives its own; :func:`api_session` and :func:`ws_client`
present it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect

from services.distribution.service import DistributionService
from services.distribution.settings import DistributionSettings
from shared.cache import open_cache
from shared.enums import EventStatus, MarketStatus, MessageKind, Sport
from shared.fair import ModelPrices, model_key
from shared.live import EventDelta, EventSnapshot, FixtureState, LiveState, MarketState, OutcomeState
from shared.model import Clock, Competition, Competitor, Score
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from shared.storage.pool import create_pool, to_db_datetime
from shared.topics import Topics
from tests.support.consumer_keys import AUTH, TEST_KEY, TEST_KEYS

__all__ = ["AUTH", "TEST_KEY", "TEST_KEYS"]  # re-exported: the distribution tests' key

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
PROVIDER = "itest"
OUTCOMES = {"1x2": ("home", "draw", "away"), "moneyline": ("home", "away"),
            "totals": ("over", "under"), "handicap": ("home", "away")}


def market(key: str, *prices: str, status: MarketStatus = MarketStatus.ACTIVE) -> MarketState:
    """A market with its outcomes priced in catalogue order (``market("1x2", "2.1", "3.4", "3.6")``)."""
    ids = OUTCOMES[key.split("|", 1)[0]]
    return MarketState(
        market_key=key, status=status, provider_ts=T0,
        outcomes=tuple(OutcomeState(id=i, price=Decimal(p)) for i, p in zip(ids, prices, strict=True)),
    )


def snapshot(
    event_id: str, sport: Sport = Sport.FOOTBALL, version: int = 1, *,
    start: datetime = T0, status: EventStatus = EventStatus.LIVE, competition: str = "league-1",
    markets: Iterable[MarketState] = (), home: str = "Home FC", away: str = "Away FC",
    score: tuple[int, int] = (0, 0), live: bool = True,
) -> EventSnapshot:
    """A snapshot as a processor would write it."""
    return EventSnapshot(
        event_id=event_id, sport=sport, version=version, status=status,
        fixture=FixtureState(
            competition=Competition(id=competition, name=f"League {competition}", country="NL"),
            start_time=start,
            home=Competitor(id=f"{event_id}-h", name=home),
            away=Competitor(id=f"{event_id}-a", name=away),
        ),
        live=LiveState(
            status=status, period="1h" if sport is Sport.FOOTBALL else None,
            clock=Clock(seconds=1200), score=Score(home=score[0], away=score[1]),
            provider_ts=start,
        ) if live else None,
        markets={m.market_key: m for m in markets},
        updated_at=start,
    )


def delta(
    event_id: str, version: int, *markets: MarketState, sport: Sport = Sport.FOOTBALL,
    live: LiveState | None = None, status: EventStatus | None = None,
) -> EventDelta:
    """An applied change; ``applied_at`` is now (latency is measured from it)."""
    now = datetime.now(UTC)
    return EventDelta(
        event_id=event_id, sport=sport, version=version, message_id=f"{event_id}-m{version}",
        kind=MessageKind.ODDS if markets else MessageKind.LIVE, provider=PROVIDER,
        provider_ts=now, applied_at=now, markets=markets, live=live, status=status,
    )


@dataclass
class Seed:
    """Extra rows beside the events: odds history, settlements, ledger."""

    history: list[tuple[str, str, str, str | None, datetime]] = field(default_factory=list)
    settlements: list[tuple[str, str, str, str, str, datetime | None]] = field(default_factory=list)
    cancellations: list[tuple[str, str, str]] = field(default_factory=list)
    ledger: list[tuple[str, str, Sport, str, datetime]] = field(default_factory=list)
    repeats: list[tuple[str, str, Sport, int]] = field(default_factory=list)


SPORT_CYCLE = [Sport.FOOTBALL, Sport.BASKETBALL, Sport.TENNIS, Sport.ICE_HOCKEY]
STATUS_CYCLE = [EventStatus.LIVE, EventStatus.NOT_STARTED, EventStatus.ENDED]


def rest_events() -> list[EventSnapshot]:
    """36 events over 4 sports, 3 statuses, 2 competitions; pairs share a start time."""
    events = []
    for n in range(36):
        sport = SPORT_CYCLE[n % 4]
        main = "1x2" if sport in (Sport.FOOTBALL, Sport.ICE_HOCKEY) else "moneyline"
        prices = ("2.10", "3.40", "3.60") if main == "1x2" else ("1.85", "1.95")
        events.append(snapshot(
            f"e{n:02d}", sport, version=n + 1, start=T0 + timedelta(hours=n // 2),
            status=STATUS_CYCLE[n % 3], competition=f"comp-{n % 2}",
            markets=[market(main, *prices),
                     market("totals|total=2.5", "1.90", "1.90", status=MarketStatus.SUSPENDED)],
        ))
    return events


def rest_dataset() -> tuple[list[EventSnapshot], Seed]:
    """The REST tests' data: :func:`rest_events`, odds history of e00, results of e02, a ledger."""
    extra = Seed(
        history=[("e00", "1x2", o, p, T0 + timedelta(minutes=m))
                 for m, (o, p) in enumerate([("home", "2.10"), ("home", "2.05"), ("draw", "3.30"),
                                             ("home", "1.98"), ("away", None)])],
        settlements=[("e02", "1x2", "home", "won", "0", None),
                     ("e02", "1x2", "away", "lost", "0.5", T0 + timedelta(hours=3))],
        cancellations=[("e02", "totals|total=2.5", "abandoned")],
        ledger=[(f"m{n}", "acme" if n % 3 else "beta", SPORT_CYCLE[n % 2], d,
                 T0 + timedelta(minutes=n))
                for n, d in enumerate(["applied"] * 6 + ["stale", "rejected", "duplicate"])],
        repeats=[("m0", "beta", Sport.FOOTBALL, 1), ("m0", "beta", Sport.FOOTBALL, 2)],
    )
    return rest_events(), extra


async def seed_mysql(
    settings: MySQLSettings, snapshots: Sequence[EventSnapshot], extra: Seed | None = None
) -> None:
    """Write events (with competitors, live state, markets) and ``extra`` rows to MySQL."""
    extra = extra or Seed()
    async with create_pool(settings) as pool, pool.acquire() as conn, conn.cursor() as cur:
        for s in snapshots:
            f = s.fixture
            assert f.competition is not None
            assert f.home is not None
            assert f.away is not None
            assert f.start_time is not None
            await cur.execute(
                "INSERT INTO competitions (id, sport, name, country, season) VALUES"
                " (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE id = id",
                (f.competition.id, s.sport.value, f.competition.name, f.competition.country,
                 f.competition.season),
            )
            for c in (f.home, f.away):
                await cur.execute("INSERT INTO competitors (id, name) VALUES (%s, %s)"
                                  " ON DUPLICATE KEY UPDATE id = id", (c.id, c.name))
            await cur.execute(
                "INSERT INTO events (id, sport, competition_id, home_id, away_id, start_time,"
                " status, provider, last_provider_ts, version) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (s.event_id, s.sport.value, f.competition.id, f.home.id, f.away.id,
                 to_db_datetime(f.start_time), s.status.value, PROVIDER,
                 to_db_datetime(f.start_time), s.version),
            )
            if s.live is not None:
                clock = s.live.clock
                await cur.execute(
                    "INSERT INTO live_state (event_id, status, period, clock_seconds,"
                    " clock_running, home_score, away_score, periods, provider_ts)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (s.event_id, s.live.status.value, s.live.period,
                     clock.seconds if clock else None, clock.running if clock else None,
                     s.live.score.home, s.live.score.away, "[]",
                     to_db_datetime(s.live.provider_ts or f.start_time)),
                )
            for m in s.markets.values():
                await cur.execute(
                    "INSERT INTO markets (event_id, market_key, market_type, status, provider,"
                    " provider_ts) VALUES (%s, %s, %s, %s, %s, %s)",
                    (s.event_id, m.market_key, m.market_key.split("|")[0], m.status.value,
                     PROVIDER, to_db_datetime(m.provider_ts or f.start_time)),
                )
                for o in m.outcomes:
                    await cur.execute(
                        "INSERT INTO outcomes (event_id, market_key, outcome_id, price, active)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        (s.event_id, m.market_key, o.id, o.price, o.active),
                    )
        for n, (event_id, key, outcome, price, ts) in enumerate(extra.history):
            await cur.execute(
                "INSERT INTO odds_history (event_id, market_key, outcome_id, price, active,"
                " market_status, provider_ts, message_id) VALUES (%s, %s, %s, %s, 1, 'active', %s, %s)",
                (event_id, key, outcome, price, to_db_datetime(ts), f"h-{n}"),
            )
        for n, (event_id, key, outcome, result, void, rolled) in enumerate(extra.settlements):
            await cur.execute(
                "INSERT INTO settlements (event_id, market_key, outcome_id, result, void_factor,"
                " certainty, message_id, provider_ts, rolled_back_at, rolled_back_by)"
                " VALUES (%s, %s, %s, %s, %s, 'confirmed', %s, %s, %s, %s)",
                (event_id, key, outcome, result, void, f"s-{n}", to_db_datetime(T0),
                 to_db_datetime(rolled) if rolled else None, "r-1" if rolled else None),
            )
        for n, (event_id, key, reason) in enumerate(extra.cancellations):
            await cur.execute(
                "INSERT INTO cancellations (event_id, market_key, void_reason, message_id,"
                " provider_ts) VALUES (%s, %s, %s, %s, %s)",
                (event_id, key, reason, f"c-{n}", to_db_datetime(T0)),
            )
        for message_id, provider, sport, disposition, at in extra.ledger:
            await cur.execute(
                "INSERT INTO ledger (message_id, provider, sport, event_id, kind, provider_ts,"
                " received_at, processed_at, disposition) VALUES (%s, %s, %s, 'ev', 'odds',"
                " %s, %s, %s, %s)",
                (message_id, provider, sport.value, to_db_datetime(at), to_db_datetime(at),
                 to_db_datetime(at), disposition),
            )
        for message_id, provider, sport, offset in extra.repeats:
            await cur.execute(
                "INSERT INTO ledger_duplicates (message_id, provider, sport, event_id, kind,"
                " provider_ts, received_at, processed_at, kafka_partition, kafka_offset)"
                " VALUES (%s, %s, %s, 'ev', 'odds', %s, %s, %s, 0, %s)",
                (message_id, provider, sport.value, to_db_datetime(T0), to_db_datetime(T0),
                 to_db_datetime(T0 + timedelta(minutes=1)), offset),
            )
        await conn.commit()


async def seed_redis(settings: RedisSettings, snapshots: Sequence[EventSnapshot]) -> None:
    """Write snapshots through ``shared.cache`` (as processors do)."""
    async with open_cache(settings) as cache:
        await cache.write(list(snapshots))


async def seed_models(settings: RedisSettings, prices: Sequence[ModelPrices]) -> None:
    """Write model prices where the pricing service keeps them (``shared.fair.model_key``)."""
    async with open_cache(settings) as cache:
        for p in prices:
            await cache.client.set(model_key(settings.key_prefix, p.event_id), p.model_dump_json())


async def publish_models(producer: AIOKafkaProducer, settings: KafkaSettings,
                         prices: Iterable[ModelPrices]) -> None:
    """Publish model prices to their sport's model topic, keyed by event (as pricing does)."""
    topics = Topics(settings.topic_prefix)
    for p in prices:
        await producer.send(topics.model(p.sport), value=p.model_dump_json().encode(),
                            key=p.event_id.encode())
    await producer.flush()


@asynccontextmanager
async def publisher(settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    """A producer for the fresh topics."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, linger_ms=0)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def publish(producer: AIOKafkaProducer, settings: KafkaSettings,
                  deltas: Iterable[EventDelta]) -> None:
    """Publish deltas to their sport's updates topic, keyed by event (as processors do)."""
    topics = Topics(settings.topic_prefix)
    for d in deltas:
        await producer.send(
            topics.updates(d.sport), value=d.model_dump_json(exclude_none=True).encode(),
            key=d.event_id.encode(),
        )
    await producer.flush()


def service_settings(
    kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings, **overrides: Any
) -> DistributionSettings:
    """Settings on the fresh stack, free ports, fast heartbeats, the tests' key."""
    values: dict[str, Any] = {"kafka": kafka, "mysql": mysql, "redis": redis, "rest_port": 0,
                              "ws_port": 0, "heartbeat_s": 1.0, "api_keys": SecretStr(TEST_KEYS)}
    values.update(overrides)
    return DistributionSettings(**values)


@asynccontextmanager
async def running_service(settings: DistributionSettings) -> AsyncIterator[DistributionService]:
    """The service, started and ready (its consumer positioned), stopped afterwards."""
    async with DistributionService(settings) as service:
        assert service.fanout is not None
        await service.fanout.wait_ready(30)
        yield service


def api_session(key: str | None = TEST_KEY, **kwargs: Any) -> aiohttp.ClientSession:
    """An HTTP session presenting ``key`` (None: no key)."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return aiohttp.ClientSession(headers=headers, **kwargs)


async def get_json(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    """GET and parse JSON."""
    async with asyncio.timeout(10), session.get(url) as response:
        return response.status, await response.json(content_type=None)


class WsClient:
    """A test client: JSON in and out, every receive bounded by a timeout."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.seen: list[dict[str, Any]] = []

    async def send(self, **message: Any) -> None:
        """Send one message."""
        await self.conn.send(json.dumps(message))

    async def recv(self, within: float = 10.0) -> dict[str, Any]:
        """The next message (within ``within`` seconds)."""
        async with asyncio.timeout(within):
            message: dict[str, Any] = orjson.loads(await self.conn.recv())
        self.seen.append(message)
        return message

    async def recv_until(self, kind: str, within: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next message of ``kind`` whose fields match; others are kept in ``seen``."""
        async with asyncio.timeout(within):
            while True:
                message = await self.recv(within)
                if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                    return message

    async def collect(self, kind: str, count: int, within: float = 10.0) -> list[dict[str, Any]]:
        """The next ``count`` messages of ``kind`` (heartbeats and others skipped)."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while len(found) < count:
                message = await self.recv(within)
                if message["type"] == kind:
                    found.append(message)
        return found


@asynccontextmanager
async def ws_client(url: str, key: str | None = TEST_KEY, **kwargs: Any) -> AsyncIterator[WsClient]:
    """A connected client that has read the server's welcome; ``key`` goes in the handshake
    (None: none, the first message must carry one)."""
    if key is not None:
        kwargs["additional_headers"] = {"Authorization": f"Bearer {key}"}
    async with connect(url, open_timeout=10, close_timeout=2, **kwargs) as conn:
        client = WsClient(conn)
        welcome = await client.recv()
        assert welcome["type"] == "welcome", welcome
        yield client


def service_env(kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings,
                rest_port: int, ws_port: int) -> dict[str, str]:
    """The environment that points ``python -m services.distribution`` at the fresh stack."""
    env = dict(os.environ)
    env.update({
        "SPORTSFEED_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SPORTSFEED_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "SPORTSFEED_MYSQL_HOST": mysql.host, "SPORTSFEED_MYSQL_PORT": str(mysql.port),
        "SPORTSFEED_MYSQL_USER": mysql.user,
        "SPORTSFEED_MYSQL_PASSWORD": mysql.password.get_secret_value(),
        "SPORTSFEED_MYSQL_DATABASE": mysql.database,
        "SPORTSFEED_REDIS_URL": redis.url, "SPORTSFEED_REDIS_KEY_PREFIX": redis.key_prefix,
        "SPORTSFEED_DISTRIBUTION_REST_PORT": str(rest_port),
        "SPORTSFEED_DISTRIBUTION_WS_PORT": str(ws_port),
        "SPORTSFEED_DISTRIBUTION_HEARTBEAT_S": "1",
        "SPORTSFEED_DISTRIBUTION_API_KEYS": TEST_KEYS,
    })
    return env


def start_process(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``python -m services.distribution`` in its own process, once ready."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.distribution"], env=env, cwd=REPO,
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{env['SPORTSFEED_DISTRIBUTION_REST_PORT']}", process)
    except BaseException:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Kill the process if it is still running."""
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def service_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The service in its own process, ready; killed on exit if it lingers."""
    process = start_process(env, log_path)
    try:
        yield process
    finally:
        stop_process(process)


def wait_ready(base_url: str, process: subprocess.Popen[bytes], within_s: float = 60) -> None:
    """Poll ``/readyz`` until it answers 200 (the consumer is positioned)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base_url} not ready within {within_s}s")
