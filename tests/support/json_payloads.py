"""Native JSON payloads for the adapter tests: valid messages of every kind, and mutations.

The fast path of the JSON adapter must give exactly what the full path gives, or defer
to it; these strategies make payloads that are mostly valid (so both paths reach the
model and the sport rules) with the spellings where the two could part: numbers as
JSON numbers or strings, trailing zeros, exponents, missing ``kind`` in the body,
duplicate keys, ids given or not.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

T0 = "2026-03-01T11:00:00Z"

prices = st.sampled_from(["2.10", "1.5", "3", "1.001", "1000", "2.50", "1.0"] * 3 + [
    "0.9", "abc", "1.23456", "2E+1", ""]) | st.decimals(
    min_value=1, max_value=1001, places=3, allow_nan=False).map(str)
# JSON number literals as written into the payload text (not via Python floats).
number_literals = st.sampled_from(["2.1", "2.10", "2", "1e1", "2.5E0", "1.0000000000000001",
                                   "3.3333333333333335", "0.5", "0.50", "1", "0", "-0", "1001"])


def _outcomes(ids: tuple[str, ...]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.fixed_dictionaries(
        {"id": st.sampled_from(ids)},
        optional={"price": prices, "active": st.booleans() | st.sampled_from(["true", 1, None])},
    ), min_size=1, max_size=4)


markets = st.one_of(
    st.fixed_dictionaries({"market_key": st.just("1x2"), "outcomes": _outcomes(
        ("home", "draw", "away", "over"))}, optional={"status": st.sampled_from(
            ["active", "suspended", "settled", "nope"])}),
    st.fixed_dictionaries({"market_key": st.sampled_from(
        ["totals|total=2.5", "totals|total=2.50", "Totals|total=+2.5", "totals|total=2.25",
         "totals", "uof:47|player=sr:player:1", "handicap|hcp=-1.0"]),
        "outcomes": _outcomes(("over", "under", "home", "away", "sr:player:1"))},
        optional={"status": st.sampled_from(["active", "deactivated"])}),
)
settled = st.fixed_dictionaries({
    "market_key": st.sampled_from(["1x2", "totals|total=2.5", "draw_no_bet"]),
    "outcomes": st.lists(st.fixed_dictionaries(
        {"outcome_id": st.sampled_from(["home", "draw", "away", "over", "under"]),
         "result": st.sampled_from(["won", "lost"])},
        optional={"void_factor": st.sampled_from(["0", "0.5", "0.50", "1", "1.0", "0.25"]),
                  "dead_heat_factor": st.sampled_from(["0.5", "1", "0"])}),
        min_size=1, max_size=3),
})
periods = st.lists(st.fixed_dictionaries({
    "period": st.sampled_from(["1h", "2h", "et1", "q1", "set1"]),
    "home": st.integers(0, 3), "away": st.integers(0, 3)}), max_size=3)
bodies = st.one_of(
    st.tuples(st.just("odds"), st.fixed_dictionaries(
        {"markets": st.lists(markets, min_size=1, max_size=3)},
        optional={"producer": st.sampled_from(["1", "3"])})),
    st.tuples(st.just("settlement"), st.fixed_dictionaries(
        {"markets": st.lists(settled, min_size=1, max_size=2)},
        optional={"certainty": st.sampled_from(["confirmed", "live_scouted", "maybe"])})),
    st.tuples(st.just("live"), st.fixed_dictionaries(
        {"status": st.sampled_from(["live", "ended", "not_started"])},
        optional={"period": st.sampled_from(["1h", "ht", "q1"]),
                  "score": st.fixed_dictionaries({"home": st.integers(0, 3),
                                                  "away": st.integers(0, 3),
                                                  "periods": periods}),
                  "clock": st.fixed_dictionaries({"seconds": st.integers(0, 7000)},
                                                 optional={"running": st.booleans()})})),
    st.tuples(st.just("bet_stop"), st.fixed_dictionaries({}, optional={
        "market_keys": st.lists(st.sampled_from(["1x2", "totals|total=2.5", "moneyline"]),
                                max_size=2), "reason": st.just("goal")})),
    st.tuples(st.just("cancel"), st.fixed_dictionaries({}, optional={
        "market_keys": st.lists(st.just("1x2"), max_size=1),
        "start_time": st.sampled_from([T0, "2026-03-01T12:00:00+02:00", "noon"])})),
    st.tuples(st.just("rollback"), st.fixed_dictionaries(
        {"of": st.sampled_from(["settlement", "cancel", "odds"])})),
    st.tuples(st.just("fixture"), st.fixed_dictionaries({}, optional={
        "start_time": st.just(T0), "status": st.just("not_started"),
        "best_of": st.sampled_from([3, 5, 4]),
        "competition": st.fixed_dictionaries({"id": st.just("c1"), "name": st.just("Cup")})})),
    st.tuples(st.just("alive"), st.fixed_dictionaries({}, optional={
        "subscribed": st.booleans()})),
)


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """One message, valid more often than not."""
    kind, body = draw(bodies)
    if draw(st.booleans()):
        body = {**body, "kind": draw(st.sampled_from([kind, kind, "odds", "alive"]))}
    message: dict[str, Any] = {
        "sport": draw(st.sampled_from(["football"] * 6 + ["basketball", "tennis",
                                                        "ice_hockey", "curling"])),
        "event_id": draw(st.sampled_from(["ev-1", "sr:match:9"] * 4 + ["", "bad id"])),
        "kind": draw(st.sampled_from([kind] * 8 + ["nope"])),
        "provider_ts": draw(st.sampled_from([T0] * 4 + [
            "2026-03-01T11:00:00+01:00", "2026-03-01", "0001-01-01T00:00:00+01:00",
            1767274200])),
        "body": body,
    }
    extras: list[dict[str, str | None]] = [
        {}, {}, {}, {"message_id": "m-1"}, {"message_id": "m-1"}, {"message_id": ""},
        {"provider": "demo"}, {"provider": "other"}, {"received_at": T0}, {"message_id": None}]
    extra = draw(st.sampled_from(extras))
    return {**message, **extra}


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """A payload's bytes: one message, an array, or a batch object, with odd spellings."""
    items = draw(st.lists(messages(), min_size=1, max_size=4))
    shape = draw(st.sampled_from(["one", "array", "batch"]))
    value: Any = items[0] if shape == "one" else items if shape == "array" else {
        "messages": items}
    text = json.dumps(value)
    # Prices as JSON numbers, written as literals so that their exact text survives.
    for literal in draw(st.lists(number_literals, max_size=3)):
        text = text.replace('"price": "2.10"', f'"price": {literal}', 1)
        text = text.replace('"void_factor": "0.5"', f'"void_factor": {literal}', 1)
    if draw(st.integers(0, 9)) == 0:  # a key given twice in the first object that has it
        text = text.replace('"sport": ', '"sport": "football", "sport": ', 1)
    if draw(st.integers(0, 19)) == 0:
        text = text.replace('"status": ', '"status": "active", "status": ', 1)
    return text.encode()
