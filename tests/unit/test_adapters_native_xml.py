"""Native XML adapter: the XSD, refusals with lines and paths, one body element per kind."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from lxml import etree

from services.ingestion.adapters import AdapterError, parse_xml
from services.ingestion.adapters.base import ParseResult
from services.ingestion.adapters.native_xml import MAX_BATCH, SCHEMA_PATH
from shared.enums import EventStatus, MarketStatus, MessageKind, Sport
from shared.model import BetStopBody

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

ODDS = """<message sport="basketball" event_id="demo:bb:1" ts="2026-03-01T11:00:00Z">
  <odds>
    <market key="moneyline">
      <outcome id="home" price="{home}"/>
      <outcome id="{other}" price="2.60"/>
    </market>
  </odds>
</message>"""


def odds(home: str = "1.50", other: str = "away") -> str:
    return ODDS.format(home=home, other=other)


def parse(text: str) -> ParseResult:
    return parse_xml(text.encode(), provider="demo", received_at=NOW)


def adapter_error(text: str | bytes) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_xml(text if isinstance(text, bytes) else text.encode(), provider="demo",
                  received_at=NOW)
    return caught.value


def test_single_message_root_is_accepted() -> None:
    result = parse(odds())
    assert result.refusals == []
    [message] = result.messages
    assert (message.kind, message.provider, message.received_at) == (MessageKind.ODDS, "demo", NOW)


def test_price_out_of_range_names_field_line_and_attribute() -> None:
    [refusal] = parse(f"<feed>\n{odds(home='1.0')}\n</feed>").refusals
    assert refusal.field == "messages[0].body.markets[0].outcomes[0].price"
    assert refusal.line == 5
    assert "/feed/message/odds/market/outcome[1]/@price" in refusal.reason
    assert refusal.index == 0


def test_basketball_moneyline_with_a_draw_is_refused_naming_the_outcome() -> None:
    [refusal] = parse(odds(other="draw")).refusals
    assert refusal.field == "body.markets[0].outcomes[1].id"
    assert refusal.line == 5
    assert "outcome[2]/@id" in refusal.reason


def test_xsd_error_names_path_attribute_and_line() -> None:
    text = "<feed>\n" + odds() + "\n" + odds().replace("basketball", "curling") + "\n</feed>"
    result = parse(text)
    assert len(result.messages) == 1
    [refusal] = result.refusals
    assert refusal.field == "/feed/message[2]/@sport"
    assert (refusal.line, refusal.index, refusal.event_id) == (10, 1, "demo:bb:1")
    assert "'curling' is not an element of the set" in refusal.reason


def test_time_without_zone_is_refused_by_the_schema() -> None:
    [refusal] = parse(odds().replace("11:00:00Z", "11:00:00")).refusals
    assert refusal.field == "/message/@ts"


def test_kind_attribute_must_match_the_body_element() -> None:
    [refusal] = parse(odds().replace("<message ", '<message kind="live" ', 1)).refusals
    assert refusal.field == "body.kind"
    assert "/message/@kind" in refusal.reason


def test_market_without_keys_in_bet_stop_means_all_markets() -> None:
    text = '<message sport="tennis" event_id="t1" ts="2026-03-01T11:00:00Z"><bet_stop/></message>'
    [message] = parse(text).messages
    assert isinstance(message.body, BetStopBody)
    assert message.body.market_keys is None


def test_malformed_xml_raises_with_the_line() -> None:
    error = adapter_error("<feed>\n<message>\n</feed>")
    assert error.refusal.line == 3
    assert error.refusal.reason.startswith("malformed XML at line 3")


@pytest.mark.parametrize(("text", "fragment"), [
    ("<odds_change/>", "root element is <odds_change>, expected <feed> or <message>"),
    ("<feed/>", "/feed: Missing child element(s)"),
    ("<feed><other/></feed>", "/feed/other: This element is not expected"),
    ('<!DOCTYPE feed [<!ENTITY x "y">]><feed/>', "DOCTYPE is not allowed"),
])
def test_unreadable_documents_raise_adapter_error(text: str, fragment: str) -> None:
    assert fragment in adapter_error(text).refusal.reason


def test_feed_over_the_limit_names_the_limit() -> None:
    text = "<feed>" + odds() * (MAX_BATCH + 1) + "</feed>"
    assert f"over the limit of {MAX_BATCH}" in adapter_error(text).refusal.reason


def _enumeration(schema: etree._ElementTree, name: str) -> set[str]:
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
    return set(schema.xpath(f"//xs:simpleType[@name='{name}']//xs:enumeration/@value",
                            namespaces=ns))  # type: ignore[arg-type]


def test_schema_enumerations_match_the_canonical_enums() -> None:
    schema = etree.parse(str(SCHEMA_PATH))
    assert _enumeration(schema, "sport") == {s.value for s in Sport}
    assert _enumeration(schema, "kind") == {k.value for k in MessageKind}
    assert _enumeration(schema, "eventStatus") == {s.value for s in EventStatus}
    assert _enumeration(schema, "marketStatus") == {s.value for s in MarketStatus}


def test_every_kind_has_a_body_element() -> None:
    text = SCHEMA_PATH.read_text()
    body = re.search(r'<xs:complexType name="messageType">(.*?)</xs:choice>', text, re.S)
    assert body is not None
    assert set(re.findall(r'<xs:element name="(\w+)"', body.group(1))) == {
        k.value for k in MessageKind}
