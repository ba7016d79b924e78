"""Frames, filters, merging and client messages of the WebSocket protocol (no I/O)."""

from __future__ import annotations

import orjson
import pytest

from services.distribution.ws.frames import (
    delta_payload,
    filter_delta,
    filter_snapshot,
    frame_of,
    market_matches,
)
from services.distribution.ws.merge import merge_deltas
from services.distribution.ws.protocol import (
    BadMessage,
    Resume,
    Subscribe,
    parse_client_message,
)
from shared.enums import EventStatus, SettlementResult
from shared.live import AppliedCancellation, AppliedSettlement, EventSnapshot, apply_delta
from shared.markets import OutcomeSettlement
from tests.support.distribution_fakes import decode_frames, delta, market, snapshot_data


@pytest.mark.parametrize("size", [2, 125, 126, 127, 65535, 65536, 70000])
def test_frames_carry_payloads_of_every_length_class(size: int) -> None:
    payload = b'"' + b"x" * (size - 2) + b'"'
    frame = frame_of(payload)
    assert frame.endswith(payload)
    assert len(frame) - len(payload) == (2 if size < 126 else 4 if size < 65536 else 10)
    assert decode_frames([frame]) == [orjson.loads(payload)]


def test_market_filter_matches_exact_keys_and_whole_types() -> None:
    assert market_matches(None, "totals|total=2.5")
    assert market_matches(frozenset({"totals"}), "totals|total=2.5")
    assert market_matches(frozenset({"totals|total=2.5"}), "totals|total=2.5")
    assert not market_matches(frozenset({"totals|total=3.5"}), "totals|total=2.5")
    assert not market_matches(frozenset({"1x2"}), "handicap|hcp=-0.5")


def test_filtered_delta_keeps_its_version_even_with_no_market_left() -> None:
    data = delta("ev", 7, market("1x2", "2.1", "3.4", "3.6")).model_dump(mode="json", exclude_none=True)
    filtered = filter_delta(data, frozenset({"totals"}))
    assert filtered["version"] == 7
    assert filtered["markets"] == []
    assert filter_delta(data, None)["markets"][0]["market_key"] == "1x2"


def test_filtered_snapshot_keeps_only_allowed_markets() -> None:
    data = snapshot_data("ev", 3, market("1x2", "2.1", "3.4", "3.6"),
                         market("totals|total=2.5", "1.9", "1.9"))
    assert list(filter_snapshot(data, frozenset({"totals"}))["markets"]) == ["totals|total=2.5"]
    assert len(filter_snapshot(data, None)["markets"]) == 2


def test_delta_payload_marks_merged_deltas_conflated_with_their_first_version() -> None:
    data = delta("ev", 9).model_dump(mode="json", exclude_none=True)
    plain = orjson.loads(delta_payload(data, None))
    merged = orjson.loads(delta_payload(data, None, from_version=5))
    assert plain["type"] == "delta"
    assert "conflated" not in plain
    assert (merged["conflated"], merged["from_version"], merged["version"]) == (True, 5, 9)


def test_merged_delta_applies_like_its_parts_in_order() -> None:
    base = EventSnapshot(event_id="ev", sport="football", version=1, markets={
        "1x2": market("1x2", "2.1", "3.4", "3.6")})
    first = delta("ev", 2, market("1x2", "2.0", "3.4", "3.8"), market("totals|total=2.5", "1.9", "1.9"),
                  status=EventStatus.LIVE)
    second = delta("ev", 3, market("1x2", "1.9", "3.5", "4.0"))
    stepwise = apply_delta(apply_delta(base, first), second)
    merged = merge_deltas(first, second)
    assert merged.version == 3
    at_once = apply_delta(base, merged.model_copy(update={"version": 2}))
    assert at_once.markets == stepwise.markets
    assert at_once.status == stepwise.status == EventStatus.LIVE


def test_merging_drops_settlements_that_the_later_delta_rolls_back() -> None:
    won = AppliedSettlement(market_key="1x2", certainty="confirmed", outcomes=(
        OutcomeSettlement(outcome_id="home", result=SettlementResult.WON),))
    first = delta("ev", 2, settlements=(won,))
    second = delta("ev", 3, rolled_back=("1x2",))
    merged = merge_deltas(first, second)
    assert merged.settlements == ()
    assert merged.rolled_back == ("1x2",)


def test_merging_refuses_other_events_and_older_versions() -> None:
    with pytest.raises(ValueError, match="cannot merge"):
        merge_deltas(delta("a", 2), delta("b", 3))
    with pytest.raises(ValueError, match="does not follow"):
        merge_deltas(delta("a", 3), delta("a", 2))


def test_subscribe_and_resume_messages_parse_into_models() -> None:
    sub = parse_client_message(
        b'{"type":"subscribe","sports":["tennis"],"markets":["totals"],"conflate_ms":250}')
    assert isinstance(sub, Subscribe)
    assert (sub.sports, sub.markets, sub.conflate_ms) == (["tennis"], ["totals"], 250)
    resume = parse_client_message('{"type":"resume","events":{"ev-1":12}}')
    assert isinstance(resume, Resume)
    assert resume.events == {"ev-1": 12}


@pytest.mark.parametrize(("raw", "field"), [
    ('{"type":"subscribe","sports":["curling"]}', "sports.0"),
    ('{"type":"subscribe","event_ids":["bad id"]}', "event_ids.0"),
    ('{"type":"subscribe","conflate_ms":-1}', "conflate_ms"),
    ('{"type":"subscribe","extra":1}', "extra"),
    ('{"type":"resume","events":{}}', "events"),
    ('{"type":"dance"}', "type"),
    ('{"sports":["football"]}', "type"),
    ("[1, 2]", None),
    ("not json", None),
])
def test_bad_client_messages_name_the_field(raw: str, field: str | None) -> None:
    with pytest.raises(BadMessage) as bad:
        parse_client_message(raw)
    assert bad.value.field == field


def test_merging_keeps_cancellations_unless_rolled_back_later() -> None:
    void = AppliedCancellation(market_key="1x2", void_reason="error")
    first = delta("ev", 2, cancellations=(void, AppliedCancellation(market_key="btts")))
    second = delta("ev", 3, rolled_back=("btts",))
    merged = merge_deltas(first, second)
    assert [c.market_key for c in merged.cancellations] == ["1x2"]
