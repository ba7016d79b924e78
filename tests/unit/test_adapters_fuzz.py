"""Property tests: whatever bytes or JSON arrive, adapters answer or raise AdapterError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from services.ingestion.adapters import AdapterError, parse_json, parse_uof, parse_xml
from services.ingestion.adapters.base import ParseResult
from shared.enums import Sport

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# database=None: no .hypothesis folder in the work tree; failures print their example.
FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=5),
    max_leaves=30,
)

# Messages that are nearly right, so the fuzzing reaches the model and the sport rules.
numbers = st.integers(-10**70, 10**70) | st.decimals(allow_nan=False).map(str) | st.text(
    "0123456789.-+eE", max_size=12)
market_keys = st.builds(
    lambda t, name, value: f"{t}|{name}={value}" if name else t,
    st.sampled_from(["1x2", "totals", "handicap", "moneyline", "uof:47", "set_handicap", "X"]),
    st.sampled_from(["", "total", "hcp", "player"]), numbers,
)
outcomes = st.lists(st.fixed_dictionaries({
    "id": st.sampled_from(["home", "away", "draw", "over", "under", "sr:player:1"]),
    "price": numbers, "active": st.booleans(),
}), max_size=4)
settled = st.lists(st.fixed_dictionaries({
    "outcome_id": st.sampled_from(["home", "away", "draw", "over"]),
    "result": st.sampled_from(["won", "lost", "x"]),
    "void_factor": numbers, "dead_heat_factor": numbers,
}), max_size=3)
periods = st.lists(st.fixed_dictionaries({
    "period": st.sampled_from(["1h", "2h", "q1", "ot1", "set1", "so", "p1"]),
    "home": st.integers(-1, 1000), "away": st.integers(0, 8),
}), max_size=4)
bodies = (
    st.fixed_dictionaries({"markets": st.lists(st.fixed_dictionaries(
        {"market_key": market_keys, "outcomes": outcomes}), max_size=3)})
    | st.fixed_dictionaries({"markets": st.lists(st.fixed_dictionaries(
        {"market_key": market_keys, "outcomes": settled}), max_size=3)})
    | st.fixed_dictionaries({"market_keys": st.lists(market_keys, max_size=3)})
    | st.fixed_dictionaries({"status": st.sampled_from(["live", "ended", "not_started"]),
                             "score": st.fixed_dictionaries({
                                 "home": st.integers(0, 9), "away": st.integers(0, 9),
                                 "periods": periods})})
    | json_values
)
message_like = st.fixed_dictionaries({
    "sport": st.sampled_from(["football", "basketball", "tennis", "ice_hockey", "x"]),
    "event_id": st.text(max_size=8),
    "kind": st.sampled_from(["odds", "live", "bet_stop", "settlement", "cancel", "rollback",
                             "fixture", "nope"]),
    "provider_ts": st.sampled_from(["2026-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "x"]),
    "body": bodies,
})

xml_fragments = st.lists(st.sampled_from([
    "<feed>", "</feed>", "<message", ' sport="tennis"', ' event_id="e"',
    ' ts="2026-01-01T00:00:00Z"', ">", "</message>", "<odds>", "</odds>",
    '<market key="moneyline">', '<market key="totals|total=2.5">', "</market>",
    '<outcome id="home" price="1.5"/>', '<outcome id="draw" price="0"/>', "<live",
    ' status="live"', "<alive/>", "<bet_stop/>", "&amp;", "<!DOCTYPE", "<?pi?>", "x",
]), max_size=30).map("".join)


def _safe(call: Any) -> None:
    """Run an adapter: it returns a ParseResult or raises AdapterError, nothing else."""
    try:
        result = call()
    except AdapterError as exc:
        refusals = [exc.refusal]
    else:
        assert isinstance(result, ParseResult)
        refusals = result.refusals
    assert all(r.reason for r in refusals)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_any_adapter(raw: bytes) -> None:
    _safe(lambda: parse_json(raw, provider="demo", received_at=NOW))
    _safe(lambda: parse_xml(raw, provider="demo", received_at=NOW))
    _safe(lambda: parse_uof(raw, provider="uof", received_at=NOW, sport=Sport.TENNIS))


@FUZZ
@given(json_values | st.lists(message_like, max_size=3) | message_like)
def test_random_json_values_never_crash_parse_json(value: Any) -> None:
    raw = json.dumps(value).encode()  # NaN and Infinity included, as Python writes them
    _safe(lambda: parse_json(raw, provider="demo", received_at=NOW))


@FUZZ
@given(xml_fragments)
def test_random_xml_never_crashes_parse_xml(text: str) -> None:
    _safe(lambda: parse_xml(text.encode(), provider="demo", received_at=NOW))


UOF_SAMPLES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "uof").glob("*.xml"))
attribute_values = st.sampled_from(["", "-1", "0", "1", "3", "13", "40", "50", "99:99", "1.0",
                                    "x|y", "a=1|a=2", "sr:player:1", "9" * 30, "é", "²", "1e3"])


@FUZZ
@given(st.sampled_from(UOF_SAMPLES), st.data(), st.sampled_from(list(Sport)))
def test_uof_samples_with_random_attribute_values_never_crash(
    sample: Path, data: st.DataObject, sport: Sport
) -> None:
    root = etree.fromstring(sample.read_bytes())
    elements = list(root.iter())
    for _ in range(data.draw(st.integers(1, 4))):
        element = data.draw(st.sampled_from(elements))
        if element.attrib:
            name = data.draw(st.sampled_from(sorted(element.attrib)))
            element.set(name, data.draw(attribute_values))
    raw = etree.tostring(root)
    _safe(lambda: parse_uof(raw, provider="uof", received_at=NOW, sport=sport))
