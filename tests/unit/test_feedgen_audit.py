"""The audit's classification, as a pure function of a sent record and ledger rows."""

from __future__ import annotations

from feedgen.audit import LedgerEntry, expected_ids, format_report, reconcile
from feedgen.record import Outcome, SendRecord


def send(n: int, message_id: str, outcome: Outcome = "accepted", expect: str = "applied",
         **kw: object) -> SendRecord:
    return SendRecord(n=n, message_id=message_id, event_id="sr:match:1", sport="football",
                      kind="live", format="json", expect=expect, outcome=outcome,
                      **kw)  # type: ignore[arg-type]


APPLIED = LedgerEntry("applied")


def test_a_clean_run_reconciles_with_both_identities() -> None:
    records = [send(0, "a"), send(1, "b"), send(2, "c", "refused", "refused",
                                                 fault="malformed:syntax"),
               send(3, "a", expect="duplicate", fault="dup"),
               send(4, "d", expect="stale", fault="reorder", after="b")]
    ledger = {"a": APPLIED, "b": APPLIED, "d": LedgerEntry("stale", "older")}
    report = reconcile(records, ledger, {"a": 1})
    assert report.ok, format_report(report)
    assert report.caught_up
    c = report.counts
    assert (c["sent"], c["accepted"], c["refused"], c["unacknowledged"]) == (5, 4, 1, 0)
    assert (c["applied"], c["stale"], c["duplicate"], c["rejected"]) == (2, 1, 1, 0)
    # sent = accepted + refused; accepted = ledger rows + duplicate rows
    assert c["sent"] == c["accepted"] + c["refused"]
    assert c["accepted"] == c["ledger_rows"] + c["duplicate"]
    assert "audit: OK" in format_report(report)


def test_an_accepted_message_without_a_ledger_row_is_lost() -> None:
    report = reconcile([send(0, "a"), send(1, "b")], {"a": APPLIED}, {})
    assert not report.ok
    assert not report.caught_up
    assert [(f.problem, f.message_id) for f in report.findings] == [("lost", "b")]
    assert "FAILED (1 lost" in format_report(report)


def test_a_message_that_ended_otherwise_is_unexpected() -> None:
    report = reconcile([send(0, "a")], {"a": LedgerEntry("rejected", "illegal transition")}, {})
    assert not report.ok
    finding = report.findings[0]
    assert (finding.problem, finding.expected, finding.actual) == ("unexpected", "applied",
                                                                   "rejected")
    assert finding.reason == "illegal transition"


def test_a_held_back_message_is_stale_only_if_the_newer_one_arrived() -> None:
    held = send(2, "late", expect="stale", fault="reorder", after="newer")
    ok = reconcile([send(0, "newer"), held], {"newer": APPLIED, "late": LedgerEntry("stale")}, {})
    assert ok.ok
    wrong = reconcile([send(0, "newer"), held], {"newer": APPLIED, "late": APPLIED}, {})
    assert [f.problem for f in wrong.findings] == ["unexpected"]
    # The newer one never got there: then the held-back one simply applies.
    lonely = reconcile([send(0, "newer", "unacknowledged"), held], {"late": APPLIED}, {})
    assert lonely.ok
    assert [f.problem for f in lonely.findings] == ["unacknowledged"]


def test_a_duplicate_is_accepted_twice_with_one_ledger_row() -> None:
    records = [send(0, "a"), send(5, "a", expect="duplicate", fault="dup")]
    assert reconcile(records, {"a": APPLIED}, {"a": 1}).ok
    missing = reconcile(records, {"a": APPLIED}, {})
    assert [f.problem for f in missing.findings] == ["missing_duplicate"]
    assert not missing.caught_up
    # A re-send whose original was refused is the first delivery: it applies.
    first_refused = [send(0, "a", "refused", reason="busy"),
                     send(5, "a", expect="duplicate", fault="dup")]
    report = reconcile(first_refused, {"a": APPLIED}, {})
    assert [f.problem for f in report.findings] == ["unexpected"]  # the refusal itself
    assert all(f.message_id == "a" and f.actual == "refused" for f in report.findings)


def test_extra_deliveries_and_unacknowledged_sends_do_not_fail_the_audit() -> None:
    records = [send(0, "a"), send(1, "b", "unacknowledged", reason="gave up")]
    report = reconcile(records, {"a": APPLIED}, {"a": 1})
    assert report.ok
    assert sorted(f.problem for f in report.findings) == ["extra_delivery", "unacknowledged"]


def test_refused_messages_must_stay_out_of_the_ledger() -> None:
    records = [send(0, "bad", "refused", "refused", fault="malformed:bad_price")]
    assert reconcile(records, {}, {}).ok
    report = reconcile(records, {"bad": APPLIED}, {})
    assert [f.problem for f in report.findings] == ["refused_in_ledger"]


def test_an_accepted_broken_message_is_unexpected() -> None:
    records = [send(0, "bad", "accepted", "refused", fault="malformed:bad_score")]
    report = reconcile(records, {"bad": LedgerEntry("rejected")}, {})
    assert not report.ok
    assert report.findings[0].problem == "unexpected"


def test_the_ids_to_look_up_skip_sends_without_an_answer() -> None:
    records = [send(0, "a"), send(1, "b", "refused"), send(2, "c", "unacknowledged"),
               send(3, "a")]
    assert expected_ids(records) == ["a", "b"]


def test_records_read_back_as_written() -> None:
    record = send(3, "x", "refused", "refused", fault="malformed:syntax", reason="bad", http=400)
    assert SendRecord.from_json(record.to_json()) == record
