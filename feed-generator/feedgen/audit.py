"""Reconciling a run's record with the platform's ledger (pure: no I/O here).

The identities the audit proves (see ``docs/feed-generator.md``):

- ``sent = accepted + refused + unacknowledged`` (each send of the record);
- every accepted delivery has exactly one disposition: the first delivery of a
  message id is its ``ledger`` row (applied, stale or rejected), every later one a
  ``ledger_duplicates`` row, so ``accepted = ledger rows + duplicate rows``. A re-send
  of a message (the ``dup`` fault) is "accepted twice, one ledger row, one duplicate";
- each message ended as planned: regular messages applied, held-back ones stale,
  re-sends duplicate, broken ones refused by ingestion (and absent from the ledger).

Anything accepted without a disposition is *lost*; anything that ended otherwise is
*unexpected*. Both fail the audit. Sends never acknowledged (the generator gave up
after its retries) and extra deliveries (a request that timed out but reached Kafka)
are reported but do not fail it: at-least-once delivery allows both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from feedgen.record import SendRecord

ERRORS = frozenset({"lost", "unexpected", "missing_duplicate", "refused_in_ledger"})


@dataclass(frozen=True)
class LedgerEntry:
    """A message's row in the ledger."""

    disposition: str
    reason: str | None = None


@dataclass(frozen=True)
class Finding:
    """One message the audit cannot account for, or that ended otherwise than planned."""

    problem: str  # lost | unexpected | missing_duplicate | refused_in_ledger |
    #               extra_delivery | unacknowledged
    message_id: str
    event_id: str
    kind: str
    format: str
    expected: str
    actual: str
    fault: str | None = None
    reason: str | None = None

    @property
    def error(self) -> bool:
        """True when this finding fails the audit."""
        return self.problem in ERRORS


@dataclass
class AuditReport:
    """Counts and findings of one reconciliation."""

    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing ended differently than planned."""
        return not any(f.error for f in self.findings)

    @property
    def caught_up(self) -> bool:
        """The ledger holds a disposition for every accepted delivery."""
        return not any(f.problem in ("lost", "missing_duplicate") for f in self.findings)


def expected_ids(records: Iterable[SendRecord]) -> list[str]:
    """The message ids to look up in the ledger (every accepted or refused send)."""
    return sorted({r.message_id for r in records if r.outcome != "unacknowledged"})


def _acceptable(first: SendRecord, accepted_ids: set[str], sends: list[SendRecord]) -> set[str]:
    """Dispositions that are right for a message whose first accepted send is ``first``."""
    if first.expect == "stale":
        # Stale only if the message it was held behind got there first.
        return {"stale"} if first.after in accepted_ids else {"stale", "applied"}
    if first.expect == "duplicate":
        return {"applied", "stale"}  # the original never arrived: the re-send is the first
    if any(s.partial for s in sends):
        return {"applied", "stale"}  # re-sent after later ones of its request got through
    return {first.expect}


def reconcile(
    records: Iterable[SendRecord],
    ledger: Mapping[str, LedgerEntry],
    duplicates: Mapping[str, int],
) -> AuditReport:
    """Classify every send against the ledger rows and duplicate counts by message id."""
    records = sorted(records, key=lambda r: r.n)
    report = AuditReport()
    outcomes = Counter(r.outcome for r in records)
    by_id: dict[str, list[SendRecord]] = {}
    for r in records:
        by_id.setdefault(r.message_id, []).append(r)
    accepted_ids = {r.message_id for r in records if r.outcome == "accepted"}

    for r in records:
        if r.outcome == "unacknowledged":
            report.findings.append(_finding("unacknowledged", r, r.expect, "no answer"))
        elif r.outcome == "refused" and r.expect != "refused":
            report.findings.append(_finding("unexpected", r, r.expect, "refused"))
        elif r.outcome == "accepted" and r.expect == "refused":
            report.findings.append(_finding("unexpected", r, "refused", "accepted"))

    for message_id, sends in by_id.items():
        accepted = [s for s in sends if s.outcome == "accepted"]
        entry = ledger.get(message_id)
        if not accepted:
            if entry is not None and any(s.outcome == "refused" for s in sends):
                report.findings.append(_finding("refused_in_ledger", sends[0], "refused",
                                                entry.disposition, entry.reason))
            continue
        first = accepted[0]
        if entry is None:
            report.findings.append(_finding("lost", first, first.expect, "no ledger row"))
            continue
        if entry.disposition not in _acceptable(first, accepted_ids, sends):
            report.findings.append(_finding("unexpected", first, first.expect,
                                            entry.disposition, entry.reason))
        have, want = duplicates.get(message_id, 0), len(accepted) - 1
        if have < want:
            report.findings.append(_finding("missing_duplicate", accepted[-1], "duplicate",
                                            f"{have} of {want} duplicate rows"))
        elif have > want:
            report.findings.append(_finding("extra_delivery", first, f"{want} duplicate rows",
                                            f"{have} duplicate rows"))

    found = [ledger[m] for m in by_id if m in ledger and m in accepted_ids]
    dispositions = Counter(e.disposition for e in found)
    report.counts = {
        "sent": len(records),
        "accepted": outcomes["accepted"],
        "refused": outcomes["refused"],
        "unacknowledged": outcomes["unacknowledged"],
        "accepted_ids": len(accepted_ids),
        "ledger_rows": len(found),
        "applied": dispositions["applied"],
        "duplicate": sum(duplicates.get(m, 0) for m in accepted_ids),
        "stale": dispositions["stale"],
        "rejected": dispositions["rejected"],
        "lost": sum(1 for f in report.findings if f.problem == "lost"),
        "unexpected": sum(1 for f in report.findings if f.problem != "lost" and f.error),
    }
    return report


def _finding(problem: str, r: SendRecord, expected: str, actual: str,
             reason: str | None = None) -> Finding:
    return Finding(problem=problem, message_id=r.message_id, event_id=r.event_id, kind=r.kind,
                   format=r.format, expected=expected, actual=actual, fault=r.fault,
                   reason=reason or r.reason)


def format_report(report: AuditReport, *, limit: int = 50) -> str:
    """The audit as text: the counts, the identities, then every finding (up to ``limit``)."""
    c = report.counts
    sent_ok = c["sent"] == c["accepted"] + c["refused"] + c["unacknowledged"]
    accepted_ok = c["accepted"] == c["ledger_rows"] + c["duplicate"]
    lines = [
        f"sent {c['sent']}  accepted {c['accepted']}  refused {c['refused']}  "
        f"unacknowledged {c['unacknowledged']}",
        f"applied {c['applied']}  duplicate {c['duplicate']}  stale {c['stale']}  "
        f"rejected {c['rejected']}",
        f"identity: sent {c['sent']} {'=' if sent_ok else '!='} accepted {c['accepted']} + "
        f"refused {c['refused']} + unacknowledged {c['unacknowledged']}",
        f"identity: accepted {c['accepted']} {'=' if accepted_ok else '!='} ledger rows "
        f"{c['ledger_rows']} + duplicate rows {c['duplicate']}"
        f"  (distinct accepted ids {c['accepted_ids']})",
    ]
    for finding in report.findings[:limit]:
        lines.append(
            f"  {finding.problem:18} {finding.message_id} event {finding.event_id} "
            f"{finding.kind}/{finding.format} fault={finding.fault or '-'}: expected "
            f"{finding.expected}, got {finding.actual}"
            + (f" ({finding.reason})" if finding.reason else "")
        )
    if len(report.findings) > limit:
        lines.append(f"  ... and {len(report.findings) - limit} more")
    lines.append("audit: OK" if report.ok else
                 f"audit: FAILED ({c['lost']} lost, {c['unexpected']} unexpected)")
    return "\n".join(lines)
