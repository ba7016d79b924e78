"""Driving the Python client (``sportsfeed_client``) in tests: follow in the background,
wait for a condition on what it holds (this module holds no tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from shared.enums import Sport
from sportsfeed_client import FeedClient, Update
from tests.support.consumer_keys import TEST_KEY


class Following:
    """A :class:`FeedClient` following in a background task, keeping every update."""

    def __init__(self, client: FeedClient, **follow: Any) -> None:
        self.client = client
        self.updates: list[Update] = []
        self._follow = follow
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    async def _run(self) -> None:
        try:
            async for update in self.client.follow(**self._follow):
                self.updates.append(update)
                self._changed.set()
        except Exception as exc:  # AuthError, SubscriptionError: kept for the test to see
            self.error = exc
            self._changed.set()

    def start(self) -> Following:
        """Follow in the background."""
        self._task = asyncio.create_task(self._run(), name="feed-client")
        return self

    async def stop(self) -> None:
        """Stop following (closes the connection)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def until(self, check: Callable[[FeedClient], bool], within: float = 20.0,
                    what: str = "the client's state") -> None:
        """Wait until ``check(client)`` holds (raises ``TimeoutError`` naming ``what``)."""
        try:
            async with asyncio.timeout(within):
                while not check(self.client):
                    if self.error is not None:
                        raise self.error
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.5):
                            await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"{what} not reached in {within} s: versions "
                               f"{self.client.versions}, stats {self.client.stats}") from None

    def kinds(self, event_id: str) -> list[tuple[str, int]]:
        """The (kind, version) of every update of an event, in order."""
        return [(u.kind, u.state.version if u.state else -1) for u in self.updates
                if u.event_id == event_id]


@asynccontextmanager
async def following(url: str, *, sports: Iterable[Sport] = (), token: str | None = TEST_KEY,
                    **follow: Any) -> AsyncIterator[Following]:
    """A client following ``url`` in the background for the duration of the block (with the
    tests' consumer key unless ``token`` says otherwise)."""
    client = FeedClient(url, token=token, reconnect_initial_s=0.2, reconnect_max_s=2.0)
    run = Following(client, sports=list(sports), **follow).start()
    try:
        yield run
    finally:
        await run.stop()
