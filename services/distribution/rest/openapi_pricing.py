"""The OpenAPI part of the prediction endpoints (``rest/predictions.py``), merged by ``openapi.py``."""

from __future__ import annotations

from services.distribution.rest.openapi import (
    BAD,
    DECIMAL_PATTERN,
    DOWN,
    EVENT_ID,
    ID_SCHEMA,
    INT,
    SPORTS,
    STR,
    TIME,
    Schema,
    _json,
    array,
    obj,
    ref,
)

PROBABILITY: Schema = {"type": "number", "minimum": 0, "maximum": 1}
OPTIONAL_PRICE: Schema = {"type": ["string", "null"], "pattern": DECIMAL_PATTERN}
STATUSES = ["ok", "unknown_event", "no_model", "forbidden"]  # forbidden: a sport outside the key

SCHEMAS: dict[str, Schema] = {
    "FairOutcome": obj({
        "id": STR,
        "probability": PROBABILITY | {
            "description": "fair probability (for lines with pushes the effective one: "
                           "1 / fair_price)"},
        "fair_price": OPTIONAL_PRICE | {"description": "1 / probability; null past 1,000 and "
                                                       "once the match ended"},
        "price": OPTIONAL_PRICE | {"description": "the fair prices with the service's margin"},
    }),
    "FairMarket": obj({
        "market_key": STR, "type": STR,
        "specifiers": {"type": "object", "additionalProperties": STR},
        "outcomes": array(ref("FairOutcome")),
    }),
    "Prediction": obj({
        "event_id": STR, "sport": {"enum": SPORTS},
        "model": STR | {"description": "model version: <sport>:<kind>:<id>, or <sport>:prior"},
        "training_size": INT | {"minimum": 0, "description": "matches the model was fitted on"},
        "sides_rated": INT | {"minimum": 0, "maximum": 2, "description":
                              "how many of the two sides the model rated from their results "
                              "(an unrated side is the league's average)"},
        "event_version": INT | {"minimum": 0, "description": "the event version priced"},
        "phase": {"enum": ["pre_match", "in_play", "ended"]},
        "margin": {"type": "string", "pattern": DECIMAL_PATTERN},
        "expected": {"type": "object", "additionalProperties": {"type": "number"},
                     "description": "goals (points, games) still expected by side (home, "
                                    "away) and the expected final score (home_final, away_final)"},
        "computed_at": TIME,
        "markets": array(ref("FairMarket")),
    }),
    "PredictionItem": obj({
        "event_id": STR, "status": {"enum": STATUSES},
        "prediction": {"anyOf": [ref("Prediction"), {"type": "null"}]},
    }),
    "PredictionBatch": obj({"predictions": array(ref("PredictionItem"))}),
}


def paths(batch_max: int) -> dict[str, Schema]:
    """The prediction operations; a batch names at most ``batch_max`` events."""
    missing = _json(ref("Error"), "`not_found`: no such event; `no_prediction`: the event has "
                                  "no model prices yet")
    body = obj({"event_ids": array(ID_SCHEMA) | {"minItems": 1, "maxItems": batch_max}})
    return {
        "/v1/events/{id}/prediction": {"get": {
            "operationId": "getPrediction",
            "summary": "The platform's own fair prices of an event (model version, training size)",
            "parameters": [EVENT_ID],
            "responses": {"200": _json(ref("Prediction"), "the latest model prices"), "400": BAD,
                          "404": missing, "503": DOWN},
        }},
        "/v1/predictions/batch": {"post": {
            "operationId": "predictionsBatch",
            "summary": "Many events' predictions at once, each with its status",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {"200": _json(ref("PredictionBatch"), "one answer per distinct id, in "
                                                              "the order asked"),
                          "400": _json(ref("Error"), "the body is invalid; `parameter` names "
                                                     "the field (event_ids.3)"),
                          "503": DOWN},
        }},
    }
