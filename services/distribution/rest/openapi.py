"""The OpenAPI 3.1 document of the REST API, written to match the real responses.

A schemathesis test drives the live app from this document with every check it has
(and a consumer key): every response must match it, every request it calls valid must be
accepted and every one it calls invalid refused. So the parameters' patterns are
:mod:`.params`' own, and a change to either that is not made in both fails the tests.
"""

from __future__ import annotations

from typing import Any

from services.distribution.rest.params import (
    CURSOR_PATTERN,
    MARKET_KEY_MAX,
    MARKET_KEY_PATTERN,
    MAX_LIST,
    TIME_PATTERN,
)
from shared.enums import Disposition, EventStatus, MarketStatus, Resolution, Sport

Schema = dict[str, Any]

ID_PATTERN = r"^[A-Za-z0-9:_.\-]{1,64}$"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
SPORTS = [s.value for s in Sport]
STATUSES = [s.value for s in EventStatus]


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def null(schema: Schema) -> Schema:
    """``schema`` or null."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]} if isinstance(kind, str) else schema


def obj(properties: dict[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    """A closed object: every property required unless named in ``optional``."""
    return {
        "type": "object", "additionalProperties": False, "properties": properties,
        "required": [k for k in properties if k not in optional],
    }


def array(items: Schema) -> Schema:
    """An array of ``items``."""
    return {"type": "array", "items": items}


PRICE = {"type": "string", "pattern": DECIMAL_PATTERN, "description": "exact decimal odds"}

SCHEMAS: dict[str, Schema] = {
    "Error": obj({"error": STR, "detail": STR, "parameter": STR,
                  "scope": STR | {"description": "403: the scope (surface or sport) the key lacks"}},
                 optional=("parameter", "scope")),
    "Competition": obj({"id": STR, "name": STR, "country": null(STR), "season": null(STR)}),
    "Competitor": obj({"id": STR, "name": STR, "qualifier": {"enum": ["home", "away"]}}),
    "Sport": obj({
        "id": {"enum": SPORTS}, "name": STR, "events": INT, "live": INT,
        "market_types": array(STR), "periods": array(STR),
    }),
    "EventSummary": obj({
        "id": STR, "sport": {"enum": SPORTS}, "status": {"enum": STATUSES}, "start_time": TIME,
        "version": {"type": "integer", "minimum": 0}, "best_of": null(INT),
        "competition": null(ref("Competition")), "competitors": array(ref("Competitor")),
        "updated_at": null(TIME),
    }),
    "EventPage": obj({"events": array(ref("EventSummary")), "next_cursor": null(STR)}),
    "Outcome": obj({"id": STR, "price": null(PRICE), "active": BOOL}),
    "Market": obj({
        "market_key": STR, "type": STR,
        "specifiers": {"type": "object", "additionalProperties": STR},
        "status": {"enum": [s.value for s in MarketStatus]},
        "resolution": {"enum": [*(r.value for r in Resolution), None],
                       "description": "in force about its bets (results or void), apart from "
                                      "the trading status; null: nothing yet"},
        "status_reason": null(STR),
        "producer": null(STR), "provider_ts": null(TIME), "outcomes": array(ref("Outcome")),
    }),
    "PeriodScore": obj({
        "period": STR, "home": INT, "away": INT, "tiebreak_home": null(INT),
        "tiebreak_away": null(INT),
    }),
    "Live": obj({
        "status": {"enum": STATUSES}, "period": null(STR),
        "clock": null(ref("Clock")),
        "score": obj({"home": INT, "away": INT, "periods": array(ref("PeriodScore"))}),
        "game": {"anyOf": [obj({"home": STR, "away": STR}), {"type": "null"}]},
        "server": {"enum": ["home", "away", None]}, "provider_ts": null(TIME),
    }),
    "Clock": obj({"seconds": INT, "running": BOOL, "stoppage_seconds": null(INT)}),
    "EventDetail": obj({
        "id": STR, "sport": {"enum": SPORTS}, "status": {"enum": STATUSES},
        "version": {"type": "integer", "minimum": 0}, "start_time": null(TIME),
        "best_of": null(INT), "competition": null(ref("Competition")),
        "competitors": array(ref("Competitor")), "live": null(ref("Live")),
        "markets": array(ref("Market")), "updated_at": null(TIME),
        "source": {"enum": ["redis", "mysql"]},
    }),
    "HistoryChange": obj({
        "provider_ts": TIME, "outcome_id": STR, "price": null(PRICE), "active": BOOL,
        "market_status": {"enum": [s.value for s in MarketStatus]}, "message_id": STR,
        "recorded_at": TIME,
    }),
    "History": obj({
        "event_id": STR, "market_key": STR, "from": null(TIME), "to": null(TIME),
        "changes": array(ref("HistoryChange")), "truncated": BOOL,
    }),
    "Settlement": obj({
        "id": INT, "market_key": STR, "outcome_id": STR, "result": {"enum": ["won", "lost"]},
        "void_factor": PRICE | {"description": "share of the stake returned"},
        "dead_heat_factor": null(PRICE), "certainty": {"enum": ["live_scouted", "confirmed"]},
        "message_id": STR, "provider_ts": TIME, "settled_at": TIME,
        "rolled_back_at": null(TIME), "rolled_back_by": null(STR),
        "superseded_at": null(TIME), "superseded_by": null(STR),
        "in_force": BOOL | {"description": "neither rolled back nor superseded by later results"},
    }),
    "Cancellation": obj({
        "id": INT, "market_key": STR, "void_reason": null(STR), "start_time": null(TIME),
        "end_time": null(TIME), "message_id": STR, "provider_ts": TIME, "cancelled_at": TIME,
        "rolled_back_at": null(TIME), "rolled_back_by": null(STR),
        "superseded_at": null(TIME), "superseded_by": null(STR), "in_force": BOOL,
    }),
    "RefusedMarket": obj({
        "market_key": STR, "message_id": STR,
        "kind": {"enum": ["settlement", "cancel", "rollback"]}, "reason": STR,
        "processed_at": TIME,
    }),
    "Settlements": obj({
        "event_id": STR, "settlements": array(ref("Settlement")),
        "cancellations": array(ref("Cancellation")),
        "refused": array(ref("RefusedMarket")) | {
            "description": "markets a settlement, cancel or rollback named but did not apply"},
    }),
    "LedgerCounts": obj({
        **{d.value: INT for d in Disposition}, "repeats": INT, "accepted": INT,
    }),
    "LedgerRow": obj({
        "sport": {"enum": SPORTS}, "provider": STR, **{d.value: INT for d in Disposition},
        "repeats": INT, "accepted": INT,
    }),
    "LedgerSummary": obj({
        "from": null(TIME), "to": null(TIME), "rows": array(ref("LedgerRow")),
        "totals": ref("LedgerCounts"),
    }),
    "Health": obj({"status": STR}),
    "Ready": obj({"status": {"enum": ["ready", "not ready"]},
                  "checks": {"type": "object", "additionalProperties": STR}}),
}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


BAD = _json(ref("Error"), "a query or path parameter is invalid; `parameter` names it")
MISSING = _json(ref("Error"), "no such event (or market)")
DOWN = _json(ref("Error"), "MySQL or Redis is unavailable: retry after `Retry-After` seconds")


def query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    """A query parameter; arrays are comma-separated (``sport=football,tennis``)."""
    param: Schema = {"name": name, "in": "query", "required": required, "schema": schema,
                     "description": description}
    if schema.get("type") == "array":
        param |= {"style": "form", "explode": False}
    return param


def listing(items: Schema) -> Schema:
    """A comma-separated list of 1 to 50 ``items`` (no spaces)."""
    return array(items) | {"minItems": 1, "maxItems": MAX_LIST}


ID_SCHEMA: Schema = {"type": "string", "pattern": ID_PATTERN}
# Times in a query: RFC 3339 with an offset, the year (as written) 1970-9998.
TIME_QUERY: Schema = {"type": "string", "format": "date-time", "pattern": TIME_PATTERN}
CURSOR: Schema = {"type": "string", "pattern": CURSOR_PATTERN,
                  "description": "the `next_cursor` of the previous page (treat it as opaque)"}
MARKET_KEY: Schema = {"type": "string", "maxLength": MARKET_KEY_MAX, "pattern": MARKET_KEY_PATTERN}
FROM = query("from", TIME_QUERY, "from this time on (inclusive), RFC 3339 with an offset")
TO = query("to", TIME_QUERY, "before this time (exclusive)")
EVENT_ID = {"name": "id", "in": "path", "required": True, "schema": ID_SCHEMA}
SPORT_LIST = listing({"enum": SPORTS})


def openapi_document(batch_max: int = 500, history_max: int = 10_000, page_max: int = 500) -> Schema:
    """The whole document (history, prediction, trading and access operations are in their own
    modules): the service's limits are the ones its settings set."""
    from services.distribution.rest import openapi_access
    from services.distribution.rest.access import SURFACE_OF

    document = _document(batch_max, history_max, page_max)
    document["paths"] |= openapi_access.paths()
    openapi_access.secure(document["paths"], SURFACE_OF)
    document["components"]["schemas"] |= openapi_access.SCHEMAS
    document["components"]["securitySchemes"] = openapi_access.SECURITY_SCHEMES
    return document


def _document(batch_max: int, history_max: int, page_max: int) -> Schema:
    from services.distribution.rest import openapi_history, openapi_pricing, openapi_trading

    sport_list = SPORT_LIST
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SportsFeed distribution", "version": "1.0.0",
            "description": "Events, live state, markets, odds history, settlements, the "
                           "ledger's no-loss view, and the platform's own model prices. Prices "
                           "are exact decimal strings; times are ISO-8601 UTC. Live push is on "
                           "the WebSocket (docs/websocket.md).",
        },
        "paths": {
            "/v1/sports": {"get": {
                "operationId": "listSports", "summary": "The sports, their markets and counts",
                "responses": {"200": _json(obj({"sports": array(ref("Sport"))}), "the sports"),
                              "503": DOWN},
            }},
            "/v1/events": {"get": {
                "operationId": "listEvents",
                "summary": "Events by start time, filtered, with cursor paging",
                "parameters": [
                    query("sport", sport_list, "only these sports"),
                    query("status", listing({"enum": STATUSES}), "only these statuses"),
                    query("competition", listing(ID_SCHEMA), "competition ids"),
                    query("from", TIME_QUERY, "start time from (inclusive)"),
                    query("to", TIME_QUERY, "start time before (exclusive)"),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": page_max},
                          f"page size ({min(100, page_max)})"),
                    query("cursor", CURSOR, "`next_cursor` of the previous page"),
                ],
                "responses": {"200": _json(ref("EventPage"), "one page"), "400": BAD, "503": DOWN},
            }},
            "/v1/events/{id}": {"get": {
                "operationId": "getEvent",
                "summary": "One event: competitors, live state, markets and outcomes",
                "parameters": [EVENT_ID],
                "responses": {"200": _json(ref("EventDetail"), "the event"), "400": BAD,
                              "404": MISSING, "503": DOWN},
            }},
            "/v1/events/{id}/markets/{market_key}/history": {"get": {
                "operationId": "getOddsHistory", "summary": "Every applied price change of a market",
                "parameters": [
                    EVENT_ID,
                    {"name": "market_key", "in": "path", "required": True, "schema": MARKET_KEY,
                     "description": "URL-encoded market key, e.g. totals%7Ctotal%3D2.5"},
                    FROM, TO,
                    query("format", {"enum": ["json", "csv"]}, "json (default) or csv"),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": history_max},
                          f"at most this many changes ({history_max})"),
                ],
                "responses": {
                    "200": {"description": "the changes, by provider time", "content": {
                        "application/json": {"schema": ref("History")},
                        "text/csv": {"schema": STR},
                    }},
                    "400": BAD, "404": MISSING, "503": DOWN,
                },
            }},
            "/v1/settlements": {"get": {
                "operationId": "getSettlements",
                "summary": "An event's results and cancellations (rolled back ones flagged)",
                "parameters": [query("event_id", ID_SCHEMA, "the event", required=True)],
                "responses": {"200": _json(ref("Settlements"), "results"), "400": BAD,
                              "404": MISSING, "503": DOWN},
            }},
            "/v1/ledger/summary": {"get": {
                "operationId": "getLedgerSummary",
                "summary": "Dispositions by sport and provider: the no-loss view",
                "parameters": [
                    FROM, TO, query("sport", sport_list, "only these sports"),
                    query("provider", listing({"type": "string", "pattern": r"^[a-z0-9_\-]{1,32}$"}),
                          "only these providers"),
                ],
                "responses": {"200": _json(ref("LedgerSummary"), "counts"), "400": BAD,
                              "503": DOWN},
            }},
            **openapi_history.paths(),
            **openapi_pricing.paths(batch_max),
            **openapi_trading.paths(page_max),
            "/healthz": {"get": {"operationId": "healthz", "summary": "Alive",
                                 "responses": {"200": _json(ref("Health"), "alive")}}},
            "/readyz": {"get": {
                "operationId": "readyz", "summary": "MySQL, Redis and the Kafka consumer",
                "responses": {"200": _json(ref("Ready"), "ready"),
                              "503": _json(ref("Ready"), "a dependency is failing")},
            }},
            "/metrics": {"get": {
                "operationId": "metrics", "summary": "Prometheus metrics",
                "responses": {"200": {"description": "text exposition",
                                      "content": {"text/plain": {"schema": STR}}}},
            }},
        },
        "components": {"schemas": SCHEMAS | openapi_history.SCHEMAS | openapi_pricing.SCHEMAS
                       | openapi_trading.SCHEMAS},
    }
