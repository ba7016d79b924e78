"""Property tests: any valid canonical message survives the Kafka JSON encoding unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.codec import decode_message, encode_message
from shared.enums import MarketStatus, Sport
from shared.markets import market_key, normalise_market_key
from shared.model import FeedMessage
from shared.rules import RULES

prices = st.decimals(min_value=Decimal("1.001"), max_value=Decimal(1000), places=3)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)  # noqa: DTZ001
)
idents = st.from_regex(r"[A-Za-z0-9:_.\-]{1,20}", fullmatch=True)


@st.composite
def markets(draw: st.DrawFn, sport: Sport) -> dict[str, object]:
    spec = draw(st.sampled_from(sorted(RULES[sport].markets.values(), key=lambda s: s.type)))
    specifiers = {}
    if "total" in spec.specifiers:
        specifiers["total"] = str(draw(st.integers(1, 400)) / 2)
    if "hcp" in spec.specifiers:
        specifiers["hcp"] = str(draw(st.integers(-40, 40)) / 4)
    status = draw(st.sampled_from([MarketStatus.ACTIVE, MarketStatus.SUSPENDED]))
    outcomes = [
        {"id": oid, "price": draw(prices), "active": draw(st.booleans())} for oid in spec.outcomes
    ]
    return {"market_key": market_key(spec.type, specifiers), "status": status, "outcomes": outcomes}


@st.composite
def odds_messages(draw: st.DrawFn) -> FeedMessage:
    sport = draw(st.sampled_from(list(Sport)))
    chosen = draw(st.lists(markets(sport), min_size=1, max_size=5, unique_by=lambda m: m["market_key"]))
    ts = draw(times)
    return FeedMessage.model_validate({
        "message_id": draw(idents), "provider": "prov", "sport": sport, "event_id": draw(idents),
        "kind": "odds", "provider_ts": ts, "received_at": ts + timedelta(milliseconds=5),
        "body": {"markets": chosen, "producer": draw(st.none() | st.just("3"))},
    })


@settings(max_examples=200, deadline=None)
@given(odds_messages())
def test_odds_message_round_trips_through_the_codec(msg: FeedMessage) -> None:
    assert decode_message(encode_message(msg)) == msg


@st.composite
def football_live(draw: st.DrawFn) -> FeedMessage:
    halves = draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=2))
    names = ("1h", "2h")[: len(halves)]
    periods = [{"period": n, "home": h, "away": a} for n, (h, a) in zip(names, halves, strict=True)]
    return FeedMessage.model_validate({
        "message_id": "m", "provider": "prov", "sport": "football", "event_id": "e", "kind": "live",
        "provider_ts": draw(times), "received_at": draw(times),
        "body": {"status": "live", "period": periods[-1]["period"],
                 "clock": {"seconds": draw(st.integers(0, 5400))},
                 "score": {"home": sum(h for h, _ in halves), "away": sum(a for _, a in halves),
                           "periods": periods}},
    })


@settings(max_examples=100, deadline=None)
@given(football_live())
def test_live_message_round_trips_through_the_codec(msg: FeedMessage) -> None:
    assert decode_message(encode_message(msg)) == msg


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
                       st.decimals(min_value=-100, max_value=100, places=2), max_size=4))
def test_market_key_normalisation_is_idempotent(specifiers: dict[str, Decimal]) -> None:
    key = market_key("uof:1", {k: str(v) for k, v in specifiers.items()})
    assert normalise_market_key(key) == key
