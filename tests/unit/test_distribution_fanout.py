"""Client sessions and the hub's fan-out with fake sockets and snapshots (no I/O)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import orjson
import pytest
from pydantic import ValidationError

from services.distribution.ws.client import LIVE, PENDING, SLOW_CLOSE_CODE, UNKNOWN, ClientSession
from services.distribution.ws.hub import Hub
from services.distribution.ws.ring import DeltaOut, DeltaRing
from services.distribution.ws.subscriptions import Subscription, Subscriptions, View, normalise_markets
from shared.enums import EventStatus, Sport
from shared.live import AppliedSettlement, RefusedMarket
from shared.markets import OutcomeSettlement
from tests.support.distribution_fakes import (
    Clock,
    FakeSink,
    FakeSource,
    delta,
    market,
    session,
    settings,
    snapshot_data,
)

ONE_X_TWO = market("1x2", "2.1", "3.4", "3.6")
TOTALS = market("totals|total=2.5", "1.9", "1.9")


def follow(client: ClientSession, *, sports: tuple[Sport, ...] = (), events: tuple[str, ...] = (),
           markets: list[str] | None = None, conflate_ms: int = 0) -> None:
    """Add a subscription."""
    client.subs.add(Subscription(client.subs.next_id(), frozenset(sports), frozenset(events),
                                 normalise_markets(markets), conflate_ms))


def test_views_combine_market_filters_and_take_the_smallest_window() -> None:
    subs = Subscriptions()
    subs.add(Subscription("a", sports=frozenset({Sport.FOOTBALL}), markets=frozenset({"1x2"}),
                          conflate_ms=500))
    subs.add(Subscription("b", event_ids=frozenset({"ev"}), markets=frozenset({"totals"}),
                          conflate_ms=100))
    assert subs.view("ev", Sport.FOOTBALL) == View(frozenset({"1x2", "totals"}), 100)
    assert subs.view("other", Sport.FOOTBALL) == View(frozenset({"1x2"}), 500)
    assert subs.view("tennis-ev", Sport.TENNIS) is None
    subs.add(Subscription("c", event_ids=frozenset({"ev"})))
    assert subs.view("ev", Sport.FOOTBALL) == View(None, 0)


def test_unsubscribing_removes_sports_events_markets_or_whole_subscriptions() -> None:
    subs = Subscriptions()
    subs.add(Subscription("a", sports=frozenset({Sport.FOOTBALL, Sport.TENNIS}),
                          markets=frozenset({"1x2", "totals"})))
    subs.add(Subscription("b", event_ids=frozenset({"ev"})))
    assert subs.remove(sports=[Sport.TENNIS]) == []
    assert subs.sports() == {Sport.FOOTBALL}
    subs.remove(markets=["totals"])
    assert subs.view("x", Sport.FOOTBALL) == View(frozenset({"1x2"}), 0)
    assert subs.remove(event_ids=["ev"]) == ["b"]
    assert subs.remove(sub_id="a") == ["a"]
    assert len(subs) == 0


async def test_deltas_in_order_are_written_straight_to_a_keeping_up_socket() -> None:
    sink = FakeSink()
    client = session(sink)
    follow(client, events=("ev",))
    client.versions["ev"] = 1
    ring = DeltaRing(10)
    for v in (2, 3):
        o = DeltaOut(delta("ev", v, ONE_X_TWO))
        ring.push(o)
        assert client.offer(o, ring) is False
    client.flush()
    assert [m["version"] for m in sink.messages("delta")] == [2, 3]
    assert client.offer(DeltaOut(delta("ev", 3, ONE_X_TWO)), ring) is False  # seen: ignored


async def test_a_gap_is_filled_from_the_ring_or_else_asks_for_a_snapshot() -> None:
    sink = FakeSink()
    client = session(sink)
    follow(client, events=("ev",))
    ring = DeltaRing(10)
    outs = [DeltaOut(delta("ev", v)) for v in range(1, 6)]
    for o in outs:
        ring.push(o)
    client.versions["ev"] = 2
    assert client.offer(outs[4], ring) is False  # 3, 4, 5 come from the ring
    client.flush()
    assert [m["version"] for m in sink.messages("delta")] == [3, 4, 5]
    client.versions["ev"] = UNKNOWN  # followed but never seen: a snapshot first
    assert client.offer(DeltaOut(delta("ev", 6)), ring) is True
    assert client.versions["ev"] == PENDING


async def test_snapshot_then_retained_deltas_newer_than_it() -> None:
    sink = FakeSink()
    client = session(sink)
    follow(client, events=("ev",), markets=["totals"])
    client.versions["ev"] = PENDING
    ring = DeltaRing(10)
    for v in (4, 5, 6):
        ring.push(DeltaOut(delta("ev", v, ONE_X_TWO, TOTALS)))
    data = snapshot_data("ev", 4, ONE_X_TWO, TOTALS)
    frames: dict[object, bytes] = {}

    def frame_for(shape: frozenset[str] | None) -> bytes:
        from services.distribution.ws.frames import frame_of, snapshot_payload
        return frames.setdefault(shape, frame_of(snapshot_payload(data, shape)))

    assert client.take_snapshot("ev", data, frame_for, ring) is False
    client.flush()
    messages = sink.messages()
    assert [(m["type"], m["version"]) for m in messages] == [("snapshot", 4), ("delta", 5), ("delta", 6)]
    assert list(messages[0]["markets"]) == ["totals|total=2.5"]
    assert [mk["market_key"] for mk in messages[1]["markets"]] == ["totals|total=2.5"]
    assert client.versions["ev"] == 6


async def test_slow_socket_gets_merged_deltas_then_a_4008_close() -> None:
    sink = FakeSink()
    clock = Clock()
    client = session(sink, clock, conflate_at=5, max_lag_s=2.0)
    follow(client, events=("ev",))
    client.versions["ev"] = 1
    writer = asyncio.create_task(client.run_writer())
    sink.buffer = 10_000  # the peer stopped reading: the socket stays full
    ring = DeltaRing(100)
    for v in range(2, 30):
        o = DeltaOut(delta("ev", v, market("1x2", f"2.{v}", "3.4", "3.6")))
        ring.push(o)
        client.offer(o, ring)
        client.flush()
    assert len(client.outbox) <= 5
    assert sink.frames == []
    clock.now += 3.0
    client.check_lag()
    await asyncio.wait_for(writer, 2)
    assert sink.closed_with is not None
    assert sink.closed_with[0] == SLOW_CLOSE_CODE
    last = sink.messages("delta")[-1]
    assert (last["conflated"], last["from_version"], last["version"]) == (True, 2, 29)


async def test_conflation_window_sends_the_latest_state_once_per_window() -> None:
    sink = FakeSink()
    client = session(sink)
    follow(client, events=("ev",), conflate_ms=20)
    client.versions["ev"] = 1
    ring = DeltaRing(10)
    for v in (2, 3, 4):
        o = DeltaOut(delta("ev", v, market("1x2", f"2.{v}", "3.4", "3.6")))
        ring.push(o)
        client.offer(o, ring)
    client.flush()
    assert sink.frames == []
    await asyncio.sleep(0.05)
    (merged,) = sink.messages("delta")
    assert (merged["conflated"], merged["from_version"], merged["version"]) == (True, 2, 4)
    assert merged["markets"][0]["outcomes"][0]["price"] == "2.4"
    client.stop()


async def test_hub_fans_out_by_sport_and_event_and_a_slow_client_holds_nobody_up() -> None:
    source = FakeSource({"ev": snapshot_data("ev", 1, ONE_X_TWO)})
    hub = Hub(source, settings())  # type: ignore[arg-type]
    fast, by_sport, slow = FakeSink(), FakeSink(), FakeSink()
    clients = [session(fast), session(by_sport), session(slow, conflate_at=3, max_items=5)]
    follow(clients[0], events=("ev",))
    follow(clients[1], sports=(Sport.FOOTBALL,))
    follow(clients[2], events=("ev",))
    for client in clients:
        hub.register(client)
        hub.update_subscriptions(client, (), {})
        await hub.follow(client, event_ids=client.subs.event_ids(), sports=client.subs.sports(),
                         resume={})
    await asyncio.sleep(0.01)
    assert [m["version"] for m in fast.messages("snapshot")] == [1]
    slow.buffer = 10**6
    hub.dispatch([delta("ev", v) for v in range(2, 12)])
    assert [m["version"] for m in fast.messages("delta")] == list(range(2, 12))
    assert [m["version"] for m in by_sport.messages("delta")] == list(range(2, 12))
    assert slow.messages("delta") == []
    assert len(clients[2].outbox) <= 5


async def test_hub_sends_a_fresh_snapshot_when_the_topic_skips_versions() -> None:
    source = FakeSource({"ev": snapshot_data("ev", 1)})
    hub = Hub(source, settings())  # type: ignore[arg-type]
    sinks = [FakeSink(), FakeSink()]
    for sink in sinks:
        client = session(sink)
        follow(client, events=("ev",))
        hub.register(client)
        hub.update_subscriptions(client, (), {})
        await hub.follow(client, event_ids={"ev"}, sports=(), resume={})
    await asyncio.sleep(0.01)
    hub.dispatch([delta("ev", 2)])
    source.snapshots["ev"] = snapshot_data("ev", 5)
    source.fetches.clear()
    hub.dispatch([delta("ev", 5)])  # 3 and 4 never came
    await asyncio.sleep(0.01)
    for sink in sinks:
        assert [(m["type"], m["version"]) for m in sink.messages()] == [
            ("snapshot", 1), ("delta", 2), ("snapshot", 5)]
    assert source.fetches == [["ev"]]  # one read serves every client of the event
    assert hub.stats.gaps == 1


async def test_resume_replays_from_the_ring_or_falls_back_to_a_snapshot() -> None:
    source = FakeSource({"ev": snapshot_data("ev", 9)})
    hub = Hub(source, settings(retained_deltas=3))  # type: ignore[arg-type]
    hub.dispatch([delta("ev", v) for v in range(5, 10)])  # keeps 7, 8, 9
    near, far = FakeSink(), FakeSink()
    for sink, since in ((near, 6), (far, 4)):
        client = session(sink)
        follow(client, events=("ev",))
        hub.register(client)
        hub.update_subscriptions(client, (), {})
        await hub.follow(client, event_ids={"ev"}, sports=(), resume={"ev": since})
    await asyncio.sleep(0.01)
    assert [(m["type"], m["version"]) for m in near.messages()] == [
        ("delta", 7), ("delta", 8), ("delta", 9)]
    assert [(m["type"], m["version"]) for m in far.messages()] == [("snapshot", 9)]
    assert (hub.stats.resumed_from_ring, hub.stats.resumed_by_snapshot) == (1, 1)


async def test_hub_writes_to_a_client_at_most_once_per_flush_interval() -> None:
    source = FakeSource({"ev": snapshot_data("ev", 1)})
    hub = Hub(source, settings(flush_interval_ms=20))  # type: ignore[arg-type]
    sink = FakeSink()
    client = session(sink)
    follow(client, events=("ev",))
    hub.register(client)
    hub.update_subscriptions(client, (), {})
    await hub.follow(client, event_ids={"ev"}, sports=(), resume={})
    await asyncio.sleep(0.01)
    hub.dispatch([delta("ev", 2)])  # first contact: joins the event's group
    await asyncio.sleep(0.05)
    writes = sink.writes
    for v in range(3, 8):
        hub.dispatch([delta("ev", v)])
    # After a quiet spell the first batch is written at once; the next ones within the
    # interval are held, then handed over together in one write.
    await asyncio.sleep(0)
    assert [m["version"] for m in sink.messages("delta")] == [2, 3]
    assert sink.writes == writes + 1
    await asyncio.sleep(0.05)
    assert [m["version"] for m in sink.messages("delta")] == [2, 3, 4, 5, 6, 7]
    assert sink.writes == writes + 2  # four frames, handed over in one write


async def test_clients_join_at_the_snapshot_version_and_skip_deltas_it_already_holds() -> None:
    source = FakeSource({"ev": snapshot_data("ev", 3)})  # Redis is ahead of the topic
    hub = Hub(source, settings())  # type: ignore[arg-type]
    sinks = [FakeSink(), FakeSink()]
    clients = [session(sink) for sink in sinks]
    for client in clients:
        follow(client, events=("ev",))
        hub.register(client)
        hub.update_subscriptions(client, (), {})
        await hub.follow(client, event_ids={"ev"}, sports=(), resume={})
    await asyncio.sleep(0.01)
    assert all(c.versions["ev"] == LIVE for c in clients)  # in the group before any delta
    hub.dispatch([delta("ev", v) for v in (2, 3, 4, 5)])
    for sink in sinks:
        assert [(m["type"], m["version"]) for m in sink.messages()] == [
            ("snapshot", 3), ("delta", 4), ("delta", 5)]


async def test_an_evicted_event_leaves_its_clients_on_plain_versions() -> None:
    source = FakeSource({e: snapshot_data(e, 1) for e in ("a", "b")})
    hub = Hub(source, settings(retained_events=1))  # type: ignore[arg-type]
    sink = FakeSink()
    client = session(sink)
    follow(client, events=("a", "b"))
    hub.register(client)
    hub.update_subscriptions(client, (), {})
    await hub.follow(client, event_ids={"a", "b"}, sports=(), resume={})
    await asyncio.sleep(0.01)
    hub.dispatch([delta("a", 2)])
    hub.dispatch([delta("b", 2)])  # evicts a's feed
    assert client.versions["a"] == 2
    hub.dispatch([delta("a", 3)])
    assert [m["version"] for m in sink.messages("delta") if m["event_id"] == "a"] == [2, 3]


def test_a_delta_read_from_kafka_gives_the_frames_the_model_would() -> None:
    """The record path keeps the processor's JSON (only its head decoded): its frames, for
    every market and filtered, and its JSON form are what the decoded model gives."""
    settled = delta(
        "ev", 7, ONE_X_TWO, TOTALS, status=EventStatus.LIVE,
        settlements=(AppliedSettlement(
            market_key="1x2", certainty="confirmed", change="corrected",
            outcomes=(OutcomeSettlement(outcome_id="home", result="won",
                                        void_factor=Decimal("0.5")),)),),
        rolled_back=("totals|total=3.5",),
        refused=(RefusedMarket(market_key="btts", reason="unknown market for football"),),
    )
    raw = settled.model_dump_json(exclude_none=True).encode()
    read, model = DeltaOut.from_record(raw), DeltaOut(settled)
    assert (read.event_id, read.sport, read.version) == ("ev", Sport.FOOTBALL, 7)
    assert read.applied_at == settled.applied_at.timestamp()
    for shape in (None, frozenset({"1x2"}), frozenset({"totals"}), frozenset({"btts"})):
        assert read.frame(shape) == model.frame(shape), shape
    assert read.data == model.data
    assert read.delta == settled  # decoded when a conflation needs it


def test_a_record_is_refused_when_its_head_is_not_a_deltas() -> None:
    good = delta("ev", 1).model_dump(mode="json", exclude_none=True)
    for bad in ({**good, "version": 0}, {**good, "event_id": "has space"},
                {k: v for k, v in good.items() if k != "applied_at"}):
        with pytest.raises(ValidationError):
            DeltaOut.from_record(orjson.dumps(bad))
    with pytest.raises(ValidationError, match="Invalid JSON"):
        DeltaOut.from_record(b"{not json")
