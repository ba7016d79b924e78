"""The canonical model: envelope, prices, market keys, statuses, the JSON codec."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.codec import decode_message, encode_message, message_key
from shared.enums import (
    EventStatus,
    MarketStatus,
    event_transition_error,
    market_transition_error,
)
from shared.markets import Market, market_key, normalise_market_key, parse_market_key
from shared.model import FeedMessage, OddsBody, content_message_id
from shared.rules import RuleViolation
from tests.support.factories import T0, message, odds


def test_price_of_one_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"price 1\.0 is outside 1\.001\.\.1000"):
        odds("football", {"market_key": "1x2", "outcomes": [
            {"id": "home", "price": "1.0"}, {"id": "draw", "price": "3"},
            {"id": "away", "price": "4"}]})


@pytest.mark.parametrize("price", ["1001", "0", "-2", "NaN", "Infinity", "1.23456"])
def test_impossible_prices_are_refused(price: str) -> None:
    with pytest.raises(ValidationError):
        Market.of("moneyline", outcomes=[{"id": "home", "price": price}])


def test_prices_are_decimal_never_float() -> None:
    market = Market.of("moneyline", outcomes=[{"id": "home", "price": "1.10"}])
    assert isinstance(market.outcomes[0].price, Decimal)
    assert market.outcomes[0].price == Decimal("1.10")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("totals|total=2.50", "totals|total=2.5"),
        ("Totals|total=+2.5", "totals|total=2.5"),
        ("handicap|hcp=-1.0", "handicap|hcp=-1"),
        ("handicap|hcp=-0", "handicap|hcp=0"),
        ("uof:204|total=9.50|setnr=1", "uof:204|setnr=1|total=9.5"),
        ("uof:535|variant=pre:markettext:52751", "uof:535|variant=pre:markettext:52751"),
    ],
)
def test_market_keys_normalise(given: str, expected: str) -> None:
    assert normalise_market_key(given) == expected


def test_market_key_sorts_specifiers_and_parses_back() -> None:
    key = market_key("uof:123", {"set": "2", "game": "3", "point": "1"})
    assert key == "uof:123|game=3|point=1|set=2"
    assert parse_market_key(key) == ("uof:123", {"game": "3", "point": "1", "set": "2"})


@pytest.mark.parametrize("bad", ["totals|total", "totals|=2", "bad type|x=1", "totals|total=a b"])
def test_malformed_market_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="market"):
        normalise_market_key(bad)


def test_active_outcome_needs_a_price() -> None:
    with pytest.raises(ValidationError, match="active outcome needs a price"):
        Market.of("moneyline", outcomes=[{"id": "home", "active": True}])


def test_duplicate_market_in_one_message_is_refused() -> None:
    market = {"market_key": "btts", "outcomes": [{"id": "yes", "price": "2"}, {"id": "no", "price": "1.8"}]}
    with pytest.raises(ValidationError, match="appears twice"):
        odds("football", market, {**market, "market_key": "BTTS"})


def test_envelope_refuses_naive_times_and_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        message("football", "alive", {}, provider_ts=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValidationError, match="Extra inputs"):
        message("football", "alive", {}, colour="red")


def test_times_are_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    msg = message("football", "alive", {}, provider_ts=datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert msg.provider_ts.utcoffset() == timedelta(0)
    assert msg.provider_ts.hour == 10


def test_unknown_sport_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        message("curling", "alive", {})
    assert info.value.errors()[0]["loc"] == ("sport",)


def test_body_kind_must_match_envelope_kind() -> None:
    with pytest.raises(ValidationError, match="body is a alive body but kind is odds"):
        message("football", "odds", {"kind": "alive"})


def test_fixture_needs_two_different_competitors() -> None:
    fixture = {
        "competition": {"id": "c1", "name": "League"}, "start_time": T0,
        "home": {"id": "t1", "name": "A"}, "away": {"id": "t1", "name": "A"},
    }
    with pytest.raises(ValidationError, match="same competitor"):
        message("football", "fixture", fixture)


def test_content_message_id_is_stable_and_content_sensitive() -> None:
    body = OddsBody.model_validate({"markets": [{"market_key": "btts", "outcomes": [
        {"id": "yes", "price": "2"}, {"id": "no", "price": "1.8"}]}]})
    first = content_message_id("p", "football", "e1", "odds", T0, body)
    assert first == content_message_id("p", "football", "e1", "odds", T0, body)
    assert first != content_message_id("p", "football", "e2", "odds", T0, body)


def test_codec_round_trip_and_key() -> None:
    msg = odds("basketball", {"market_key": "totals|total=200.50", "status": "suspended", "outcomes": [
        {"id": "over", "price": "1.91"}, {"id": "under", "price": "1.91", "active": False}]})
    raw = encode_message(msg)
    assert b'"1.91"' in raw  # prices travel as exact strings
    assert decode_message(raw) == msg
    assert message_key(msg) == b"ev-1"


def test_market_state_machine() -> None:
    assert market_transition_error(MarketStatus.ACTIVE, MarketStatus.SUSPENDED) is None
    assert market_transition_error(MarketStatus.SUSPENDED, MarketStatus.ACTIVE) is None
    assert "illegal" in (market_transition_error(MarketStatus.SETTLED, MarketStatus.ACTIVE) or "")
    assert "illegal" in (market_transition_error(MarketStatus.CANCELLED, MarketStatus.SUSPENDED) or "")
    assert market_transition_error(MarketStatus.SETTLED, MarketStatus.ACTIVE, rollback=True) is None
    assert market_transition_error(MarketStatus.ACTIVE, MarketStatus.SETTLED, rollback=True)
    assert market_transition_error(MarketStatus.HANDED_OVER, MarketStatus.ACTIVE) is None


def test_event_state_machine() -> None:
    assert event_transition_error(EventStatus.NOT_STARTED, EventStatus.LIVE) is None
    assert event_transition_error(EventStatus.LIVE, EventStatus.ENDED) is None
    assert event_transition_error(EventStatus.ENDED, EventStatus.LIVE) == (
        "illegal event status transition ended -> live"
    )
    assert event_transition_error(EventStatus.CLOSED, EventStatus.ENDED)
    assert event_transition_error(None, EventStatus.LIVE) is None


def test_feed_message_is_frozen() -> None:
    msg = message("tennis", "alive", {})
    with pytest.raises(ValidationError):
        msg.event_id = "other"  # type: ignore[misc]
    assert isinstance(msg, FeedMessage)


@pytest.mark.parametrize(("given", "shown"), [("200.0", "200"), ("2.50", "2.5"), ("1.001", "1.001")])
def test_prices_have_one_plain_spelling(given: str, shown: str) -> None:
    market = Market.of("moneyline", outcomes=[{"id": "home", "price": given}])
    assert market.model_dump(mode="json")["outcomes"][0]["price"] == shown


def test_time_without_utc_form_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="out of range in UTC"):
        message("football", "alive", {}, provider_ts="0001-01-01T00:00:00+01:00")


def test_huge_specifier_is_refused_by_the_rules() -> None:
    with pytest.raises(RuleViolation, match="out of range"):
        odds("football", {"market_key": "totals|total=" + "9" * 60 + ".5", "status": "deactivated"})
