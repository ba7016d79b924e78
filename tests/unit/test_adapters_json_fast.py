"""The JSON fast path gives exactly what the full path gives, or leaves the payload to it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from services.ingestion.adapters import parse_json
from services.ingestion.adapters.json_fast import parse_json_fast
from services.ingestion.adapters.native_json import parse_json_full
from shared.codec import encode_message
from tests.support.json_payloads import payloads

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
EQUIVALENCE = settings(max_examples=600, deadline=None, database=None,
                       suppress_health_check=[HealthCheck.too_slow])


def odds(**overrides: Any) -> dict[str, Any]:
    """A valid football odds message."""
    return {
        "sport": "football", "event_id": "ev-1", "kind": "odds", "provider_ts": "2026-03-01T11:00:00Z",
        "body": {"markets": [{"market_key": "1x2", "outcomes": [
            {"id": "home", "price": "2.10"}, {"id": "draw", "price": "3.40"},
            {"id": "away", "price": "3.60"}]}]},
        **overrides,
    }


def fast(raw: bytes) -> Any:
    return parse_json_fast(raw, provider="demo", received_at=NOW)


def full(raw: bytes) -> Any:
    return parse_json_full(raw, provider="demo", received_at=NOW)


@EQUIVALENCE
@given(payloads())
def test_the_fast_path_equals_the_full_path_or_defers(raw: bytes) -> None:
    quick = fast(raw)
    if quick is None:
        return
    try:
        slow = full(raw)
    except Exception as exc:  # the full path refused the payload: the fast one may not accept it
        raise AssertionError(f"fast path accepted what the full path refused: {exc}") from exc
    assert slow.refusals == [], f"fast path accepted a payload the full path refuses: {slow}"
    assert quick.messages == slow.messages
    assert [encode_message(m) for m in quick.messages] == [
        encode_message(m) for m in slow.messages]


def test_well_formed_payloads_take_the_fast_path() -> None:
    one = fast(json.dumps(odds(message_id="p-1")).encode())
    assert one is not None
    assert one.messages[0].message_id == "p-1"
    batch = fast(json.dumps({"messages": [odds(), odds(event_id="ev-2")]}).encode())
    assert batch is not None
    assert [m.event_id for m in batch.messages] == ["ev-1", "ev-2"]
    array = fast(json.dumps([odds(provider="demo")]).encode())
    assert array is not None
    assert array.messages == full(json.dumps([odds()]).encode()).messages


@pytest.mark.parametrize("raw", [
    b'{"sport": "football", "sport": "tennis", "event_id": "e", "kind": "alive",'
    b' "provider_ts": "2026-03-01T11:00:00Z", "body": {}}',
    json.dumps(odds()).replace('"price": "2.10"', '"price": "2.10", "price": "9"').encode(),
    json.dumps({"messages": [odds()]}).replace('{"messages"', '{"messages": [], "messages"')
    .encode(),
])
def test_a_key_given_twice_is_left_to_the_full_path_which_refuses_it(raw: bytes) -> None:
    assert fast(raw) is None
    with pytest.raises(Exception, match="appears twice"):
        full(raw)


@pytest.mark.parametrize("literal", ["2.1", "3", "2.10", "2e0", "2.5E-0"])
def test_price_numbers_are_read_as_exact_decimals_as_on_the_full_path(literal: str) -> None:
    raw = json.dumps(odds()).replace('"2.10"', literal).encode()
    quick = fast(raw)
    assert quick is not None
    assert quick.messages == full(raw).messages
    assert encode_message(quick.messages[0]) == encode_message(full(raw).messages[0])


def test_a_number_the_full_path_refuses_is_left_to_it() -> None:
    raw = json.dumps(odds()).replace('"2.10"', "2.0000000000000001").encode()
    assert fast(raw) is None  # more than 4 decimal places, exactly as written
    assert "decimal places" in full(raw).refusals[0].reason


def test_a_void_factor_keeps_its_spelling() -> None:
    settlement = {"sport": "football", "event_id": "e", "kind": "settlement",
                  "provider_ts": "2026-03-01T11:00:00Z", "body": {"markets": [
                      {"market_key": "draw_no_bet", "outcomes": [
                          {"outcome_id": "home", "result": "won", "void_factor": 0.50},
                          {"outcome_id": "away", "result": "lost", "void_factor": 0.50}]}]}}
    raw = json.dumps(settlement).replace("0.5", "0.50").encode()
    [message] = fast(raw).messages
    assert b'"void_factor":"0.50"' in encode_message(message)
    assert [message] == full(raw).messages


@pytest.mark.parametrize("raw", [
    b"\xef\xbb\xbf" + json.dumps(odds()).encode(),
    json.dumps(odds()).replace('"2.10"', "NaN").encode(),
    json.dumps(odds()).encode("utf-16"),  # json.loads would read it; the full path does not
    json.dumps(odds(provider="other")).encode(),
    json.dumps(odds(received_at="2026-03-01T11:00:00Z")).encode(),
    json.dumps(odds(kind="live")).encode(),
    json.dumps({"messages": [odds(), odds(sport="curling")]}).encode(),
    json.dumps(odds(body={"markets": [{"market_key": "moneyline", "outcomes": [
        {"id": "home", "price": "2"}, {"id": "away", "price": "2"}]}]})).encode(),
])
def test_anything_the_full_path_refuses_or_rewrites_is_left_to_it(raw: bytes) -> None:
    assert fast(raw) is None


def test_a_message_without_id_gets_the_same_content_hash_on_both_paths() -> None:
    raw = json.dumps(odds()).encode()
    assert fast(raw).messages[0].message_id == full(raw).messages[0].message_id


def test_parse_json_answers_from_the_fast_path_or_with_the_full_paths_refusals() -> None:
    good = json.dumps({"messages": [odds(), odds(event_id="ev-2")]}).encode()
    assert parse_json(good, provider="demo", received_at=NOW).messages == fast(good).messages
    bad = json.dumps({"messages": [odds(), odds(sport="curling")]}).encode()
    result = parse_json(bad, provider="demo", received_at=NOW)
    assert [m.event_id for m in result.messages] == ["ev-1"]
    assert [r.field for r in result.refusals] == ["messages[1].sport"]
