"""UOF adapter: status codes, periods, market mapping, refusals and routing keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from services.ingestion.adapters import (
    UOF_SPORT_IDS,
    AdapterError,
    parse_uof,
    sport_from_uof_routing,
)
from services.ingestion.adapters.base import ParseResult
from services.ingestion.adapters.uof_markets import MAIN_MARKETS
from shared.enums import EventStatus, MarketStatus, MessageKind, Sport
from shared.model import AliveBody, LiveBody, OddsBody, SettlementBody
from shared.rules import rules_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)
UOF = Path(__file__).resolve().parent.parent / "fixtures" / "uof"


def parse(text: str, sport: Sport = Sport.FOOTBALL) -> ParseResult:
    return parse_uof(text.encode(), provider="uof", received_at=NOW, sport=sport)


def odds_change(markets: str = "", status: str = "", event: str = "sr:match:1") -> str:
    odds = f"<odds>{markets}</odds>" if markets else ""
    return (f'<odds_change event_id="{event}" timestamp="1767274200000" product="1">'
            f"{status}{odds}</odds_change>")


def market_statuses(markets: str) -> dict[str, MarketStatus]:
    result = parse(odds_change(markets))
    assert result.refusals == []
    [message] = result.messages
    assert isinstance(message.body, OddsBody)
    return {m.market_key: m.status for m in message.body.markets}


def live(status: str, sport: Sport = Sport.FOOTBALL) -> LiveBody:
    result = parse(odds_change(status=status), sport)
    assert result.refusals == [], result.refusals
    [message] = result.messages
    assert isinstance(message.body, LiveBody)
    return message.body


def test_uof_market_status_codes_map_to_the_six_statuses() -> None:
    markets = "".join(f'<market id="{900 + i}" status="{code}"/>'
                      for i, code in enumerate(["1", "-1", "0", "-2", "-3", "-4"]))
    assert list(market_statuses(markets).values()) == [
        MarketStatus.ACTIVE, MarketStatus.SUSPENDED, MarketStatus.DEACTIVATED,
        MarketStatus.HANDED_OVER, MarketStatus.SETTLED, MarketStatus.CANCELLED]


def test_market_without_status_is_active() -> None:
    assert market_statuses('<market id="900"/>') == {"uof:900": MarketStatus.ACTIVE}


def test_unknown_market_status_is_refused_naming_it() -> None:
    [refusal] = parse(odds_change('<market id="900" status="7"/>')).refusals
    assert refusal.field == "/odds_change/odds/market/@status"
    assert "'7' is not a UOF market status" in refusal.reason


@pytest.mark.parametrize(("code", "expected"), [
    ("0", EventStatus.NOT_STARTED), ("1", EventStatus.LIVE), ("2", EventStatus.SUSPENDED),
    ("3", EventStatus.ENDED), ("4", EventStatus.CLOSED), ("5", EventStatus.CANCELLED),
    ("6", EventStatus.DELAYED), ("7", EventStatus.INTERRUPTED), ("8", EventStatus.POSTPONED),
    ("9", EventStatus.ABANDONED),
])
def test_uof_event_status_codes_map_to_canonical_statuses(code: str, expected: EventStatus) -> None:
    # Ended statuses need a winner in basketball's rules, so use a football 0-0 here.
    assert live(f'<sport_event_status status="{code}"/>').status is expected


def test_partial_odds_change_keeps_only_the_markets_present() -> None:
    result = parse_uof((UOF / "odds_change-0.xml").read_bytes(), provider="uof",
                       received_at=NOW, sport=Sport.FOOTBALL)
    odds = [m for m in result.messages if m.kind is MessageKind.ODDS]
    assert len(odds) == 1
    assert isinstance(odds[0].body, OddsBody)
    keys = [m.market_key for m in odds[0].body.markets]
    assert keys == ["uof:47|score=41.5", "uof:48|score=42.5", "uof:49",
                    "uof:123|game=3|point=1|set=2", "uof:188", "uof:899",
                    "uof:145|variant=sr:point_range:76+", "uof:888|player=sr:player:361790",
                    "uof:891|goalnr=1|player=sr:player:122702"]
    live_messages = [m for m in result.messages if m.kind is MessageKind.LIVE]
    assert len(live_messages) == 1
    assert live_messages[0].message_id != odds[0].message_id


def test_odds_change_without_odds_gives_only_a_live_message() -> None:
    result = parse(odds_change(status='<sport_event_status status="0"/>'))
    assert [m.kind for m in result.messages] == [MessageKind.LIVE]


def test_empty_odds_change_is_refused_not_silently_dropped() -> None:
    [refusal] = parse(odds_change()).refusals
    assert "nothing to apply" in refusal.reason


def test_unmapped_outcome_of_a_mapped_market_is_refused_naming_it() -> None:
    markets = ('<market id="1"><outcome id="1" odds="2"/><outcome id="2" odds="3"/>'
               '<outcome id="4" odds="4"/></market>')
    result = parse(odds_change(markets, '<sport_event_status status="0"/>'))
    assert [m.kind for m in result.messages] == [MessageKind.LIVE]  # live survives
    [refusal] = result.refusals
    assert refusal.field == "/odds_change/odds/market/outcome[3]/@id"
    assert "outcome 4 of UOF market 1 (1x2, canonical 1x2) is not mapped" in refusal.reason
    assert (refusal.event_id, refusal.sport, refusal.line) == ("sr:match:1", "football", 1)


def test_mapped_market_missing_an_outcome_is_refused_by_sport_rules() -> None:
    [refusal] = parse(odds_change('<market id="18" specifiers="total=2.5">'
                                  '<outcome id="12" odds="1.9"/></market>')).refusals
    assert refusal.field == "body.markets[0].outcomes"
    assert "outcomes missing: under" in refusal.reason
    assert "/odds_change/odds/market" in refusal.reason


def test_same_market_id_maps_per_sport() -> None:
    market = '<market id="1"><outcome id="1" odds="2"/><outcome id="2" odds="3"/></market>'
    result = parse(odds_change(market), Sport.BASKETBALL)
    [message] = result.messages
    assert isinstance(message.body, OddsBody)
    assert message.body.markets[0].market_key == "uof:1"  # basketball has no canonical 1x2


def test_main_markets_exist_in_the_canonical_catalogue() -> None:
    for sport, markets in MAIN_MARKETS.items():
        catalogue = rules_for(sport).markets
        for uof_id, mapping in markets.items():
            spec = catalogue[mapping.type]
            assert set(mapping.outcomes.values()) == set(spec.outcomes), (sport, uof_id)


def test_mapping_agrees_with_the_uof_market_descriptions() -> None:
    descriptions = etree.parse(str(UOF / "markets-0.xml")).getroot()
    checked = 0
    for market in descriptions.iter("market"):
        mapping = MAIN_MARKETS[Sport.FOOTBALL].get(str(market.get("id")))
        outcomes = {str(o.get("id")) for o in market.iter("outcome")}
        if mapping is not None and outcomes:
            assert set(mapping.outcomes) == outcomes, market.get("id")
            checked += 1
    assert checked == 2  # 1x2 and draw no bet are described in the sample


@pytest.mark.parametrize(("sport", "code", "period"), [
    (Sport.FOOTBALL, "6", "1h"), (Sport.FOOTBALL, "31", "ht"), (Sport.FOOTBALL, "41", "et1"),
    (Sport.FOOTBALL, "50", "pen"), (Sport.BASKETBALL, "16", "q4"),
    (Sport.BASKETBALL, "40", "ot1"), (Sport.ICE_HOCKEY, "3", "p3"),
    (Sport.ICE_HOCKEY, "50", "so"), (Sport.TENNIS, "12", "set5"), (Sport.FOOTBALL, "100", None),
])
def test_match_status_gives_the_current_period(sport: Sport, code: str, period: str) -> None:
    status = "3" if code == "100" else "1"
    assert live(f'<sport_event_status status="{status}" match_status="{code}"/>',
                sport).period == period


def test_unmapped_match_status_is_refused() -> None:
    [refusal] = parse(odds_change(status='<sport_event_status status="1" match_status="13"/>'),
                      Sport.FOOTBALL).refusals
    assert refusal.field == "/odds_change/sport_event_status/@match_status"


def test_clock_match_time_becomes_seconds() -> None:
    body = live('<sport_event_status status="1" match_status="7"><clock match_time="75:02"/>'
                "</sport_event_status>")
    assert body.clock is not None
    assert body.clock.seconds == 75 * 60 + 2
    [refusal] = parse(odds_change(status='<sport_event_status status="1"><clock match_time="x"/>'
                                         "</sport_event_status>")).refusals
    assert refusal.field == "/odds_change/sport_event_status/clock/@match_time"


def test_score_that_does_not_add_up_is_refused_at_the_status_element() -> None:
    status = ('<sport_event_status status="1" match_status="7" home_score="3" away_score="0">'
              '<period_scores><period_score match_status_code="6" number="1" home_score="1" '
              'away_score="0"/></period_scores></sport_event_status>')
    [refusal] = parse(odds_change(status=status)).refusals
    assert refusal.field == "body.score"
    assert "does not match its periods" in refusal.reason
    assert "/odds_change/sport_event_status" in refusal.reason


def test_bet_settlement_results_and_factors() -> None:
    result = parse_uof((UOF / "bet_settlement.xml").read_bytes(), provider="uof",
                       received_at=NOW, sport=Sport.TENNIS)
    [message] = result.messages
    assert isinstance(message.body, SettlementBody)
    market = message.body.markets[2]
    assert [(o.outcome_id, o.result.value, str(o.void_factor)) for o in market.outcomes] == [
        ("863", "lost", "1"), ("864", "lost", "0.5"), ("861", "won", "0.5"), ("862", "lost", "0")]


def test_bet_cancel_without_markets_is_refused_rather_than_voiding_all() -> None:
    text = '<bet_cancel event_id="sr:match:1" timestamp="1" product="1"/>'
    [refusal] = parse(text).refusals
    assert "names no market" in refusal.reason


def test_alive_uses_the_alive_event_id_and_product() -> None:
    [message] = parse('<alive product="1" timestamp="1000" subscribed="0"/>').messages
    assert (message.event_id, message.kind) == ("_alive", MessageKind.ALIVE)
    assert message.body == AliveBody(producer="1", subscribed=False)


def test_fixture_of_another_sport_is_refused() -> None:
    raw = (UOF / "fixture-0.xml").read_bytes()
    with pytest.raises(AdapterError, match="the fixture is football but the message was sent"):
        parse_uof(raw, provider="uof", received_at=NOW, sport=Sport.TENNIS)


@pytest.mark.parametrize(("text", "fragment"), [
    ("<market_descriptions/>", "root element <market_descriptions> is not a UOF message"),
    ('<odds_change timestamp="1"/>', "<odds_change> has no event_id"),
    ('<bet_stop event_id="sr:match:1" timestamp="soon"/>', "'soon' is not epoch milliseconds"),
    ("<odds_change", "malformed XML at line 1"),
])
def test_unreadable_uof_documents_raise(text: str, fragment: str) -> None:
    with pytest.raises(AdapterError) as caught:
        parse(text)
    assert fragment in caught.value.refusal.reason


def test_timestamps_are_exact_utc_milliseconds() -> None:
    [message] = parse('<alive product="1" timestamp="1767274200123"/>').messages
    assert message.provider_ts == datetime(2026, 1, 1, 13, 30, 0, 123000, tzinfo=UTC)


def test_uof_sport_ids() -> None:
    assert UOF_SPORT_IDS == {1: Sport.FOOTBALL, 2: Sport.BASKETBALL, 4: Sport.ICE_HOCKEY,
                             5: Sport.TENNIS}


@pytest.mark.parametrize(("value", "sport"), [
    ("1", Sport.FOOTBALL), ("5", Sport.TENNIS), ("sr:sport:4", Sport.ICE_HOCKEY),
    ("hi.pre.-.odds_change.1.sr:match.123.-", Sport.FOOTBALL),
    ("lo.-.live.bet_settlement.2.sr:match.9.-", Sport.BASKETBALL),
])
def test_sport_from_routing_key_or_id(value: str, sport: Sport) -> None:
    assert sport_from_uof_routing(value) is sport


@pytest.mark.parametrize(("value", "fragment"), [
    ("3", "UOF sport id 3 is not carried"),
    ("-.-.-.alive.-.-.-.-", "names no sport"),
    ("hi.pre.odds_change", "has 3 parts, expected 8"),
    ("soccer", "'soccer' is not a UOF sport id"),
])
def test_bad_routing_values_raise_value_error_naming_the_problem(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        sport_from_uof_routing(value)
