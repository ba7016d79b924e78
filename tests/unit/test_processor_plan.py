"""A batch decided as a whole: duplicates, replays, versions and rollbacks (no I/O)."""

from __future__ import annotations

from datetime import timedelta

from shared.enums import Disposition, MarketStatus, Sport
from shared.live import EventSnapshot, apply_delta
from tests.support.decisions import dispositions, plan, records
from tests.support.samples import Messages


def test_versions_rise_by_one_per_applied_message_within_a_batch() -> None:
    m = Messages()
    p = plan(records(m.fixture("e1"), m.live("e1"), m.odds("e1"), m.bet_stop("e1")))
    assert [d.version for d in p.deltas] == [1, 2, 3, 4]
    assert p.after["e1"].version == 4
    snapshot = EventSnapshot(event_id="e1", sport=Sport.FOOTBALL, version=0)
    for delta in p.deltas:
        snapshot = apply_delta(snapshot, delta)
    assert snapshot == p.after["e1"].snapshot()


def test_second_delivery_of_an_id_in_one_batch_is_a_duplicate() -> None:
    m = Messages()
    fixture = m.fixture("e1")
    odds = m.odds("e1")
    p = plan(records(fixture, odds, odds))
    assert dispositions(p) == ["applied", "applied"]
    assert [(r.message_id, r.offset) for r in p.duplicates] == [(odds.message_id, 2)]
    assert p.counts[Disposition.DUPLICATE] == 1


def test_id_already_in_the_ledger_from_another_record_is_a_duplicate() -> None:
    m = Messages()
    odds = m.odds("e1")
    p = plan(records(odds, start=10), ledger={odds.message_id: ("football", 0, 3)})
    assert p.ledger == []
    assert [r.offset for r in p.duplicates] == [10]


def test_replayed_record_has_no_second_effect() -> None:
    m = Messages()
    first = plan(records(m.fixture("e1"), m.odds("e1")))
    state = first.after["e1"]
    # The same two records again (same offsets), as after a crash before the Kafka commit.
    items = records(m.fixture("e1", message_id="m1"), m.odds("e1", message_id="m2"))
    again = plan(items, {"e1": state}, {"m1": ("football", 0, 0), "m2": ("football", 0, 1)})
    assert again.ledger == []
    assert again.duplicates == []
    assert again.after == {}
    assert again.deltas == []
    assert again.replays == 2
    assert again.replayed == {"e1"}


def test_out_of_order_message_in_a_batch_is_stale() -> None:
    m = Messages()
    fixture, live = m.fixture("e1"), m.live("e1")
    late = m.odds("e1", at=live.provider_ts - timedelta(milliseconds=1))
    p = plan(records(fixture, live, late))
    assert dispositions(p) == ["applied", "applied", "stale"]
    assert p.after["e1"].version == 2


def test_events_in_one_batch_are_independent() -> None:
    m = Messages()
    p = plan(records(m.fixture("e1"), m.fixture("e2"), m.odds("e2"), m.odds("e1")))
    assert p.after["e1"].version == 2
    assert p.after["e2"].version == 2
    assert [(d.event_id, d.version) for d in p.deltas] == [("e1", 1), ("e2", 1), ("e2", 2), ("e1", 2)]


def test_rollback_later_in_the_batch_marks_the_new_settlement_rows() -> None:
    m = Messages()
    p = plan(records(
        m.fixture("e1"), m.odds("e1"), m.settlement("e1", "1x2", "home"),
        m.rollback("e1", "settlement", ["1x2"]), m.odds("e1"), m.settlement("e1", "1x2", "away"),
    ))
    assert dispositions(p) == ["applied"] * 6
    assert len(p.settlements) == 6
    rollback_id = p.ledger[3].message_id
    assert {i: (m.message_id, m.action) for i, m in p.settlement_marks.items()} == {
        i: (rollback_id, "rolled_back") for i in range(3)}
    assert p.after["e1"].markets["1x2"].status is MarketStatus.SETTLED


def test_undecodable_record_with_a_readable_id_is_ledgered_as_rejected() -> None:
    raw = b'{"message_id": "bad1", "provider": "gen", "event_id": "e9", "kind": "odds",' \
          b' "sport": "football", "body": {"markets": []}}'
    p = plan(records(raw))
    assert [(r.message_id, r.disposition.value, r.kind) for r in p.ledger] == [
        ("bad1", "rejected", "odds")]
    reason = p.ledger[0].reason or ""
    assert "invalid message" in reason
    assert len(p.rejected) == 1
    assert p.rejected[0].stage == "processor"
    assert p.rejected[0].message_id == "bad1"


def test_unreadable_record_goes_only_to_the_rejected_topic() -> None:
    p = plan(records(b"\xff not json"))
    assert p.ledger == []
    assert p.counts[Disposition.REJECTED] == 1
    assert p.rejected[0].payload.endswith("not json")
    assert p.rejected[0].message_id is None


def test_rejected_message_gets_a_ledger_row_and_a_rejected_record() -> None:
    m = Messages()
    p = plan(records(m.odds("nope")))
    assert dispositions(p) == ["rejected"]
    assert "unknown event nope" in (p.rejected[0].reason or "")


def test_alive_keeps_the_newest_time_per_provider() -> None:
    m = Messages()
    early, late = m.alive(), m.alive()
    p = plan(records(late, early))
    assert p.liveness == {"gen": late.provider_ts}
    assert dispositions(p) == ["applied", "applied"]
    assert p.deltas == []


def test_same_id_and_offset_on_another_sports_topic_is_not_a_replay() -> None:
    m = Messages()
    odds = m.odds("e1")
    # Each sport's topic has its own offsets: tennis's record 0/5 is not this one.
    p = plan(records(odds, start=5), ledger={odds.message_id: ("tennis", 0, 5)})
    assert p.replays == 0
    assert [r.offset for r in p.duplicates] == [5]


def test_undecodable_record_without_a_readable_kind_goes_only_to_the_rejected_topic() -> None:
    raw = b'{"message_id": "bad2", "kind": "gossip", "provider": "gen"}'
    p = plan(records(raw))
    assert p.ledger == []
    assert p.counts[Disposition.REJECTED] == 1
    assert p.rejected[0].message_id == "bad2"
