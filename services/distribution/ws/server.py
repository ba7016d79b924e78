"""The WebSocket server (websockets' asyncio API): handshake, consumer keys, client messages.

Keys, scopes and limits are :mod:`.access`'s: the handshake's key is checked in
``process_request`` (401/403 there), a first message's before anything else is done.

Frames go out through :class:`WebSocketSink`, which writes the hub's pre-built frames
straight to the connection's transport, the way ``websockets.broadcast`` does: no
per-client encoding and no await per message. websockets keeps everything else:
the handshake, incoming frames, keepalive pings and the closing handshake (compression
is off, so a frame built once is valid on every connection).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import weakref

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from services.distribution.access import Access
from services.distribution.keys import ConsumerKey
from services.distribution.settings import DistributionSettings
from services.distribution.ws.access import CLOSE_TOO_MANY, Denied, WsAccess
from services.distribution.ws.client import ClientSession
from services.distribution.ws.frames import utc_iso
from services.distribution.ws.hub import Hub
from services.distribution.ws.outbox import Outbox
from services.distribution.ws.protocol import (
    Auth,
    BadMessage,
    ClientMessage,
    Heartbeat,
    Resume,
    Resync,
    Subscribe,
    Unsubscribe,
    parse_client_message,
    token_of,
)
from services.distribution.ws.subscriptions import Subscription, normalise_markets

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1


class WebSocketSink:
    """A websockets connection as the session's :class:`~.client.Sink`."""

    def __init__(self, conn: ServerConnection, close_timeout_s: float) -> None:
        self._conn = conn
        self._protocol = conn.protocol
        self._transport = conn.transport
        self._close_timeout = close_timeout_s

    def is_open(self) -> bool:
        """True while the connection is open (not closing)."""
        return self._protocol.state is State.OPEN

    def buffered(self) -> int:
        """Bytes in the transport's buffer."""
        return self._transport.get_write_buffer_size()

    def write(self, frames: list[bytes]) -> None:
        """Hand whole frames to the transport (one system call for the lot).

        Nothing is written once the closing handshake started: a data frame after our
        close frame would break the protocol.
        """
        if self._protocol.state is State.OPEN:
            self._transport.writelines(frames)

    async def close(self, code: int, reason: str) -> None:
        """Closing handshake, bounded: a peer that does not read is cut off."""
        try:
            async with asyncio.timeout(self._close_timeout):
                await self._conn.close(code, reason)
        except TimeoutError:
            self._conn.transport.abort()


class WebSocketServer:
    """Serves clients on ``ws_port`` and hands their requests to the hub."""

    def __init__(self, settings: DistributionSettings, hub: Hub, access: Access) -> None:
        self._settings = settings
        self._hub = hub
        self.keys = WsAccess(access, settings.ws_auth_timeout_s)
        # The key a handshake presented, until its connection's handler takes it.
        self._handshake_keys: weakref.WeakKeyDictionary[ServerConnection, ConsumerKey] = (
            weakref.WeakKeyDictionary())
        self._server: Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen."""
        s = self._settings
        self._server = await serve(
            self._handle, s.host, s.ws_port, compression=None,
            process_request=self._check_handshake, ping_interval=s.ping_interval_s,
            ping_timeout=s.ping_timeout_s, close_timeout=s.close_timeout_s,
            max_size=s.max_message_bytes, max_queue=64, write_limit=s.write_buffer_high,
            reuse_address=True, backlog=2048,
        )

    async def stop(self) -> None:
        """Close every connection with 1001 (going away) and stop listening."""
        if self._server is not None:
            self._server.close(close_connections=True)
            try:
                async with asyncio.timeout(self._settings.close_timeout_s + 1):
                    await self._server.wait_closed()
            except TimeoutError:
                log.warning("some WebSocket connections did not close in time")

    def _check_handshake(self, conn: ServerConnection, request: Request) -> Response | None:
        # A key in the handshake is checked here (401/403 before the upgrade); without
        # one, the first message must carry it.
        found = self.keys.handshake(request)
        if isinstance(found, Response):
            return found
        if found is not None:
            self._handshake_keys[conn] = found
        return None

    async def _handle(self, conn: ServerConnection) -> None:
        s = self._settings
        if s.socket_sndbuf:
            sock = conn.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, s.socket_sndbuf)
        client = ClientSession(
            WebSocketSink(conn, s.close_timeout_s),
            outbox=Outbox(conflate_at=s.queue_conflate_at, max_items=s.queue_max),
            write_high=s.write_buffer_high, max_lag_s=s.max_lag_s,
        )
        key = self._handshake_keys.pop(conn, None)
        if key is not None and (denied := self.keys.admit(client, key)) is not None:
            await self._refuse(conn, denied, key)
            return
        self._hub.register(client)
        writer = asyncio.get_running_loop().create_task(client.run_writer())
        client.push_control(
            "welcome", session=client.id, protocol=PROTOCOL_VERSION, server_time=utc_iso(),
            heartbeat_s=s.heartbeat_s, token_required=key is None,
            key=key.name if key is not None else None,
        )
        client.flush()
        timer = None if key is not None else asyncio.get_running_loop().call_later(
            self.keys.auth_timeout_s, lambda: self.keys.close(client, self.keys.timed_out()))
        try:
            async for raw in conn:
                if client.closed or client.kill_reason is not None:
                    break
                try:
                    message = parse_client_message(raw)
                except BadMessage as exc:
                    client.push_control("error", code="bad_request", field=exc.field,
                                        message=exc.detail)
                    client.flush()
                    continue
                if key is None:
                    found = self.keys.first_message(token_of(message))
                    denied = found if isinstance(found, Denied) else self.keys.admit(client, found)
                    if denied is not None:
                        await self._refuse(conn, denied,
                                           found if isinstance(found, ConsumerKey) else None)
                        break
                    assert isinstance(found, ConsumerKey)
                    key = found
                    if timer is not None:
                        timer.cancel()
                await self._on_message(client, message)
                client.flush()
        except ConnectionClosed:
            pass
        finally:
            if timer is not None:
                timer.cancel()
            self._hub.unregister(client)
            self.keys.release(client)
            await client.wait_writer(writer)

    async def _refuse(self, conn: ServerConnection, denied: Denied, key: ConsumerKey | None) -> None:
        """Close a refused connection; one over its key's connection limit after the key's
        refusal pause (as REST's 429s), so that a client reconnecting in a loop slows down."""
        if key is not None and denied.code == CLOSE_TOO_MANY:
            await self.keys.access.pause_refusal(key.name)
        await conn.close(denied.code, denied.reason)

    async def _on_message(self, client: ClientSession, message: ClientMessage) -> None:
        if isinstance(message, Subscribe | Resume):
            await self._subscribe(client, message)
        elif isinstance(message, Unsubscribe):
            before, shapes = client.subs.event_ids(), client.shapes()
            dropped = client.subs.remove(
                sub_id=message.id, sports=message.sports, event_ids=message.event_ids,
                markets=message.markets,
            )
            self._hub.update_subscriptions(client, before, shapes)
            client.push_control("unsubscribed", ids=dropped)
        elif isinstance(message, Resync):
            count = self._hub.resync(client, message.event_ids)
            client.push_control("resyncing", events=count)
        elif isinstance(message, Heartbeat):
            client.push_control("heartbeat", ts=utc_iso(), echo=message.ts)
        elif isinstance(message, Auth):
            key = self.keys.key(client)
            client.push_control("authenticated", key=key.name if key is not None else None,
                                scopes=key.scope_words() if key is not None else [])

    async def _subscribe(self, client: ClientSession, message: Subscribe | Resume) -> None:
        if isinstance(message, Resume):
            resume, sports, event_ids = dict(message.events), [], list(message.events)
        else:
            resume, sports, event_ids = dict(message.resume), message.sports, message.event_ids
            event_ids = list(dict.fromkeys([*event_ids, *resume]))
        if not sports and not event_ids:
            client.push_control("error", code="bad_request", field="sports",
                                message="subscribe names sports, event_ids or resume")
            return
        # Sports outside the key are left out (an error frame names them), model frames
        # need predictions; a subscription left with nothing is not made.
        sports, model = self.keys.narrow(client, sports, message.model)
        if not sports and not event_ids:
            return
        try:
            markets = normalise_markets(message.markets)
        except ValueError as exc:
            client.push_control("error", code="bad_request", field="markets", message=str(exc))
            return
        conflate = message.conflate_ms
        sub = Subscription(
            id=message.id or client.subs.next_id(), sports=frozenset(sports),
            event_ids=frozenset(event_ids), markets=markets,
            conflate_ms=self._settings.conflate_ms_default if conflate is None else conflate,
            model=model,
        )
        if self.keys.over_limit(client, sub):
            return
        before, shapes = client.subs.event_ids(), client.shapes()
        client.subs.add(sub)
        self._hub.update_subscriptions(client, before, shapes)
        client.push_control(
            "subscribed", id=sub.id, sports=sorted(s.value for s in sub.sports),
            event_ids=sorted(sub.event_ids),
            markets=None if markets is None else sorted(markets), conflate_ms=sub.conflate_ms,
            model=sub.model,
        )
        client.flush()
        await self._hub.follow(client, event_ids=event_ids, sports=sports, resume=resume,
                               model=sub.model)
