"""Native JSON adapter: batches, precise refusals, exact decimals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.ingestion.adapters import AdapterError, parse_json
from services.ingestion.adapters.base import ParseResult
from services.ingestion.adapters.native_json import MAX_BATCH
from shared.model import OddsBody

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def odds(**overrides: Any) -> dict[str, Any]:
    """A valid basketball odds message, changed by ``overrides``."""
    message: dict[str, Any] = {
        "sport": "basketball", "event_id": "demo:bb:1", "kind": "odds",
        "provider_ts": "2026-03-01T11:00:00Z",
        "body": {"markets": [{"market_key": "moneyline", "outcomes": [
            {"id": "home", "price": "1.50"}, {"id": "away", "price": "2.60"}]}]},
    }
    message.update(overrides)
    return message


def parse(payload: Any) -> ParseResult:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_json(raw, provider="demo", received_at=NOW)


def adapter_error(payload: Any) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse(payload)
    return caught.value


def test_single_message_object_is_accepted_with_service_provider_and_clock() -> None:
    result = parse(odds(message_id="p-1"))
    assert result.refusals == []
    [message] = result.messages
    assert (message.message_id, message.provider, message.received_at) == ("p-1", "demo", NOW)
    assert message.body.kind == "odds"  # filled from the envelope


def test_array_and_messages_object_are_both_batches() -> None:
    for payload in ([odds(), odds(event_id="demo:bb:2")],
                    {"messages": [odds(), odds(event_id="demo:bb:2")]}):
        result = parse(payload)
        assert [m.event_id for m in result.messages] == ["demo:bb:1", "demo:bb:2"]


def test_prices_are_exact_decimals_never_floats() -> None:
    raw = json.dumps(odds()).replace('"1.50"', "1.1").replace('"2.60"', "2.2").encode()
    [message] = parse(raw).messages
    assert isinstance(message.body, OddsBody)
    prices = [o.price for o in message.body.markets[0].outcomes]
    assert prices == [Decimal("1.1"), Decimal("2.2")]
    assert all(type(p) is Decimal for p in prices)
    assert sum((p for p in prices if p is not None), Decimal(0)) == Decimal("3.3")  # all Decimals (above)


def test_message_without_id_gets_a_stable_content_hash() -> None:
    first, second = parse(odds()).messages[0], parse(odds()).messages[0]
    assert first.message_id.startswith("h:")
    assert first.message_id == second.message_id
    assert parse(odds(event_id="demo:bb:9")).messages[0].message_id != first.message_id


def test_basketball_moneyline_with_a_draw_is_refused_naming_the_outcome() -> None:
    message = odds()
    message["body"]["markets"][0]["outcomes"].append({"id": "draw", "price": "12"})
    [refusal] = parse([message]).refusals
    assert refusal.field == "messages[0].body.markets[0].outcomes[2].id"
    assert "draw is not an outcome of basketball moneyline" in refusal.reason
    assert (refusal.index, refusal.sport, refusal.event_id) == (0, "basketball", "demo:bb:1")


def test_price_of_one_is_refused_naming_the_price() -> None:
    message = odds()
    message["body"]["markets"][0]["outcomes"][0]["price"] = "1.0"
    [refusal] = parse(message).refusals
    assert refusal.field == "body.markets[0].outcomes[0].price"
    assert refusal.index is None
    assert "outside 1.001..1000" in refusal.reason


def test_batch_with_one_bad_message_keeps_the_good_ones() -> None:
    bad = odds(provider_ts="yesterday", message_id="p-bad")
    result = parse({"messages": [odds(message_id="p-1"), bad, odds(message_id="p-3")]})
    assert [m.message_id for m in result.messages] == ["p-1", "p-3"]
    [refusal] = result.refusals
    assert (refusal.index, refusal.field, refusal.message_id) == (
        1, "messages[1].provider_ts", "p-bad")


def test_unknown_sport_is_refused_naming_sport() -> None:
    [refusal] = parse([odds(sport="curling")]).refusals
    assert refusal.field == "messages[0].sport"
    assert refusal.sport is None  # not a sport we could route the rejection by


def test_rule_errors_name_the_part_at_fault() -> None:
    live = {"sport": "football", "event_id": "e1", "kind": "live",
            "provider_ts": "2026-03-01T11:00:00Z",
            "body": {"status": "live", "score": {"home": 1, "away": 0, "periods": [
                {"period": "1h", "home": 0, "away": 0}, {"period": "q2", "home": 1, "away": 0}]}}}
    [refusal] = parse(live).refusals
    assert refusal.field == "body.score.periods[1].period"
    mismatch = odds(kind="live")
    mismatch["body"]["kind"] = "odds"
    assert parse(mismatch).refusals[0].field == "body.kind"
    stop = {"sport": "tennis", "event_id": "e1", "kind": "bet_stop",
            "provider_ts": "2026-03-01T11:00:00Z", "body": {"market_keys": ["moneyline", "1x2"]}}
    assert parse(stop).refusals[0].field == "body.market_keys[1]"


@pytest.mark.parametrize(("item", "kind"), [(3, "number"), ("x", "string"), ([], "array"),
                                            (None, "null"), (True, "boolean")])
def test_non_object_item_is_refused_with_its_type(item: Any, kind: str) -> None:
    [refusal] = parse([odds(), item]).refusals
    assert (refusal.index, refusal.field) == (1, "messages[1]")
    assert refusal.reason == f"messages[1]: expected a JSON object, got {kind}"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_naming_the_field(constant: str) -> None:
    raw = json.dumps([odds(), odds()]).encode()
    raw = raw.replace(b'"2.60"', constant.encode(), 2)  # the second message only
    raw = raw.replace(constant.encode(), b'"2.60"', 1)
    result = parse(raw)
    assert len(result.messages) == 1
    [refusal] = result.refusals
    assert refusal.field == "messages[1].body.markets[0].outcomes[1].price"
    assert refusal.reason.endswith(f"{constant} is not a number")


def test_payload_may_not_set_provider_or_received_at() -> None:
    refused = parse([odds(provider="someone-else"), odds(received_at="2026-03-01T12:00:00Z"),
                     odds(provider="demo")])
    assert [r.field for r in refused.refusals] == ["messages[0].provider",
                                                   "messages[1].received_at"]
    assert [m.provider for m in refused.messages] == ["demo"]


def test_malformed_json_raises_with_line_and_column() -> None:
    error = adapter_error(b'{\n  "sport": "football",\n  "event_id": }')
    assert error.refusal.line == 3
    assert error.refusal.reason.startswith("malformed JSON at line 3, column 15")


@pytest.mark.parametrize(("raw", "fragment"), [
    (b'{"sport": "f\xff"}', "not UTF-8: byte 0xff at offset 12"),
    (b'"just a string"', "got string"),
    (b"[]", "holds no messages"),
    (b'{"messages": {}}', "messages: expected an array, got object"),
    (b'{"messages": [], "extra": 1}', "unexpected top-level key 'extra'"),
    (b'{"a": 1, "a": 2}', "key a appears twice"),
    (b"[" * 100_000, "nested too deeply"),
    (b"1" * 5000, "malformed JSON"),
    (b"", "malformed JSON at line 1, column 1"),
])
def test_unreadable_payloads_raise_adapter_error(raw: bytes, fragment: str) -> None:
    assert fragment in adapter_error(raw).refusal.reason


def test_batch_over_the_limit_names_the_limit() -> None:
    error = adapter_error([odds()] * (MAX_BATCH + 1))
    assert f"over the limit of {MAX_BATCH}" in error.refusal.reason
    assert len(parse([odds()] * MAX_BATCH).messages) == MAX_BATCH


def test_utf8_bom_is_tolerated() -> None:
    assert len(parse(b"\xef\xbb\xbf" + json.dumps(odds()).encode()).messages) == 1


def test_values_that_break_model_arithmetic_are_refusals_not_crashes() -> None:
    # Converting year 1 at +01:00 to UTC overflows; a 60-digit total overflows Decimal.
    [early] = parse(odds(provider_ts="0001-01-01T00:00:00+01:00")).refusals
    assert early.field == "provider_ts"
    assert "out of range in UTC" in early.reason
    stop = odds(kind="bet_stop", body={"market_keys": ["totals|total=" + "9" * 60]})
    [huge] = parse([stop]).refusals
    assert huge.index == 0
    assert "is out of range" in huge.reason
