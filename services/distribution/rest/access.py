"""Consumer keys on REST: ``Authorization: Bearer <key>``, scopes, the per-key rate limit.

:func:`guard` wraps a route's handler with its surface (``rest``, ``history``,
``predictions``, ``trading``, ``ledger``, ``metrics``, or None for any valid key). In
order: no or malformed key, or a key that is not configured → **401** (with
``WWW-Authenticate: Bearer``); the key's bucket empty → **429** with ``Retry-After``;
the surface not among the key's scopes → **403**. Handlers then narrow by sport with
:func:`scoped_sports` and :func:`require_sport` (403 naming the sport). With the check
off every request runs as :data:`~services.distribution.access.OPEN_KEY`.

Refusals are :class:`AccessRefused`, which the app's wrapper answers like any error.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any

import orjson
from aiohttp import web

from services.distribution.access import OPEN_KEY, UNIDENTIFIED, Access, Refusal, key_view
from services.distribution.keys import ConsumerKey
from shared.enums import Sport
from shared.keys import BearerProblem, bearer_token

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCESS: web.AppKey[Access] = web.AppKey("sportsfeed_access", Access)
# The surface each route's key needs (None: any valid key); a route not here is open.
SURFACE_OF: dict[str, str | None] = {
    "/v1/sports": "rest", "/v1/events": "rest", "/v1/events/{id}": "rest",
    "/v1/events/{id}/markets/{market_key}/history": "rest", "/v1/settlements": "rest",
    "/v1/events/{id}/bookmaker-odds": "history", "/v1/history/status": "history",
    "/v1/competitions": "history", "/v1/competitions/{id}/table": "history",
    "/v1/events/{id}/prediction": "predictions", "/v1/predictions/batch": "predictions",
    "/v1/trading/strategies": "trading", "/v1/trading/bets": "trading",
    "/v1/trading/performance": "trading",
    "/v1/ledger/summary": "ledger", "/v1/access/usage": "metrics",
    # The operations page's series (Prometheus through distribution): an operator view.
    "/v1/ops/panels": "metrics", "/v1/ops/series/{panel}": "metrics",
    "/v1/ops/targets": "metrics",
    "/v1/access/key": None,
}
# The key the current request runs as: aiohttp serves each request in a task of its own,
# so the variable set by the guard is the request's alone.
_CURRENT: ContextVar[ConsumerKey] = ContextVar("sportsfeed_consumer_key")
REALM = 'Bearer realm="sportsfeed"'


class AccessRefused(Exception):
    """A request the key does not allow: its status, error body and headers."""

    def __init__(self, status: int, error: str, detail: str, *, scope: str | None = None,
                 parameter: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.scope, self.parameter = scope, parameter
        self.headers = headers or {}

    def response(self) -> web.Response:
        """The JSON answer (``Error`` in the OpenAPI document)."""
        body: dict[str, str] = {"error": self.error, "detail": self.detail}
        if self.parameter is not None:
            body["parameter"] = self.parameter
        if self.scope is not None:
            body["scope"] = self.scope
        return web.Response(body=orjson.dumps(body), status=self.status,
                            content_type="application/json", headers=self.headers)


class RateRefused(AccessRefused):
    """A request over its key's rate (429): the key's name says whose pause it is."""

    def __init__(self, key_name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_name = key_name


def authorise(access: Access, header: str | None, surface: str | None) -> ConsumerKey:
    """The key of an ``Authorization`` header, charged and checked for ``surface``."""
    token = bearer_token(header)
    if token is BearerProblem.MISSING:
        access.refuse(UNIDENTIFIED, Refusal.MISSING_KEY)
        raise AccessRefused(401, "unauthorized", "this API needs a consumer key: "
                            "send Authorization: Bearer <key>", headers={"WWW-Authenticate": REALM})
    key = access.authenticate(token) if isinstance(token, str) else None
    if key is None:
        access.refuse(UNIDENTIFIED, Refusal.INVALID_KEY)
        raise AccessRefused(401, "unauthorized", "the bearer token is not a valid consumer key",
                            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    access.count_request(key.name, surface or "key")
    wait = access.charge(key)
    if wait > 0:
        access.refuse(key.name, Refusal.RATE)
        seconds = max(1, math.ceil(wait))
        raise RateRefused(key.name, 429, "rate_limited",
                            f"key {key.name!r} is over its {key.limits.rate:g} requests a second: "
                            f"retry after {seconds} s", headers={"Retry-After": str(seconds)})
    if surface is not None and not key.allows(surface):
        access.refuse(key.name, Refusal.SURFACE)
        raise AccessRefused(403, "forbidden", f"key {key.name!r} does not allow the {surface} "
                            "surface", scope=surface)
    return key


def guard(access: Access, surface: str | None, handler: Handler) -> Handler:
    """``handler`` behind the key check for ``surface`` (None: any valid key)."""
    if not access.enabled:
        async def open_(request: web.Request) -> web.StreamResponse:
            _CURRENT.set(OPEN_KEY)
            access.count_request(OPEN_KEY.name, surface or "key")
            return await handler(request)
        return open_

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            key = authorise(access, request.headers.get("Authorization"), surface)
        except RateRefused as exc:
            await access.pause_refusal(exc.key_name)  # a loop of retries slows down
            raise
        _CURRENT.set(key)
        return await handler(request)

    return guarded


def key_of(request: web.Request) -> ConsumerKey:
    """The key the request runs as (set by :func:`guard`)."""
    return _CURRENT.get()


def _outside(request: web.Request, sports: Sequence[str], parameter: str | None) -> AccessRefused:
    key = key_of(request)
    request.app[ACCESS].refuse(key.name, Refusal.SPORT)
    names = ", ".join(sorted(sports))
    return AccessRefused(403, "forbidden", f"key {key.name!r} does not cover {names}",
                         scope=sorted(sports)[0], parameter=parameter)


def scoped_sports(request: web.Request, asked: list[Sport], parameter: str = "sport") -> list[Sport]:
    """The sports to answer for: those asked (403 if one is outside the key), else the key's."""
    key = key_of(request)
    if key.sports is None:
        return asked
    outside = [s.value for s in asked if s not in key.sports]
    if outside:
        raise _outside(request, outside, parameter)
    return asked or [s for s in Sport if s in key.sports]


def count_refusal(request: web.Request, reason: Refusal) -> None:
    """Count a refusal a handler made itself (a batch's ``forbidden`` items)."""
    request.app[ACCESS].refuse(key_of(request).name, reason)


def require_sport(request: web.Request, sport: Sport | str) -> None:
    """403 unless the key covers ``sport`` (an event's, a competition's)."""
    if not key_of(request).allows_sport(sport):
        raise _outside(request, [Sport(sport).value], None)


async def my_key(request: web.Request) -> web.Response:
    """``GET /v1/access/key``: the presented key's name, scopes, sports and limits."""
    key = key_of(request)
    return web.Response(body=orjson.dumps({**key_view(key), "auth": "keys" if
                                           request.app[ACCESS].enabled else "off"}),
                        content_type="application/json")


async def usage(request: web.Request) -> web.Response:
    """``GET /v1/access/usage`` (the ``metrics`` view): every key's scopes, limits and use."""
    return web.Response(body=orjson.dumps(request.app[ACCESS].usage_view()),
                        content_type="application/json")
