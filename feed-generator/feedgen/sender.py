"""Posting the plan to ingestion: pacing, batching, retries, and the record of each answer.

One dispatcher walks the plan: it waits for each message's due time and for a token
(``rate`` messages/s, raised in ``burst`` windows) and hands it to a worker. Workers
are keyed by (format, hash of event id), and each sends its requests one at a time,
so the messages of one event reach ingestion, and therefore Kafka, in plan order;
concurrency comes from many events. A worker batches what is queued (up to
``batch_size`` messages, 900 kB; UOF and broken payloads go alone) and posts it.

Answers: ``202`` names accepted and refused messages; ``400``/``413``/``415``/``422``
refuse the request's messages; ``429`` and ``503`` (and network errors, 5xx) are
retried with exponential backoff and jitter (``shared.retry``), never sooner than
``Retry-After``, at most ``max_retries`` times, after which the messages are "unacknowledged". A ``503``
that lists accepted and failed messages retries only the failed ones. ``401``/``403``
stop the run: no key works for a second message if it did not for the first.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import aiohttp

from feedgen.emit import CONTENT_TYPES, Fmt, batch, target
from feedgen.faults import FaultPlan
from feedgen.plan import Planned
from feedgen.record import Outcome, RunRecord, SendRecord
from feedgen.settings import RunOptions
from feedgen.stats import Stats, TokenBucket
from shared.retry import RetryCallState, retrying

MAX_BODY_BYTES = 900_000
BACKOFF_BASE_S, BACKOFF_CAP_S = 0.2, 10.0
REFUSING = frozenset({400, 413, 415, 422})


class AuthRefused(RuntimeError):
    """Ingestion refused the API key (401/403): the run cannot go on."""


class _Again(Exception):
    """A try left messages without a final answer: retried after a backoff."""

    def __init__(self, why: str, retry_after: str | None) -> None:
        super().__init__(why)
        self.why = why
        self.retry_after = float(retry_after) if retry_after and retry_after.isdigit() else 0.0


@dataclass
class _Job:
    planned: Planned
    n: int
    attempts: int = 0
    partial: bool = False


_STOP = object()


class Sender:
    """Sends one run's plan and records every answer."""

    def __init__(self, opts: RunOptions, session: aiohttp.ClientSession, stats: Stats,
                 record: RunRecord, stop: asyncio.Event) -> None:
        if opts.api_key is None:
            raise ValueError("no API key: set SPORTSFEED_FEEDGEN_API_KEY or pass --api-key")
        self.opts, self.session, self.stats, self.record, self.stop = (
            opts, session, stats, record, stop)
        self.headers = {"Authorization": f"Bearer {opts.api_key.get_secret_value()}"}
        self.jitter = random.Random()  # timing only: never touches what is sent
        self.linger = opts.linger
        self.error: BaseException | None = None

    async def run(self, plan: AsyncGenerator[Planned, None], faults: FaultPlan) -> None:
        """Send every planned message (until the plan ends, the deadline or ``stop``)."""
        loop = asyncio.get_running_loop()
        queues: dict[tuple[Fmt, int], asyncio.Queue[Any]] = {
            (fmt, n): asyncio.Queue(maxsize=4 * self.opts.batch_size)
            for fmt in Fmt for n in range(self.opts.workers)
        }
        workers = [asyncio.create_task(self._worker(fmt, q), name=f"feedgen-{fmt}-{n}")
                   for (fmt, n), q in queues.items()]
        bucket = TokenBucket(lambda t: self.opts.rate * faults.burst_factor(t))
        started = loop.time()
        deadline = started + self.opts.duration + self.opts.drain
        n = 0
        try:
            async for planned in plan:
                if self.stop.is_set() or loop.time() > deadline:
                    break
                delay = started + planned.at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.stats.behind = max(0.0, -delay)
                await bucket.take()
                shard = zlib.crc32(planned.event_id.encode()) % self.opts.workers
                self.stats.planned += 1
                if planned.fault:
                    name = planned.fault.split(":", 1)[0]
                    self.stats.faults[name] = self.stats.faults.get(name, 0) + 1
                await self._put(queues[(planned.fmt, shard)], _Job(planned, n))
                n += 1
        finally:
            await plan.aclose()
            for q in queues.values():
                await self._put(q, _STOP)
            await asyncio.gather(*workers, return_exceptions=True)
            self.record.flush()
        if self.error is not None:
            raise self.error

    async def _put(self, queue: asyncio.Queue[Any], item: Any) -> None:
        try:
            queue.put_nowait(item)  # the common case, without a task for wait_for
            return
        except asyncio.QueueFull:
            pass
        while True:
            try:
                await asyncio.wait_for(queue.put(item), timeout=1.0)
                return
            except TimeoutError:
                if self.error is not None and item is not _STOP:
                    raise self.error from None

    async def _worker(self, fmt: Fmt, queue: asyncio.Queue[Any]) -> None:
        loop = asyncio.get_running_loop()
        pending: Any = None
        while True:
            job = pending if pending is not None else await queue.get()
            pending = None
            if job is _STOP:
                return
            jobs: list[_Job] = [job]
            if fmt is not Fmt.UOF and not job.planned.alone:
                size, until = len(job.planned.payload), loop.time() + self.linger
                while len(jobs) < self.opts.batch_size:
                    try:
                        nxt = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        try:
                            nxt = await asyncio.wait_for(queue.get(), until - loop.time())
                        except TimeoutError:
                            break
                    if nxt is _STOP or nxt.planned.alone or (
                            size + len(nxt.planned.payload) > MAX_BODY_BYTES):
                        pending = nxt
                        break
                    jobs.append(nxt)
                    size += len(nxt.planned.payload)
            if self.error is None:
                try:
                    await self._send(fmt, jobs)
                except AuthRefused as exc:
                    self.error = exc
                    self.stop.set()

    async def _send(self, fmt: Fmt, jobs: list[_Job]) -> None:
        """One request's messages, retried (:mod:`shared.retry`) until each has a final
        answer: at most ``max_retries`` more tries, never sooner than ``Retry-After``."""
        pending = list(jobs)

        def retry_after(state: RetryCallState) -> float:
            again = state.outcome.exception() if state.outcome is not None else None
            return again.retry_after if isinstance(again, _Again) else 0.0

        def counted(state: RetryCallState) -> None:
            self.stats.retries += len(pending)

        policy = retrying(initial_s=BACKOFF_BASE_S, max_s=BACKOFF_CAP_S, jitter=0.5,
                          rng=self.jitter, retry_on=_Again, max_tries=self.opts.max_retries + 1,
                          give_up=self.stop.is_set, at_least=retry_after, before_sleep=counted)
        try:
            async for attempt in policy:
                with attempt:
                    await self._post(fmt, pending)
        except _Again as exc:
            self._finish(pending, "unacknowledged", None,
                         f"gave up after {pending[0].attempts} tries: {exc.why}")

    async def _post(self, fmt: Fmt, jobs: list[_Job]) -> None:
        """One try: ``jobs`` keeps those still to send, :class:`_Again` says why."""
        for job in jobs:
            job.attempts += 1
        body = batch(fmt, [j.planned.payload for j in jobs]) if not jobs[0].planned.alone \
            else jobs[0].planned.payload
        url = self.opts.url + target(fmt, jobs[0].planned.sport)
        headers = {**self.headers, "Content-Type": CONTENT_TYPES[fmt]}
        began = time.monotonic()
        try:
            async with self.session.post(url, data=body, headers=headers) as response:
                status = response.status
                text = await response.read()
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Again(f"{type(exc).__name__}: {exc}", None) from exc
        self.stats.request_done(status, time.monotonic() - began, len(jobs))
        answer = _json(text)
        if status in (401, 403):
            self._finish(jobs, "unacknowledged", status, str(answer.get("error", status)))
            raise AuthRefused(f"ingestion refused the API key: {status} "
                              f"{answer.get('error', '')}")
        if status == 202 or (status == 503 and answer.get("failed")):
            jobs[:] = self._answered(fmt, jobs, status, answer)
            if jobs:
                raise _Again("not acknowledged", retry_after)
            return
        if status in REFUSING:
            self._refused(jobs, status, answer)
            return
        raise _Again(f"HTTP {status} {answer.get('error')}", retry_after)

    def _answered(self, fmt: Fmt, jobs: list[_Job], status: int,
                  answer: dict[str, Any]) -> list[_Job]:
        """Record the accepted and refused; return the jobs still to retry."""
        refused = {r.get("index"): r for r in answer.get("refused") or []}
        accepted = [a.get("message_id") for a in answer.get("accepted") or []]
        failed = {f.get("message_id") for f in answer.get("failed") or []}
        retry: list[_Job] = []
        for index, job in enumerate(jobs):
            planned = job.planned
            refusal = refused.get(index) or (refused.get(None) if fmt is Fmt.UOF else None)
            if refusal is not None:
                self._finish([job], "refused", status, refusal.get("reason"))
            elif fmt is Fmt.UOF and accepted:
                self._finish([job], "accepted", status, None, message_id=accepted[0])
            elif planned.message_id in accepted:
                self._finish([job], "accepted", status, None)
            elif status == 503 and (planned.message_id in failed or fmt is Fmt.UOF):
                job.partial = job.partial or bool(accepted)
                retry.append(job)
            else:
                self._finish([job], "unacknowledged", status, "not named in the answer")
        return retry

    def _refused(self, jobs: list[_Job], status: int, answer: dict[str, Any]) -> None:
        by_index = {r.get("index"): r for r in answer.get("refused") or []}
        for index, job in enumerate(jobs):
            reason = (by_index.get(index) or by_index.get(None) or {}).get("reason")
            self._finish([job], "refused", status, reason or str(answer.get("error", status)))

    def _finish(self, jobs: list[_Job], outcome: Outcome, status: int | None,
                reason: str | None, *, message_id: str | None = None) -> None:
        for job in jobs:
            p = job.planned
            self.record.write(SendRecord(
                n=job.n, message_id=message_id or p.message_id, event_id=p.event_id,
                sport=p.sport.value, kind=p.kind.value, format=p.fmt.value, expect=p.expect.value,
                outcome=outcome, fault=p.fault, after=p.after, reason=reason, http=status,
                attempts=job.attempts, partial=job.partial, at=round(p.at, 3),
            ))
            self.stats.sent += 1
            if outcome == "accepted":
                self.stats.accepted += 1
            elif outcome == "refused":
                self.stats.refused += 1
            else:
                self.stats.unacknowledged += 1


def _json(raw: bytes) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw)
    except ValueError:
        return {"error": raw[:200].decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"error": str(value)[:200]}
