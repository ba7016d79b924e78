"""Bad input never crashes the service: random bytes and JSON get a 2xx/4xx, never a 5xx.

The app runs with the real adapters and a fake producer that acks every send, so a
5xx could only come from a crash in the service or an adapter escaping as a 500.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingestion.context import Adapters
from tests.support.ingestion_client import AUTH, Harness, harness
from tests.support.ingestion_fakes import odds_message

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ROUTES = {
    "/v1/feed/json": "application/json",
    "/v1/feed/xml": "application/xml",
    "/v1/feed/uof?sport_id=sr:sport:1": "application/xml",
}

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=5),
    max_leaves=30,
)
ENVELOPE_KEYS = ["message_id", "sport", "event_id", "kind", "provider_ts", "body", "markets",
                 "outcomes", "price", "market_key", "status", "score", "messages"]
# Documents shaped like messages reach deeper into the adapters than arbitrary JSON.
message_like = st.dictionaries(st.sampled_from(ENVELOPE_KEYS), json_values, max_size=8)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    base = odds_message()
    return st.builds(
        lambda key, value: {**base, key: value}, st.sampled_from(sorted(base)), json_values
    )


@pytest.fixture(scope="module")
async def app() -> AsyncIterator[Harness]:
    """One app for all examples; real adapters, fake producer, no rate limit to speak of."""
    async with harness(adapters=Adapters.default(), rate_limit_burst=10**9) as h:
        yield h


async def _post(h: Harness, route: str, payload: bytes) -> int:
    response = await h.client.post(
        route, data=payload, headers={**AUTH, "Content-Type": ROUTES[route]}
    )
    await response.read()
    return response.status


@FUZZ
@given(payload=st.binary(max_size=2048), route=st.sampled_from(sorted(ROUTES)))
async def test_random_bytes_never_get_a_5xx(app: Harness, payload: bytes, route: str) -> None:
    assert await _post(app, route, payload) < 500


@FUZZ
@given(doc=json_values | message_like | _mutations())
async def test_random_json_documents_never_get_a_5xx(app: Harness, doc: Any) -> None:
    status = await _post(app, "/v1/feed/json", json.dumps(doc).encode())
    assert status < 500
    assert status in (202, 400, 422)


@FUZZ
@given(docs=st.lists(message_like | _mutations(), min_size=1, max_size=20))
async def test_random_batches_never_get_a_5xx(app: Harness, docs: list[Any]) -> None:
    status = await _post(app, "/v1/feed/json", json.dumps({"messages": docs}).encode())
    assert status in (202, 400, 422)


@FUZZ
@given(text=st.text(max_size=300))
async def test_random_xml_like_text_never_gets_a_5xx(app: Harness, text: str) -> None:
    payload = f"<?xml version='1.0'?><odds_change event_id='{text}'>{text}</odds_change>"
    assert await _post(app, "/v1/feed/xml", payload.encode()) < 500
    assert await _post(app, "/v1/feed/uof?sport_id=sr:sport:1", payload.encode()) < 500
