"""Golden files: every adapter fixture beside the canonical messages it must become.

``tests/fixtures/adapters/<name>.(json|xml)`` (native formats, provider ``demo``) and
``tests/fixtures/uof/<name>.xml`` (UOF, provider ``uof``) each sit beside
``<name>.expected.json``: a JSON list of ``FeedMessage.model_dump(mode="json")``. The
expected files were checked by hand against their inputs; a change in output is a
change in mapping and must be reviewed, not re-dumped. Messages are compared as
validated models (so ``"2.0"`` and ``"2"`` are one price) including their ids.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.ingestion.adapters import parse_json, parse_uof, parse_xml
from services.ingestion.adapters.base import ParseResult
from shared.enums import Sport
from shared.model import FeedMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NATIVE_RECEIVED_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
UOF_RECEIVED_AT = datetime(2026, 1, 1, tzinfo=UTC)
# The sport each UOF sample was sent as (UOF messages do not name it; the routing key
# does). Hand-made samples end in -<sport>; the rest are football.
UOF_SPORTS = {"bet_settlement": Sport.TENNIS}


def _uof_sport(stem: str) -> Sport:
    for sport in Sport:
        if stem.endswith(f"-{sport.value}"):
            return sport
    return UOF_SPORTS.get(stem, Sport.FOOTBALL)


def _inputs(folder: str, *suffixes: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / folder).iterdir()
                  if p.suffix in suffixes and not p.name.endswith(".expected.json")
                  and p.with_name(p.stem + ".expected.json").exists())


def _check(result: ParseResult, source: Path) -> None:
    expected_path = source.with_name(source.stem + ".expected.json")
    expected = json.loads(expected_path.read_text())
    assert result.refusals == [], result.refusals
    got = [m.model_dump(mode="json") for m in result.messages]
    assert [FeedMessage.model_validate(e) for e in expected] == result.messages, (
        f"{source.name} no longer gives {expected_path.name}:\n"
        + json.dumps(got, indent=2)
    )


@pytest.mark.parametrize("source", _inputs("adapters", ".json", ".xml"), ids=lambda p: p.name)
def test_native_fixture_gives_its_golden_messages(source: Path) -> None:
    parse = parse_json if source.suffix == ".json" else parse_xml
    _check(parse(source.read_bytes(), provider="demo", received_at=NATIVE_RECEIVED_AT), source)


@pytest.mark.parametrize("source", _inputs("uof", ".xml"), ids=lambda p: p.name)
def test_uof_fixture_gives_its_golden_messages(source: Path) -> None:
    result = parse_uof(source.read_bytes(), provider="uof", received_at=UOF_RECEIVED_AT,
                       sport=_uof_sport(source.stem))
    _check(result, source)


def test_every_uof_message_sample_has_a_golden_file() -> None:
    samples = {p.stem for p in (FIXTURES / "uof").glob("*.xml")}
    golden = {p.name.removesuffix(".expected.json") for p in (FIXTURES / "uof").glob(
        "*.expected.json")}
    # markets-0.xml is a market description document, not a feed message.
    assert samples - golden == {"markets-0"}


def test_native_json_and_xml_of_the_same_messages_agree() -> None:
    from_json = parse_json((FIXTURES / "adapters" / "batch.json").read_bytes(), provider="demo",
                           received_at=NATIVE_RECEIVED_AT)
    from_xml = parse_xml((FIXTURES / "adapters" / "feed.xml").read_bytes(), provider="demo",
                         received_at=NATIVE_RECEIVED_AT)
    assert from_json.messages == from_xml.messages
    assert len(from_json.messages) == 8
    assert {m.kind.value for m in from_json.messages} == {
        "fixture", "live", "odds", "bet_stop", "settlement", "cancel", "rollback", "alive"}


DOCS = FIXTURES.parent.parent / "docs" / "feeds.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), re.S)


def test_examples_in_the_feed_docs_parse_without_refusals() -> None:
    [batch] = _blocks("json")
    assert len(parse_json(batch.encode(), provider="demo", received_at=NATIVE_RECEIVED_AT)
               .messages) == 8
    native, uof = _blocks("xml")
    result = parse_xml(native.encode(), provider="demo", received_at=NATIVE_RECEIVED_AT)
    assert (len(result.messages), result.refusals) == (8, [])
    result = parse_uof(uof.encode(), provider="uof", received_at=UOF_RECEIVED_AT,
                       sport=Sport.FOOTBALL)
    assert ([m.kind.value for m in result.messages], result.refusals) == (["live", "odds"], [])
