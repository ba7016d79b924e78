"""Consumer keys on the WebSocket: the handshake or the first message, scopes, limits, revocation.

A client presents its key in the handshake (``Authorization: Bearer <key>``, or the
``token`` query parameter) or in its first message (``auth``, or ``token`` on
``subscribe`` / ``resume``). A key needs the ``ws`` surface. Then:

- the key's connections are counted: one over its limit is closed with **4029**;
- a subscription's sports outside the key are left out (an ``error`` frame with code
  ``forbidden`` names them) and no event of theirs ever reaches the client (the
  client's :class:`~.subscriptions.Subscriptions` has no view of them); ``model: true``
  needs ``predictions``;
- sports and events followed over all the key's connections are counted: a subscribe
  that would pass the limit is refused with an ``error`` frame (code ``limit``);
- when the keys are reloaded (SIGHUP), the sockets of a key that went are closed with
  **4001** ("key revoked"), those of a key whose scopes changed with **4003**.

A connection that presents no valid key is closed with **4001**; one without the ``ws``
surface with **4003**; one that says nothing for ``ws_auth_timeout_s`` with 4001.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from services.distribution.access import OPEN_KEY, UNIDENTIFIED, Access, KeyUsage, Refusal
from services.distribution.keys import ConsumerKey, KeyTable
from services.distribution.ws.client import ClientSession
from services.distribution.ws.subscriptions import Subscription
from shared.enums import Sport
from shared.keys import BearerProblem, bearer_token

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4001  # no valid key: missing, unknown, revoked, or none in time
CLOSE_FORBIDDEN = 4003  # the key lacks the ws surface, or its scopes changed
CLOSE_TOO_MANY = 4029  # the key's connection limit


@dataclass(frozen=True)
class Denied:
    """A connection refused: close code and reason (at most 123 bytes on the wire)."""

    code: int
    reason: str


def query_token(path: str) -> str | None:
    """The ``token`` query parameter of the request path."""
    values = parse_qs(urlsplit(path).query).get("token")
    return values[0] if values else None


def _http(status: HTTPStatus, text: str) -> Response:
    return Response(status.value, status.phrase, Headers([("Content-Type", "text/plain")]),
                    f"{text}\n".encode())


class WsAccess:
    """Which key each connection runs as, and what each key holds."""

    def __init__(self, access: Access, auth_timeout_s: float) -> None:
        self.access = access
        self.auth_timeout_s = auth_timeout_s
        self._keys: dict[ClientSession, ConsumerKey] = {}
        self._by_name: dict[str, set[ClientSession]] = {}
        self._retired: Counter[str] = Counter()  # messages written to closed clients, by key
        self._closing: set[asyncio.Task[None]] = set()
        access.listeners.append(self._on_reload)
        access.ws_usage = self.usage

    @property
    def enabled(self) -> bool:
        """False when the check is off (every connection runs as the open key)."""
        return self.access.enabled

    # -- presenting a key ----------------------------------------------------------------------

    def handshake(self, request: Request) -> ConsumerKey | Response | None:
        """The key of the handshake (header, else ``?token=``), an HTTP refusal, or None
        when the handshake carries none (the first message must)."""
        if not self.enabled:
            return OPEN_KEY
        header = request.headers.get("Authorization")
        token: str | BearerProblem | None = bearer_token(header) if header else query_token(request.path)
        if token is None:
            return None
        key = self.access.authenticate(token) if isinstance(token, str) else None
        if key is None:
            self.access.refuse(UNIDENTIFIED, Refusal.INVALID_KEY)
            return _http(HTTPStatus.UNAUTHORIZED, "invalid consumer key")
        if not key.allows("ws"):
            self.access.refuse(key.name, Refusal.SURFACE)
            return _http(HTTPStatus.FORBIDDEN, f"key {key.name!r} does not allow the ws surface")
        return key

    def first_message(self, token: str | None) -> ConsumerKey | Denied:
        """The key of a connection's first message, or why it is closed."""
        if token is None:
            self.access.refuse(UNIDENTIFIED, Refusal.MISSING_KEY)
            return Denied(CLOSE_UNAUTHORIZED, "a consumer key is required: send auth with your key")
        key = self.access.authenticate(token)
        if key is None:
            self.access.refuse(UNIDENTIFIED, Refusal.INVALID_KEY)
            return Denied(CLOSE_UNAUTHORIZED, "invalid consumer key")
        if not key.allows("ws"):
            self.access.refuse(key.name, Refusal.SURFACE)
            return Denied(CLOSE_FORBIDDEN, f"key {key.name!r} does not allow the ws surface")
        return key

    def timed_out(self) -> Denied:
        """A connection that presented no key in time."""
        self.access.refuse(UNIDENTIFIED, Refusal.AUTH_TIMEOUT)
        return Denied(CLOSE_UNAUTHORIZED, f"no consumer key within {self.auth_timeout_s:g} s")

    def admit(self, client: ClientSession, key: ConsumerKey) -> Denied | None:
        """Seat an authenticated connection, unless its key holds all the connections it may."""
        held = self._by_name.setdefault(key.name, set())
        if self.enabled and len(held) >= key.limits.connections:
            self.access.refuse(key.name, Refusal.CONNECTIONS)
            return Denied(CLOSE_TOO_MANY, f"key {key.name!r} has {len(held)} connections open, "
                                          f"its limit")
        held.add(client)
        self._keys[client] = key
        client.subs.allowed = key.sports
        self.access.count_request(key.name, "ws")
        return None

    def release(self, client: ClientSession) -> None:
        """Forget a closed connection (its deliveries stay counted for its key)."""
        key = self._keys.pop(client, None)
        if key is not None:
            name = key.name
            self._by_name[name].discard(client)
            self._retired[name] += client.written

    def key(self, client: ClientSession) -> ConsumerKey | None:
        """The key a connection runs as (None before it presented one)."""
        return self._keys.get(client)

    # -- subscriptions --------------------------------------------------------------------------

    def narrow(self, client: ClientSession, sports: Sequence[Sport], model: bool
               ) -> tuple[list[Sport], bool]:
        """The sports and model flag a subscribe may have; an ``error`` frame names the rest."""
        key = self.key(client)
        if key is None:
            return list(sports), model
        outside = sorted(s.value for s in sports if not key.allows_sport(s))
        if outside:
            self.access.refuse(key.name, Refusal.SPORT)
            client.push_control("error", code="forbidden", field="sports", sports=outside,
                                scope=outside[0], message=f"key {key.name!r} does not cover "
                                f"{', '.join(outside)}: left out of the subscription")
        if model and not key.allows("predictions"):
            self.access.refuse(key.name, Refusal.SURFACE)
            client.push_control("error", code="forbidden", field="model", scope="predictions",
                                message=f"key {key.name!r} does not allow predictions: no model "
                                        "frames")
            model = False
        return [s for s in sports if key.allows_sport(s)], model

    def over_limit(self, client: ClientSession, sub: Subscription) -> bool:
        """True (and an ``error`` frame sent) when ``sub`` would take the key past its limit."""
        key = self.key(client)
        if key is None or not self.enabled:
            return False
        others = sum(c.subs.follows() for c in self._by_name[key.name] if c is not client)
        total = others + client.subs.follows(sub)
        if total <= key.limits.subscriptions:
            return False
        self.access.refuse(key.name, Refusal.SUBSCRIPTIONS)
        client.push_control("error", code="limit", field="subscriptions",
                            limit=key.limits.subscriptions,
                            message=f"key {key.name!r} may follow {key.limits.subscriptions} sports "
                                    f"and events at once over all its connections; this "
                                    f"subscription would make {total}: refused")
        return True

    # -- reloads, usage -----------------------------------------------------------------------

    def _on_reload(self, old: KeyTable, new: KeyTable) -> None:
        for client, key in list(self._keys.items()):
            now = new.by_name.get(key.name)
            if now is None or now.digest != key.digest:
                self.access.refuse(key.name, Refusal.REVOKED)
                self.close(client, Denied(CLOSE_UNAUTHORIZED, "key revoked"))
            elif not now.same_access(key):
                self.access.refuse(key.name, Refusal.SCOPE_CHANGED)
                self.close(client, Denied(CLOSE_FORBIDDEN, "the key's scopes changed: reconnect"))
            else:
                self._keys[client] = now  # new limits apply from now on

    def close(self, client: ClientSession, denied: Denied) -> None:
        """Close a connection with a code and reason, without waiting (bounded in the sink)."""
        log.info("client %d: closing (%d %s)", client.id, denied.code, denied.reason)
        client.stop()  # nothing more is queued or written
        task = asyncio.get_running_loop().create_task(client.sink.close(denied.code, denied.reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def usage(self) -> dict[str, KeyUsage]:
        """Each key's open connections, sports and events followed, messages written."""
        found: dict[str, KeyUsage] = {name: KeyUsage(deliveries=n) for name, n in self._retired.items()}
        for name, clients in self._by_name.items():
            use = found.setdefault(name, KeyUsage())
            use.connections = len(clients)
            for client in clients:
                use.subscriptions += client.subs.follows()
                use.deliveries += client.written
        return found
