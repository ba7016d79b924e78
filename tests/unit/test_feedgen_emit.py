"""Emitters round-trip through the real ingestion adapters; broken payloads are refused."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from feedgen.emit import Fmt, batch, encode, uof_view
from feedgen.emit.malformed import VARIANTS, malformed_payload, variants_for
from feedgen.feed import match_feed
from feedgen.sim import make_setup
from services.ingestion.adapters import AdapterError, parse_json, parse_uof, parse_xml
from services.ingestion.adapters.base import ParseResult
from shared.enums import MessageKind, Sport
from shared.model import ALIVE_EVENT_ID, AliveBody, FeedMessage

PROVIDER = "feedgen"
T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def match_messages(sport: Sport, seed: int) -> list[FeedMessage]:
    rng = random.Random(seed)
    setup = make_setup(sport, seed, 5, rng)
    out = []
    for n, draft in enumerate(match_feed(setup, rng, margin=0.06, prematch_seconds=400.0,
                                         kickoff_at=T0)):
        # Provider times have millisecond precision (UOF's epoch milliseconds).
        ts = T0 + timedelta(milliseconds=int(draft.t * 1000) + n)
        out.append(FeedMessage(message_id=f"fg-{seed}-{n}", provider=PROVIDER, sport=sport,
                               event_id=setup.event_id, kind=draft.kind, provider_ts=ts,
                               received_at=ts, body=draft.body))
    alive = FeedMessage(message_id=f"fg-{seed}-alive", provider=PROVIDER, sport=sport,
                        event_id=ALIVE_EVENT_ID, kind=MessageKind.ALIVE, provider_ts=T0,
                        received_at=T0, body=AliveBody(producer="live"))
    return [*out, alive]


def parse(fmt: Fmt, raw: bytes, sport: Sport) -> ParseResult:
    if fmt is Fmt.JSON:
        return parse_json(raw, provider=PROVIDER, received_at=T0)
    if fmt is Fmt.XML:
        return parse_xml(raw, provider=PROVIDER, received_at=T0)
    return parse_uof(raw, provider=PROVIDER, received_at=T0, sport=sport)


def _same(got: FeedMessage, sent: FeedMessage) -> bool:
    return got.model_copy(update={"received_at": sent.received_at}) == sent


@pytest.mark.parametrize("fmt", [Fmt.JSON, Fmt.XML])
@pytest.mark.parametrize("sport", list(Sport))
@pytest.mark.parametrize("seed", [1, 20260401])
def test_native_batches_round_trip_through_the_real_adapter(
    fmt: Fmt, sport: Sport, seed: int
) -> None:
    messages = match_messages(sport, seed)
    for start in range(0, len(messages), 250):
        chunk = messages[start:start + 250]
        result = parse(fmt, batch(fmt, [encode(fmt, m) for m in chunk]), sport)
        assert result.refusals == []
        assert len(result.messages) == len(chunk)
        for got, sent in zip(result.messages, chunk, strict=True):
            assert _same(got, sent), (got, sent)


@pytest.mark.parametrize("sport", list(Sport))
@pytest.mark.parametrize("seed", [2, 777])
def test_uof_documents_round_trip_through_the_real_adapter(sport: Sport, seed: int) -> None:
    for message in match_messages(sport, seed):
        view = uof_view(message, PROVIDER)
        result = parse(Fmt.UOF, encode(Fmt.UOF, view), sport)
        assert result.refusals == []
        assert len(result.messages) == 1
        # Same content, and the same content-hash id ingestion will give it.
        assert _same(result.messages[0], view)


def test_uof_view_keeps_what_uof_can_say() -> None:
    message = next(m for m in match_messages(Sport.FOOTBALL, 1) if m.kind is MessageKind.BET_STOP)
    view = uof_view(message, PROVIDER)
    assert view.message_id.startswith("h:")
    assert view.body.kind is MessageKind.BET_STOP
    assert uof_view(message, PROVIDER).message_id == view.message_id  # stable


@pytest.mark.parametrize("fmt", list(Fmt))
@pytest.mark.parametrize("sport", list(Sport))
def test_every_malformed_variant_is_refused_by_the_real_adapter(fmt: Fmt, sport: Sport) -> None:
    rng = random.Random(3)
    messages = match_messages(sport, 9)
    seen: set[str] = set()
    for message in messages[1:60]:
        shaped = uof_view(message, PROVIDER) if fmt is Fmt.UOF else message
        for variant in variants_for(shaped):
            seen.add(variant)
            raw = malformed_payload(fmt, shaped, variant, "fg-bad-1", rng)
            try:
                result = parse(fmt, raw, sport)
            except AdapterError:
                continue  # unreadable as a whole: a 400
            assert result.messages == [], (variant, raw)
            assert len(result.refusals) == 1
    assert seen == set(VARIANTS)
