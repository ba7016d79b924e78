"""Prediction bodies and batch requests, without a server."""

from __future__ import annotations

import pytest

from services.distribution.rest.openapi import openapi_document
from services.distribution.rest.params import ParamError
from services.distribution.rest.predictions import batch_ids, prediction_body
from tests.support.distribution_fakes import model_data


def test_a_prediction_is_the_model_prices_with_market_types_and_z_times() -> None:
    body = prediction_body(model_data("ev", 4, home=0.5))
    assert body["computed_at"] == "2026-05-01T18:00:00Z"
    assert body["margin"] == "0.05"
    assert body["markets"][0]["type"] == "1x2"
    assert body["markets"][0]["specifiers"] == {}
    assert body["markets"][0]["outcomes"][0] == {"id": "home", "probability": 0.5,
                                                 "fair_price": "2", "price": "1.9"}
    assert set(body) == set(openapi_document()["components"]["schemas"]["Prediction"]["properties"])


@pytest.mark.parametrize(("body", "parameter", "detail"), [
    (b"nope", "body", "is not JSON"),
    (b"[]", "body", "must be a JSON object"),
    (b'{"event_ids": ["a"], "more": 1}', "more", "is not a field"),
    (b"{}", "event_ids", "is required"),
    (b'{"event_ids": {"a": 1}}', "event_ids", "must be a list"),
    (b'{"event_ids": ["a", "b", "c", "d"]}', "event_ids", "from 1 to 3"),
    (b'{"event_ids": ["a", null]}', "event_ids.1", "must be a string"),
    (b'{"event_ids": ["a", ""]}', "event_ids.1", "1-64 characters"),
])
def test_a_bad_batch_names_its_field(body: bytes, parameter: str, detail: str) -> None:
    with pytest.raises(ParamError) as caught:
        batch_ids(body, 3)
    assert caught.value.parameter == parameter
    assert detail in caught.value.detail


def test_a_batch_answers_each_id_once_in_the_order_asked() -> None:
    assert batch_ids(b'{"event_ids": ["b", "a", "b"]}', 3) == ["b", "a"]


def test_the_documented_batch_bound_is_the_setting() -> None:
    body = openapi_document(batch_max=42)["paths"]["/v1/predictions/batch"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["properties"]["event_ids"]["maxItems"] == 42
