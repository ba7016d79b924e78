"""Model prices on the WebSocket: their own frames, for subscriptions that ask, newest kept."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from services.distribution.ws.client import ClientSession
from services.distribution.ws.frames import model_payload
from services.distribution.ws.hub import Hub
from services.distribution.ws.outbox import MODEL, Item, Outbox
from services.distribution.ws.protocol import BadMessage, Subscribe, parse_client_message
from services.distribution.ws.ring import DeltaOut
from services.distribution.ws.subscriptions import Subscription, normalise_markets
from shared.enums import Sport
from tests.support.distribution_fakes import (
    FakeSink,
    FakeSource,
    delta,
    market,
    model_data,
    session,
    settings,
)


def subscribe(client: ClientSession, *, sports: tuple[Sport, ...] = (), events: tuple[str, ...] = (),
              markets: list[str] | None = None, model: bool = True) -> None:
    client.subs.add(Subscription(client.subs.next_id(), frozenset(sports),
                                 frozenset(events), normalise_markets(markets), model=model))


def test_subscribe_takes_a_model_flag() -> None:
    message = parse_client_message(b'{"type": "subscribe", "sports": ["tennis"], "model": true}')
    assert isinstance(message, Subscribe)
    assert message.model is True
    with pytest.raises(BadMessage) as caught:
        parse_client_message(b'{"type": "subscribe", "sports": ["tennis"], "model": "maybe"}')
    assert caught.value.field == "model"


def test_a_model_frame_carries_the_prices_filtered_by_the_market_filter() -> None:
    data = model_data("ev", 3)
    full = orjson.loads(model_payload(data, None))
    assert full["type"] == "model"
    assert full["event_version"] == 3
    assert [m["market_key"] for m in full["markets"]] == ["1x2", "totals|total=2.5"]
    only = orjson.loads(model_payload(data, frozenset({"totals"})))
    assert [m["market_key"] for m in only["markets"]] == ["totals|total=2.5"]
    assert only["markets"][0]["outcomes"][0]["fair_price"] == "1.82"


async def test_model_prices_reach_only_the_subscriptions_that_ask_for_them() -> None:
    hub = Hub(FakeSource(), settings())  # type: ignore[arg-type]
    asking, deaf, by_event = FakeSink(), FakeSink(), FakeSink()
    for sink, kwargs in ((asking, {"sports": (Sport.FOOTBALL,), "markets": ["1x2"]}),
                         (deaf, {"sports": (Sport.FOOTBALL,), "model": False}),
                         (by_event, {"events": ("ev",)})):
        client = session(sink)
        subscribe(client, **kwargs)
        hub.register(client)
        hub.update_subscriptions(client, frozenset(), {})
    hub.dispatch_models([("ev", Sport.FOOTBALL, model_data("ev", 2)),
                         ("other", Sport.TENNIS, model_data("other", 1, sport=Sport.TENNIS))])
    await asyncio.sleep(0)
    got = asking.messages("model")
    assert [(m["event_id"], m["event_version"]) for m in got] == [("ev", 2)]
    assert [m["market_key"] for m in got[0]["markets"]] == ["1x2"]
    assert deaf.messages("model") == []
    assert [len(m["markets"]) for m in by_event.messages("model")] == [2]
    assert hub.stats.models == 2
    assert hub.totals()["model"] == 2


async def test_a_new_subscription_gets_the_latest_model_prices_of_its_events() -> None:
    source = FakeSource(models={"ev": model_data("ev", 7), "gone": model_data("gone", 1)})
    hub = Hub(source, settings())  # type: ignore[arg-type]
    sink = FakeSink()
    client = session(sink)
    subscribe(client, events=("ev", "missing"))
    hub.register(client)
    hub.update_subscriptions(client, frozenset(), {})
    await hub.follow(client, event_ids=["ev", "missing"], sports=[], resume={}, model=True)
    assert [(m["event_id"], m["event_version"]) for m in sink.messages("model")] == [("ev", 7)]


def test_a_slow_clients_queue_keeps_each_events_newest_model_prices_only() -> None:
    box = Outbox(conflate_at=3, max_items=100)
    frames = [b"m1", b"m2", b"m3"]
    box.push(Item.model("ev", frames[0]), 0.0)
    box.push(Item.shared(DeltaOut(delta("ev", 2, market("1x2", "2", "3", "4"))), None), 0.0)
    box.push(Item.model("other", b"o1"), 0.0)
    box.push(Item.model("ev", frames[1]), 0.0)  # over conflate_at: compacted
    box.push(Item.model("ev", frames[2]), 0.0)
    kinds = [(item.kind, item.event_id, item.frame if item.kind == MODEL else None)
             for item in box.items]
    assert (MODEL, "ev", b"m1") not in kinds
    assert (MODEL, "ev", b"m2") not in kinds
    assert kinds.count((MODEL, "ev", b"m3")) == 1
    assert (MODEL, "other", b"o1") in kinds
