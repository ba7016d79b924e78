"""The storage layer: one MySQL transaction per batch, and the reads around it.

:meth:`Store.apply` locks the batch's events (``SELECT ... FOR UPDATE``: the events
row carries the version, so two writers of one event serialise on it), loads what it
does not already hold in memory, lets :func:`.plan.plan_batch` decide, writes the plan
and commits. The in-memory states are a cache validated by version on every batch:
a state is reused only when MySQL still has the version it was taken at.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import aiomysql

from services.processors.domain.decide import suspend_silent
from services.processors.domain.incoming import Incoming
from services.processors.domain.plan import BatchPlan, LedgerKey, plan_batch
from services.processors.domain.rules import StatefulRules
from services.processors.domain.state import EventState
from services.processors.storage.read import fill_closing_details, load_states
from services.processors.storage.write import plan_sql, write_plan
from shared.enums import MessageKind, Sport
from shared.live import EventSnapshot
from shared.storage.pool import Pool, from_db_datetime, to_db_datetime
from shared.storage.snapshots import FEED_EVENT

# Server and client codes that mean "the database is away or busy": retry the batch.
TRANSIENT_CODES = frozenset({
    1040, 1053, 1205, 1213, 1927, 2002, 2003, 2005, 2006, 2012, 2013, 2014, 2026, 2055,
})
# Codes that say the database or its schema cannot take any batch: a missing table or
# column, no privilege, read-only, full, crashed. Every batch would fail alike, so the
# batch waits (loudly: readiness and metrics say the worker is stalled) rather than
# rejecting good data; the operator's fix lets it through.
SYSTEMIC_CODES = frozenset({
    1015, 1016, 1017, 1021, 1030, 1034, 1036, 1037, 1038, 1041, 1044, 1045, 1046, 1049,
    1054, 1114, 1142, 1143, 1146, 1194, 1195, 1227, 1290, 1792, 1820, 1836, 3098,
})
_DRIVER_FILES = ("/aiomysql/", "/pymysql/", "/asyncio/")

Failure = Literal["transient", "message", "systemic"]
# A batch holding one of these needs what MySQL knows of closed markets (fill_closing_details).
_CLOSING_KINDS = frozenset({MessageKind.SETTLEMENT, MessageKind.CANCEL, MessageKind.ROLLBACK})


@dataclass(frozen=True)
class Prepared:
    """A batch decided ahead, on the states the batch before it (``base``) is committing.

    :meth:`Store.apply` uses it only when what it was decided on is what MySQL has once
    its own transaction holds the locks: ``base`` is the last plan this store committed,
    the ledger holds exactly ``hits`` of the batch's message ids, and every event has the
    version in ``versions`` (None: no such event). Anything else and the batch is
    decided again, as if nothing had been prepared.
    """

    base: BatchPlan
    plan: BatchPlan
    sql: list[str]
    hits: dict[str, LedgerKey]
    versions: dict[str, int | None]


def error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a driver error, if it has one."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None


def classify(exc: BaseException) -> Failure:
    """What a failed batch transaction means, and so what to do about it.

    - ``transient``: MySQL is away or busy (connection lost, refused, deadlock, lock
      wait): retry the same batch later;
    - ``systemic``: the database cannot take any batch (schema, privileges, read-only,
      disk full: :data:`SYSTEMIC_CODES`): keep retrying, loudly, never reject good data;
    - ``message``: anything else, which may be caused by one message's data (a value the
      database refuses, a key conflict, SQL a value broke, a trigger's refusal, an error
      raised while deciding): split the batch to find the message and reject it with the
      database's reason. Should even its rejection fail, the cause was not the message
      (:class:`~.pipeline.BatchProcessor` then waits as for a systemic failure).
    """
    if isinstance(exc, OSError | TimeoutError | aiomysql.InterfaceError):
        return "transient"
    if isinstance(exc, aiomysql.MySQLError):
        code = error_code(exc)
        if isinstance(exc, aiomysql.OperationalError | aiomysql.InternalError) and (
            code is None or code in TRANSIENT_CODES
        ):
            return "transient"
        if code in SYSTEMIC_CODES or isinstance(exc, aiomysql.NotSupportedError):
            return "systemic"
        return "message"
    # aiomysql lets RuntimeError/AttributeError escape when a transport closes under it.
    if isinstance(exc, RuntimeError | AttributeError) and _raised_in_driver(exc):
        return "transient"
    return "message"


def is_transient(exc: BaseException) -> bool:
    """True when retrying the same transaction later may succeed."""
    return classify(exc) == "transient"


def _raised_in_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and any(p in last.tb_frame.f_code.co_filename for p in _DRIVER_FILES)


# Batch transactions run at READ COMMITTED. Under REPEATABLE READ (the server's default)
# locking a batch's events that do not exist yet (``SELECT ... FOR UPDATE``) took gap
# locks on the primary key, and workers of different sports, whose new ids fall in each
# other's gaps, deadlocked on their inserts (error 1213, the batch retried 0.2 s later).
# Nothing here relies on repeatable reads: every read of an event's rows comes after its
# row is locked, and the ledger's unique key settles two workers racing on one message.
# Set once per connection, as a statement both MariaDB and MySQL 8 take.
ISOLATION = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"


class Store:
    """Reads and writes one sport's events in MySQL."""

    def __init__(
        self, pool: Pool, rules: StatefulRules, *, cache_limit: int = 100_000,
        timeout_s: float = 30.0,
    ) -> None:
        self._pool = pool
        self._rules = rules
        self._cache: dict[str, EventState] = {}
        self._cache_limit = cache_limit
        self._timeout = timeout_s
        # The pool's connections already switched to :data:`ISOLATION`.
        self._isolated: weakref.WeakSet[Any] = weakref.WeakSet()
        # One transaction at a time per worker: batches and silence sweeps share the cache.
        self._lock = asyncio.Lock()
        # The plan whose transaction is being written now (while set, the next batch can
        # be decided on its states: :meth:`prepare`), and the last plan committed.
        self._writing: BatchPlan | None = None
        self._writing_now = asyncio.Event()
        self._committed: BatchPlan | None = None
        self.prepared_used = 0
        self.prepared_dropped = 0

    @property
    def sport(self) -> Sport:
        """The sport this store serves."""
        return self._rules.sport

    async def apply(
        self, items: Sequence[Incoming], applied_at: datetime, prepared: Prepared | None = None,
    ) -> BatchPlan:
        """Decide and write one batch in one transaction; returns the committed plan.

        ``prepared`` (from :meth:`prepare`, for these very items) is used when it still
        holds once the events are locked; otherwise the batch is decided here.
        """
        message_ids = list({i.message_id for i in items if i.message_id is not None})
        event_ids = sorted({
            i.message.event_id for i in items if i.message is not None
        })
        closing_events = {
            i.message.event_id for i in items
            if i.message is not None and i.message.kind in _CLOSING_KINDS
        }
        async with self._transaction() as cur:
            # One round trip for both: the events' versions, locked until the COMMIT at the
            # end of the write script, then the ledger rows of the batch's ids (read once
            # the locks are held: whatever another worker committed for these events shows).
            version_rows, hit_rows = await _select_many(cur, [
                f"SELECT id, version FROM events WHERE id IN ({_in(event_ids)}) FOR UPDATE",
                "SELECT message_id, sport, kafka_partition, kafka_offset FROM ledger"
                f" WHERE message_id IN ({_in(message_ids)})",
            ], [*event_ids, *message_ids])
            hits: dict[str, LedgerKey] = {mid: (sport, p, o) for mid, sport, p, o in hit_rows}
            versions = {r[0]: int(r[1]) for r in version_rows}
            sql: list[str] | None = None
            if prepared is not None and self._holds(prepared, hits, versions):
                plan, sql = prepared.plan, prepared.sql
                self.prepared_used += 1
            else:
                if prepared is not None:
                    self.prepared_dropped += 1
                states = await self._load(cur, event_ids, versions)
                for event_id in closing_events:
                    state = states.get(event_id)
                    if state is not None:
                        states[event_id] = await fill_closing_details(cur, state)
                plan = plan_batch(items, states, hits, self._rules, applied_at)
            self._writing = plan
            self._writing_now.set()
            try:
                await write_plan(cur, plan, commit=True, sql=sql)
            finally:
                self._writing = None
                self._writing_now.clear()
        self._committed = plan
        self._remember(plan.before, plan.after)
        return plan

    async def writing(self) -> None:
        """Return once a batch's transaction is being written (its plan is decided)."""
        await self._writing_now.wait()

    def prepare(self, items: Sequence[Incoming], applied_at: datetime) -> Prepared | None:
        """Decide ``items`` now, on the states of the batch being written, so that the CPU
        work overlaps that batch's round trip; None when it cannot be done without MySQL
        (nothing is being written, an event neither that batch nor memory holds, or a
        settlement, cancel or rollback, which read what MySQL knows of closed markets)."""
        base = self._writing
        if base is None:
            return None
        event_ids: set[str] = set()
        for item in items:
            msg = item.message
            if msg is not None:
                if msg.kind in _CLOSING_KINDS:
                    return None
                event_ids.add(msg.event_id)
        states: dict[str, EventState | None] = {}
        for event_id in sorted(event_ids):
            if event_id in base.after:
                states[event_id] = base.after[event_id]
            elif event_id in base.before:
                states[event_id] = base.before[event_id]
            elif (cached := self._cache.get(event_id)) is not None:
                states[event_id] = cached
            else:
                return None
        ids = {i.message_id for i in items if i.message_id is not None}
        # What the ledger will hold of these ids once the base commits: its own rows (a
        # row committed before it shows in MySQL's answer and drops the prepared plan).
        hits: dict[str, LedgerKey] = {
            r.message_id: (r.sport.value, r.partition, r.offset)
            for r in base.ledger if r.message_id in ids
        }
        plan = plan_batch(items, states, hits, self._rules, applied_at)
        return Prepared(base=base, plan=plan, sql=plan_sql(plan), hits=hits, versions={
            e: s.version if s is not None else None for e, s in states.items()})

    def _holds(self, prepared: Prepared, hits: dict[str, LedgerKey],
               versions: dict[str, int]) -> bool:
        """True when MySQL, locked now, has what ``prepared`` was decided on."""
        return (prepared.base is self._committed and hits == prepared.hits
                and all(versions.get(e) == v for e, v in prepared.versions.items()))

    async def suspend_silent_provider(
        self, provider: str, silent_since: datetime, now: datetime
    ) -> BatchPlan | None:
        """Suspend the active markets of a silent provider in this sport, in one transaction.

        Idempotent (a market already suspended is left alone), so several workers of a
        sport may all run it: the event locks serialise them and the second finds nothing.
        """
        async with self._connection() as cur:
            await cur.execute(
                "SELECT DISTINCT m.event_id FROM markets m JOIN events e ON e.id = m.event_id"
                " WHERE m.provider = %s AND m.status = 'active' AND e.sport = %s",
                (provider, self.sport.value),
            )
            candidates = sorted(row[0] for row in await cur.fetchall())
        if not candidates:
            return None
        async with self._transaction() as cur:
            (version_rows,) = await _select_many(cur, [
                f"SELECT id, version FROM events WHERE id IN ({_in(candidates)}) FOR UPDATE"
            ], candidates)
            states = await self._load(cur, candidates, {r[0]: int(r[1]) for r in version_rows})
            plan = BatchPlan(applied_at=now, before=dict(states))
            for event_id, state in states.items():
                decision = suspend_silent(state, provider, now) if state else None
                if decision is None or decision.state is None or decision.delta is None:
                    continue
                plan.after[event_id] = decision.state
                plan.deltas.append(decision.delta)
                plan.odds.extend(decision.odds)
            await cur.execute(
                "UPDATE provider_liveness SET suspended_at = %s WHERE provider = %s"
                " AND last_alive_at = %s",
                (to_db_datetime(now), provider, to_db_datetime(silent_since)),
            )
            await write_plan(cur, plan, commit=True)
        self._committed = plan
        self._remember(plan.before, plan.after)
        return plan if plan.deltas else None

    async def liveness(self) -> dict[str, datetime]:
        """Each known provider's newest alive time."""
        async with self._connection() as cur:
            await cur.execute("SELECT provider, last_alive_at FROM provider_liveness")
            rows = await cur.fetchall()
        return {provider: from_db_datetime(ts) for provider, ts in rows}

    async def snapshots(self, event_ids: Iterable[str] | None = None) -> list[EventSnapshot]:
        """Snapshots as MySQL has them: the given events, or every event of the sport the
        feed carried (imported history is served from MySQL, never cached)."""
        async with self._connection() as cur:
            if event_ids is None:
                await cur.execute(
                    f"SELECT e.id FROM events e WHERE e.sport = %s AND {FEED_EVENT}",
                    (self.sport.value,),
                )
                ids = [row[0] for row in await cur.fetchall()]
            else:
                ids = sorted(set(event_ids))
            snapshots: list[EventSnapshot] = []
            for start in range(0, len(ids), 500):
                states = await load_states(cur, ids[start : start + 500])
                snapshots.extend(s.snapshot() for s in states.values())
        return snapshots

    async def ping(self) -> None:
        """Raise unless MySQL answers."""
        async with asyncio.timeout(3), self._connection() as cur:
            await cur.execute("SELECT 1")
            await cur.fetchone()

    # -- internals ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        """A locked transaction whose body ends with its own ``COMMIT`` (see write_plan)."""
        async with self._lock, self._connection(commit=False) as cur:
            yield cur

    @contextlib.asynccontextmanager
    async def _connection(self, *, commit: bool = True) -> AsyncIterator[Any]:
        """A cursor in a transaction that commits on success and is discarded on error."""
        conn = None
        try:
            async with asyncio.timeout(self._timeout):
                conn = await self._pool.acquire()
                async with conn.cursor() as cur:
                    if conn not in self._isolated:
                        await cur.execute(ISOLATION)
                        self._isolated.add(conn)
                    yield cur
                if commit:
                    await conn.commit()
        except BaseException as exc:
            if conn is not None:
                # A connection in an unknown state is closed, not returned to the pool
                # (the server rolls back whatever the transaction had done).
                conn.close()
            # Idle connections go too: after an outage they are dead, and after any other
            # failure a fresh connection picks up whatever an operator fixed server-side.
            if isinstance(exc, Exception):
                await self.forget_idle_connections()
            raise
        finally:
            if conn is not None:
                self._pool.release(conn)

    async def forget_idle_connections(self) -> None:
        """Drop the pool's idle connections: after an outage they are all dead."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self._pool.clear()

    async def _load(
        self, cur: Any, event_ids: Sequence[str], versions: dict[str, int]
    ) -> dict[str, EventState | None]:
        """The events' states: from memory when MySQL still has that version, else loaded."""
        states: dict[str, EventState | None] = {}
        missing = []
        for event_id in event_ids:
            cached = self._cache.get(event_id)
            if event_id not in versions:
                states[event_id] = None
            elif cached is not None and cached.version == versions[event_id]:
                states[event_id] = cached
            else:
                missing.append(event_id)
        loaded = await load_states(cur, missing)
        for event_id in missing:
            states[event_id] = loaded.get(event_id)
        return states

    def _remember(
        self, before: dict[str, EventState | None], after: dict[str, EventState]
    ) -> None:
        # Only committed states are cached; a failed batch leaves memory as it was.
        if self._cache_limit <= 0:
            return
        if len(self._cache) + len(before) > self._cache_limit:
            self._cache.clear()
        for event_id, state in before.items():
            if state is not None:
                self._cache[event_id] = after.get(event_id, state)
        for event_id, state in after.items():
            self._cache[event_id] = state


def _in(values: Sequence[str]) -> str:
    """Placeholders of an IN list; ``NULL`` (matching nothing) when empty."""
    return ", ".join(["%s"] * len(values)) or "NULL"


async def _select_many(
    cur: Any, queries: Sequence[str], args: Sequence[Any]
) -> list[list[tuple[Any, ...]]]:
    """Run several SELECTs in one round trip, parameters bound by the driver; their rows."""
    await cur.execute(";\n".join(queries), tuple(args))
    results = [list(await cur.fetchall())]
    while await cur.nextset():
        results.append(list(await cur.fetchall()))
    return results
