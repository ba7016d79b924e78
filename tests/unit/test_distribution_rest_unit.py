"""REST parameters, cursors and response bodies, without a server (no I/O)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.distribution.rest.params import (
    ParamError,
    decode_cursor,
    encode_cursor,
    parse_enums,
    parse_ids,
    parse_limit,
    parse_market_key,
    parse_range,
    parse_time,
)
from services.distribution.rest.queries import EventFilter, events_sql
from services.distribution.rest.views import (
    decimal_text,
    event_detail,
    history_csv,
    ledger_summary,
)
from services.distribution.settings import DistributionSettings
from shared.enums import EventStatus, Sport
from tests.support.distribution_fakes import market, snapshot_data

T = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)


def bad(parameter: str) -> pytest.RaisesExc[ParamError]:
    """Expect a 400 naming ``parameter``."""
    return pytest.raises(ParamError, match=f"^{parameter}: ")


def test_cursor_round_trips_to_the_microsecond_and_garbage_is_refused_by_name() -> None:
    at = T.replace(microsecond=123456)
    cursor = encode_cursor(at, "ev:1")
    assert cursor == "1777658400123456~ev:1"
    assert decode_cursor({"cursor": cursor}) == (at, "ev:1")
    assert decode_cursor({"cursor": "0~a"}) == (datetime(1970, 1, 1, tzinfo=UTC), "a")
    assert decode_cursor({}) is None
    for garbage in ("zz", "1~", "~a", "-1~a", "1~a b", "1" * 18 + "~a", "W10", ""):
        with bad("cursor"):
            decode_cursor({"cursor": garbage})


def test_times_need_an_offset_and_to_before_from_is_an_empty_range() -> None:
    assert parse_range({"from": "2026-05-01T20:00:00+02:00"}) == (T, None)
    assert parse_range({"to": "2026-05-01T18:00:00Z"}) == (None, T)
    with bad("from"):
        parse_range({"from": "2026-05-01T18:00:00"})
    with bad("from"):
        parse_range({"from": "May 1st"})
    assert parse_range({"from": "2026-05-01T20:00:00Z", "to": "2026-05-01T18:00:00Z"}) == (
        T.replace(hour=20), T)
    with bad("to"):
        parse_range({"to": "0001-01-01T00:00:00+01:00"})
    with bad("to"):
        parse_range({"to": "9999-01-01T00:00:00Z"})
    assert parse_range({"to": "1970-01-01T00:00:00+01:00"})[1] == datetime(1969, 12, 31, 23, tzinfo=UTC)


def test_limits_lists_and_market_keys_are_checked() -> None:
    assert parse_limit({}, 100, 500) == 100
    assert parse_limit({"limit": "500"}, 100, 500) == 500
    for value in ("0", "501", "-1", "1.5", "ten"):
        with bad("limit"):
            parse_limit({"limit": value}, 100, 500)
    assert parse_enums({"status": "live,ended,live"}, "status", EventStatus) == [
        EventStatus.LIVE, EventStatus.ENDED]
    with bad("sport"):
        parse_enums({"sport": "football,curling"}, "sport", Sport)
    assert parse_ids({"competition": "a,b"}, "competition") == ["a", "b"]
    with bad("competition"):
        parse_ids({"competition": "a b"}, "competition")
    assert parse_market_key("totals|total=2.50") == "totals|total=2.5"
    with bad("market_key"):
        parse_market_key("Bad Key")


def test_event_query_pages_by_start_time_then_id() -> None:
    sql, args = events_sql(EventFilter(sports=[Sport.TENNIS], after=(T, "ev-9"), limit=10))
    assert "e.sport IN (%s)" in sql
    assert "(e.start_time > %s OR (e.start_time = %s AND e.id > %s))" in sql
    assert sql.endswith("ORDER BY e.start_time, e.id LIMIT %s")
    assert args[0] == "tennis"
    assert args[-2:] == ["ev-9", 11]


def test_event_detail_lists_markets_by_key_with_prices_as_strings() -> None:
    data = snapshot_data("ev", 4, market("totals|total=2.5", "1.9", "1.95"),
                         market("1x2", "2.10", "3.40", "3.60"))
    body = event_detail(data, "redis")
    assert [m["market_key"] for m in body["markets"]] == ["1x2", "totals|total=2.5"]
    assert body["markets"][1]["specifiers"] == {"total": "2.5"}
    assert body["markets"][0]["outcomes"][0] == {"id": "home", "price": "2.1", "active": True}
    assert (body["live"], body["competition"], body["competitors"]) == (None, None, [])
    assert body["source"] == "redis"


def test_decimals_are_exact_and_shortest() -> None:
    assert [decimal_text(Decimal(v)) for v in ("1.8500", "10.0000", "0.00", "1000")] == [
        "1.85", "10", "0", "1000"]
    assert decimal_text(None) is None


def test_history_csv_has_a_header_and_empty_cells_for_nulls() -> None:
    text = history_csv([{"provider_ts": "2026-05-01T18:00:00Z", "outcome_id": "home",
                         "price": None, "active": False, "market_status": "suspended",
                         "message_id": "m1", "recorded_at": "2026-05-01T18:00:01Z"}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["provider_ts", "outcome_id", "price"]
    assert rows[1][2:4] == ["", "false"]


def test_ledger_summary_counts_repeats_as_duplicates_and_sums_accepted() -> None:
    body = ledger_summary(
        [("football", "acme", "applied", 5), ("football", "acme", "rejected", 1),
         ("tennis", "beta", "stale", 2)],
        [("football", "acme", 3)], T, None,
    )
    acme, beta = body["rows"]
    assert (acme["applied"], acme["rejected"], acme["duplicate"], acme["repeats"]) == (5, 1, 3, 3)
    assert acme["accepted"] == 9
    assert beta["accepted"] == 2
    assert body["totals"]["accepted"] == 11
    assert body["from"] == "2026-05-01T18:00:00Z"


def test_settings_give_each_instance_its_own_group_and_refuse_the_old_ws_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPORTSFEED_MYSQL_PASSWORD", "x")
    monkeypatch.setenv("SPORTSFEED_DISTRIBUTION_REST_PORT", "5002")
    first, second = DistributionSettings(), DistributionSettings()
    assert first.rest_port == 5002
    assert first.ws_port == 4003
    assert first.auth == "keys"
    assert first.consumer_group != second.consumer_group
    monkeypatch.setenv("SPORTSFEED_DISTRIBUTION_WS_TOKENS", "one-token-of-old")
    with pytest.raises(ValidationError, match="replaced by consumer keys"):
        DistributionSettings()


def test_an_empty_query_parameter_is_refused_naming_it() -> None:
    with pytest.raises(ParamError) as info:
        parse_time({"to": ""}, "to")
    assert info.value.parameter == "to"
