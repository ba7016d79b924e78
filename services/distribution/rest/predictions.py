"""The platform's own prices of events: ``GET /v1/events/{id}/prediction`` and ``POST /v1/predictions/batch``.

Both are served from Redis, where the pricing service keeps each event's latest
``shared.fair.ModelPrices`` (``<prefix>:model:<event id>``). An event without model
prices is told apart from an unknown one (its snapshot in Redis, else its row in
MySQL): the first is ``no_prediction`` (404) alone and ``no_model`` in a batch, the
second ``not_found`` and ``unknown_event``. An event of a sport outside the key is 403
alone and ``forbidden`` in a batch. Probabilities are numbers (a model's opinion, six
places), prices exact decimal strings like every price of the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from services.distribution.access import Refusal
from services.distribution.rest.access import count_refusal, key_of, require_sport
from services.distribution.rest.context import RestContext
from services.distribution.rest.handlers import json_response
from services.distribution.rest.params import ParamError, check_id
from services.distribution.rest.views import iso
from shared.markets import parse_market_key

BATCH_FIELDS = frozenset({"event_ids"})


def prediction_body(data: Mapping[str, Any]) -> dict[str, Any]:
    """The REST form of stored model prices: markets with type and specifiers, times with Z."""
    markets = []
    for market in data.get("markets", ()):
        kind, specifiers = parse_market_key(market["market_key"])
        markets.append({
            "market_key": market["market_key"], "type": kind, "specifiers": specifiers,
            "outcomes": [{"id": o["id"], "probability": o["probability"],
                          "fair_price": o.get("fair_price"), "price": o.get("price")}
                         for o in market["outcomes"]],
        })
    return {
        "event_id": data["event_id"], "sport": data["sport"], "model": data["model"],
        "training_size": data["training_size"], "sides_rated": data.get("sides_rated", 0),
        "event_version": data["event_version"],
        "phase": data["phase"], "margin": str(data.get("margin", "0")),
        "expected": dict(data.get("expected") or {}),
        "computed_at": iso(datetime.fromisoformat(str(data["computed_at"]).replace("Z", "+00:00"))),
        "markets": markets,
    }


async def _known(ctx: RestContext, event_ids: Sequence[str]) -> dict[str, str]:
    """The sport of each event that exists: its snapshot in Redis, else its row in MySQL."""
    snapshots = await ctx.cache.read_many_raw(event_ids)
    known = {e: str(orjson.loads(raw)["sport"]) for e, raw in zip(event_ids, snapshots, strict=True)
             if raw is not None}
    missing = [e for e in event_ids if e not in known]
    return known | await ctx.queries.existing(missing)


async def prediction(request: web.Request) -> web.Response:
    """``GET /v1/events/{id}/prediction``: the event's latest model prices."""
    ctx = request.app[RestContext.KEY]
    event_id = check_id(request.match_info["id"], "id")
    (raw,) = await ctx.cache.read_models_raw([event_id])
    if raw is not None:
        data = orjson.loads(raw)
        require_sport(request, data["sport"])
        return json_response(prediction_body(data))
    sport = (await _known(ctx, [event_id])).get(event_id)
    if sport is None:
        return json_response({"error": "not_found", "detail": f"unknown event {event_id}"}, 404)
    require_sport(request, sport)
    return json_response({
        "error": "no_prediction",
        "detail": f"event {event_id} has no model prices yet: the pricing service prices an "
                  "event at its start-up, when the event first changes, and on every live change",
    }, 404)


def batch_ids(body: bytes, maximum: int) -> list[str]:
    """The event ids of a batch request, or a 400 naming the field."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ParamError("body", 'is not JSON: send {"event_ids": ["..."]}') from None
    if not isinstance(data, dict):
        raise ParamError("body", 'must be a JSON object: {"event_ids": ["..."]}')
    extra = sorted(set(data) - BATCH_FIELDS)
    if extra:
        raise ParamError(extra[0], "is not a field of this request (only event_ids is)")
    ids = data.get("event_ids")
    if ids is None:
        raise ParamError("event_ids", "is required")
    if not isinstance(ids, list):
        raise ParamError("event_ids", "must be a list of event ids")
    if not 1 <= len(ids) <= maximum:
        raise ParamError("event_ids", f"must list from 1 to {maximum} event ids")
    for n, value in enumerate(ids):
        if not isinstance(value, str):
            raise ParamError(f"event_ids.{n}", "must be a string")
        check_id(value, f"event_ids.{n}")
    return list(dict.fromkeys(ids))


async def predictions_batch(request: web.Request) -> web.Response:
    """``POST /v1/predictions/batch``: each event's prediction, or why there is none."""
    ctx = request.app[RestContext.KEY]
    ids = batch_ids(await request.read(), ctx.settings.prediction_batch_max)
    key = key_of(request)
    raws = await ctx.cache.read_models_raw(ids)
    without = [e for e, raw in zip(ids, raws, strict=True) if raw is None]
    known = await _known(ctx, without) if without else {}
    answers: list[dict[str, Any]] = []
    for event_id, raw in zip(ids, raws, strict=True):
        data = orjson.loads(raw) if raw is not None else None
        sport = data["sport"] if data is not None else known.get(event_id)
        if sport is not None and not key.allows_sport(sport):
            answers.append({"event_id": event_id, "status": "forbidden", "prediction": None})
        elif data is not None:
            answers.append({"event_id": event_id, "status": "ok", "prediction": prediction_body(data)})
        else:
            answers.append({"event_id": event_id, "prediction": None,
                            "status": "no_model" if sport is not None else "unknown_event"})
    if any(a["status"] == "forbidden" for a in answers):
        count_refusal(request, Refusal.SPORT)
    return json_response({"predictions": answers})
