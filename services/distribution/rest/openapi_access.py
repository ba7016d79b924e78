"""The OpenAPI part of consumer keys: the security scheme, each operation's security and its
401 / 403 / 429 answers, and the ``/v1/access`` operations (``rest/access.py``)."""

from __future__ import annotations

from collections.abc import Mapping

from services.distribution.keys import SCOPES
from services.distribution.rest.openapi import INT, SPORTS, STR, Schema, _json, array, null, obj, ref

SCHEME = "consumerKey"
SECURITY_SCHEMES: dict[str, Schema] = {SCHEME: {
    "type": "http", "scheme": "bearer",
    "description": "A consumer key: `Authorization: Bearer <key>`. Each operation names the "
                   "surface its key needs (rest, history, predictions, trading; the operator "
                   "views ledger and metrics); a key limited to some sports is refused (403) "
                   "an event or sport outside them. Keys are configured with "
                   "SPORTSFEED_DISTRIBUTION_API_KEYS or _API_KEYS_FILE (docs/rest.md).",
}}
COUNT: Schema = {"type": "integer", "minimum": 0}
SCOPE_LIST = array({"enum": list(SCOPES)})
SPORT_LIST = {"anyOf": [array({"enum": SPORTS}), {"type": "null"}],
              "description": "the sports the key covers; null: every sport"}
LIMITS = obj({"rate": {"type": "number", "description": "REST requests a second"},
              "burst": INT, "connections": INT | {"description": "WebSocket connections"},
              "subscriptions": INT | {"description": "sports and events followed over all "
                                                      "the key's WebSocket connections"}})

SCHEMAS: dict[str, Schema] = {
    "ConsumerKey": obj({
        "name": STR, "scopes": SCOPE_LIST, "sports": SPORT_LIST,
        "limits": null(ref("KeyLimits")) | {"description": "null while the check is off"},
        "auth": {"enum": ["keys", "off"]},
    }),
    "KeyLimits": LIMITS,
    "KeyUsage": obj({
        "name": STR, "scopes": SCOPE_LIST, "sports": SPORT_LIST, "limits": ref("KeyLimits"),
        "requests": COUNT | {"description": "REST requests and WebSocket connections so far"},
        "refusals": {"type": "object", "additionalProperties": COUNT,
                     "description": "refusals by reason"},
        "ws_connections": COUNT, "ws_subscriptions": COUNT,
        "ws_deliveries": COUNT | {"description": "messages written to the key's clients"},
    }),
    "AccessUsage": obj({
        "auth": {"enum": ["keys", "off"]}, "keys": array(ref("KeyUsage")),
        "unidentified_refusals": {"type": "object", "additionalProperties": COUNT,
                                  "description": "refusals before a key was recognised"},
    }),
}

UNAUTHORIZED = {
    **_json(ref("Error"), "no consumer key, or not a valid one"),
    "headers": {"WWW-Authenticate": {"schema": STR, "required": True}},
}
FORBIDDEN = _json(ref("Error"), "the key does not allow this surface, or does not cover the "
                                "sport asked for; `scope` names what it lacks")
LIMITED = {
    **_json(ref("Error"), "the key is over its requests a second"),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "required": True,
                                "description": "seconds until a request is allowed again"}},
}


def paths() -> dict[str, Schema]:
    """The key's own view and the operators' usage view."""
    return {
        "/v1/access/key": {"get": {
            "operationId": "getAccessKey",
            "summary": "The presented key: its name, scopes, sports and limits",
            "responses": {"200": _json(ref("ConsumerKey"), "the key")},
        }},
        "/v1/access/usage": {"get": {
            "operationId": "getAccessUsage",
            "summary": "Every key's scopes, limits, requests, refusals and WebSocket use "
                       "(the metrics view)",
            "responses": {"200": _json(ref("AccessUsage"), "the keys' usage")},
        }},
    }


def secure(paths: dict[str, Schema], surfaces: Mapping[str, str | None]) -> None:
    """Give each operation its security (the surface as the requirement's role) and its
    401 / 403 / 429 answers; operations not in ``surfaces`` are open (``security: []``)."""
    for path, operations in paths.items():
        for operation in operations.values():
            if path not in surfaces:
                operation["security"] = []
                continue
            surface = surfaces[path]
            operation["security"] = [{SCHEME: [surface] if surface is not None else []}]
            operation["responses"] |= {"401": UNAUTHORIZED, "429": LIMITED}
            if surface is not None:
                operation["responses"]["403"] = FORBIDDEN
