"""The whole distribution process: pools, fan-out consumer, WebSocket server and REST app.

:class:`DistributionService` is an async context manager; tests run it in-process
(ports 0 pick free ones), ``__main__`` runs it until SIGTERM. Shutdown order: refuse
new work, close WebSocket clients with 1001, stop the consumer, stop the REST app,
then close the Redis and MySQL pools.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from types import TracebackType

from aiohttp import web

from services.distribution.access import Access, AccessCollector
from services.distribution.keys import KeyConfigError
from services.distribution.metrics import DistributionMetrics
from services.distribution.rest.app import create_app
from services.distribution.rest.context import DetailCache, RestContext
from services.distribution.rest.history_queries import HistoryQueries
from services.distribution.rest.ops import PrometheusClient
from services.distribution.rest.queries import Queries
from services.distribution.settings import DistributionSettings
from services.distribution.snapshots import SnapshotSource
from services.distribution.ws.fanout import Fanout
from services.distribution.ws.hub import Hub
from services.distribution.ws.server import WebSocketServer
from shared.cache import open_cache
from shared.storage.pool import create_pool

log = logging.getLogger(__name__)


class DistributionService:
    """REST + WebSocket + fan-out, started and stopped together."""

    def __init__(
        self, settings: DistributionSettings, *, metrics: DistributionMetrics | None = None
    ) -> None:
        self.settings = settings
        self.metrics = metrics or DistributionMetrics()
        # Keys are read here: a configuration error stops the service before it listens.
        self.access = Access(settings)
        self.metrics.registry.register(AccessCollector(self.access))
        self._stack = AsyncExitStack()
        self._runner: web.AppRunner | None = None
        self._heartbeats: asyncio.Task[None] | None = None
        self._ctx: RestContext | None = None
        self.hub: Hub | None = None
        self.fanout: Fanout | None = None
        self.ws: WebSocketServer | None = None

    async def __aenter__(self) -> DistributionService:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Open the pools, join the updates topics, listen on both ports."""
        s = self.settings
        pool = await self._stack.enter_async_context(create_pool(s.mysql))
        cache = await self._stack.enter_async_context(open_cache(s.redis))
        source = SnapshotSource(cache, pool)
        self.hub = hub = Hub(source, s)
        details = DetailCache(s.detail_cache_s)
        hub.listeners.append(details.on_delta)
        self.fanout = Fanout(s, hub)
        self.metrics.hub, self.metrics.fanout = hub, self.fanout
        await self.fanout.start()
        self.ws = WebSocketServer(s, hub, self.access)
        await self.ws.start()
        prometheus = await self._stack.enter_async_context(PrometheusClient(s.prometheus_url))
        self._ctx = RestContext(
            settings=s, queries=Queries(pool), source=source, metrics=self.metrics, pool=pool,
            cache=cache, fanout=self.fanout, details=details, history=HistoryQueries(pool),
            prometheus=prometheus,
        )
        app = create_app(self._ctx, self.access, ws_port=self.ws.port if s.ws_port == 0 else s.ws_port)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=s.shutdown_grace_s
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, s.host, s.rest_port, backlog=2048, reuse_address=True)
        await site.start()
        self._heartbeats = asyncio.get_running_loop().create_task(hub.run_heartbeats())
        log.info("distribution: REST http://%s:%d, WebSocket ws://%s:%d, group %s",
                 s.host, self.rest_port, s.host, self.ws_port, s.consumer_group)
        self.access.log_start()

    def reload_keys(self) -> bool:
        """Read the consumer keys again (SIGHUP): revoked keys are refused from their next
        request and their sockets closed. On an error the keys in force stay."""
        try:
            self.access.reload()
        except KeyConfigError as exc:
            log.error("consumer keys not reloaded, the keys in force stay: %s", exc)
            return False
        return True

    @property
    def rest_port(self) -> int:
        """The REST port actually bound."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("service not started")
        return int(self._runner.addresses[0][1])

    @property
    def ws_port(self) -> int:
        """The WebSocket port actually bound."""
        if self.ws is None:
            raise RuntimeError("service not started")
        return self.ws.port

    @property
    def rest_url(self) -> str:
        """Base URL of the REST app."""
        return f"http://{self.settings.host}:{self.rest_port}"

    @property
    def ws_url(self) -> str:
        """URL of the WebSocket server."""
        return f"ws://{self.settings.host}:{self.ws_port}/"

    async def stop(self) -> None:
        """Close clients (1001), stop the consumer and the REST app, close the pools."""
        if self._ctx is not None:
            self._ctx.closing = True
        if self.ws is not None:
            await self.ws.stop()
        if self._heartbeats is not None:
            self._heartbeats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeats
        if self.fanout is not None:
            await self.fanout.stop()
        if self.hub is not None:
            await self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._stack.aclose()
