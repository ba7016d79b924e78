"""Per-event retention and the per-client queue with its conflation (no I/O)."""

from __future__ import annotations

from services.distribution.ws.outbox import DELTA, SNAPSHOT, Item, Outbox, Window
from services.distribution.ws.ring import DeltaOut, DeltaRing
from tests.support.distribution_fakes import decode_frames, delta, market


def out(event_id: str, version: int, home: str = "2.1") -> DeltaOut:
    """A delta on its way out, moving the home price."""
    return DeltaOut(delta(event_id, version, market("1x2", home, "3.4", "3.6")))


def test_ring_keeps_contiguous_versions_and_reports_old_and_gaps() -> None:
    ring = DeltaRing(capacity=3)
    assert [ring.push(out("ev", v)) for v in (1, 2, 3, 4)] == ["next"] * 4
    assert (ring.first_version, ring.last_version, len(ring)) == (2, 4, 3)
    assert ring.push(out("ev", 4)) == "old"
    assert ring.push(out("ev", 7)) == "gap"
    assert (ring.first_version, ring.last_version) == (7, 7)


def test_ring_hands_out_exactly_the_deltas_after_a_version_or_none() -> None:
    ring = DeltaRing(capacity=4)
    for v in range(1, 9):
        ring.push(out("ev", v))
    after = ring.after(5)
    assert after is not None
    assert [o.delta.version for o in after] == [6, 7, 8]
    assert ring.after(8) == []
    assert ring.after(4) is not None  # 5..8 retained
    assert ring.after(3) is None  # 4 is gone
    assert ring.after(9) is None  # the client is ahead of this instance
    assert DeltaRing(4).after(0) is None


def test_shared_delta_frames_are_encoded_once_per_shape() -> None:
    o = out("ev", 2)
    assert o.frame(None) is o.frame(None)
    only_totals = frozenset({"totals"})
    assert o.frame(only_totals) is o.frame(only_totals)
    assert decode_frames([o.frame(only_totals)])[0]["markets"] == []


def test_outbox_merges_pending_deltas_per_event_past_the_threshold() -> None:
    box = Outbox(conflate_at=4, max_items=100)
    for v in range(2, 7):
        assert box.push(Item.shared(out("a", v, f"2.{v}"), None), now=0.0)
    box.push(Item.shared(out("b", 2), None), now=0.0)
    assert len(box) == 2
    assert box.merged == 4
    first, second = box.take()
    payload = decode_frames([first.encode()])[0]
    assert (payload["from_version"], payload["version"], payload["conflated"]) == (2, 6, True)
    assert payload["markets"][0]["outcomes"][0]["price"] == "2.6"
    assert decode_frames([second.encode()])[0]["version"] == 2


def test_outbox_never_merges_deltas_across_a_snapshot_of_their_event() -> None:
    box = Outbox(conflate_at=100, max_items=100)
    snap = Item.snapshot("a", b"\x81\x02{}")
    for item in (Item.shared(out("a", 2), None), Item.shared(out("a", 3), None), snap,
                 Item.shared(out("a", 5), None), Item.shared(out("a", 6), None)):
        box.push(item, now=0.0)
    box.compact()
    kinds = [(i.kind, i.from_version) for i in box.items]
    assert kinds == [(DELTA, 2), (SNAPSHOT, None), (DELTA, 5)]


def test_outbox_refuses_when_over_its_limit_even_after_merging() -> None:
    box = Outbox(conflate_at=2, max_items=3)
    results = [box.push(Item.shared(out(f"ev{n}", 2), None), now=0.0) for n in range(4)]
    assert results == [True, True, True, False]


def test_outbox_lag_counts_from_when_it_stopped_being_empty() -> None:
    box = Outbox(conflate_at=10, max_items=10)
    assert box.lag(50.0) == 0.0
    box.push(Item.control(b"\x81\x02{}"), now=10.0)
    box.push(Item.control(b"\x81\x02{}"), now=12.0)
    assert box.lag(13.5) == 3.5
    box.take()
    assert box.lag(20.0) == 0.0


def test_window_sends_one_delta_per_event_with_the_latest_prices() -> None:
    window = Window()
    for v, price in ((2, "2.2"), (3, "2.3"), (4, "2.4")):
        window.add(Item.shared(out("a", v, price), None))
    window.add(Item.shared(out("b", 9), None))
    merged, single = window.take()
    body = decode_frames([merged.encode()])[0]
    assert (body["conflated"], body["from_version"], body["version"]) == (True, 2, 4)
    assert body["markets"][0]["outcomes"][0]["price"] == "2.4"
    assert "conflated" not in decode_frames([single.encode()])[0]
    assert window.take() == []


def test_released_delta_keeps_its_frames_and_decodes_again_when_merged() -> None:
    o = out("ev", 2, "2.2")
    frame = o.frame(None)
    o.release()
    assert o.frame(None) is frame  # the shared bytes survive
    assert decode_frames([o.frame(frozenset({"1x2"}))])[0]["version"] == 2  # rebuilt on demand
    merged = Item.shared(o, None)
    box = Outbox(conflate_at=1, max_items=10)
    box.push(merged, now=0.0)
    box.push(Item.shared(out("ev", 3, "2.3"), None), now=0.0)
    (item,) = box.items
    assert decode_frames([item.encode()])[0]["from_version"] == 2


def test_retained_deltas_leave_the_garbage_collector_and_keep_their_frames() -> None:
    import gc

    ring = DeltaRing(capacity=8)
    outs = [out("ev", v) for v in range(1, 5)]
    frames = {}
    for o in outs:
        ring.push(o)
        frames[o.version] = o.frame(None)  # built while it goes out, as the hub does
        ring.settle()
    gc.collect()
    # What the ring holds is bytes in tuples: never walked by a collection again.
    held = list(ring._items)
    assert all(type(e) is tuple and not gc.is_tracked(e) for e in held)
    # Handed out again (a client catching up), a delta brings the frames built for it...
    tail = ring.after(1)
    assert tail is not None
    assert [o.version for o in tail] == [2, 3, 4]
    assert all(o.frame(None) is frames[o.version] for o in tail)
    # ...and frames built now for another shape are kept for the next client.
    shaped = tail[0].frame(frozenset({"1x2"}))
    ring.settle()
    again = ring.after(1)
    assert again is not None
    assert again[0].frame(frozenset({"1x2"})) is shaped
    assert [o.delta.version for o in again] == [2, 3, 4]  # decoded from its JSON
    ring.settle()
    gc.collect()
    assert not any(gc.is_tracked(e) for e in ring._items)
