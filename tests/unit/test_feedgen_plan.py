"""The run plan: deterministic for a seed, faults where and when asked, options parsed."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from feedgen.emit import Fmt
from feedgen.faults import FaultSpecError, parse_faults
from feedgen.plan import Expect, Planned, RunPlan, SimClock, auto_speed
from feedgen.settings import RunOptions, parse_shares
from shared.enums import MessageKind
from shared.model import ALIVE_EVENT_ID

START = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
FAULTY = "dup=0.03,reorder=0.03,malformed=0.02,silence@6-11,burst=3@12-14"


def options(**values: object) -> RunOptions:
    base: dict[str, object] = {"matches": 6, "rate": 150, "duration": 20, "faults": FAULTY}
    return RunOptions.model_validate({**base, **values})


@cache
def planned(seed: int = 7, start: datetime = START, **values: object) -> tuple[Planned, ...]:
    return tuple(RunPlan(options(**values), seed=seed, start_at=start))


def _key(p: Planned) -> tuple[object, ...]:
    return (p.at, p.fmt, p.event_id, p.kind, p.message_id, p.payload, p.expect, p.fault, p.after)


def test_the_same_seed_plans_the_same_messages_ids_and_faults() -> None:
    first = planned()
    again = tuple(RunPlan(options(), seed=7, start_at=START))
    assert [_key(p) for p in first] == [_key(p) for p in again]
    assert len(first) > 1000


def test_the_time_anchor_only_moves_timestamps() -> None:
    later = planned(start=START + timedelta(hours=3))
    native = [p for p in planned() if p.fmt is not Fmt.UOF]
    native_later = [p for p in later if p.fmt is not Fmt.UOF]
    assert [(p.message_id, p.kind, p.expect, p.at) for p in native] == [
        (p.message_id, p.kind, p.expect, p.at) for p in native_later]
    shifted = {p.message_id: p.message for p in native_later}
    for p in native[:200]:
        if p.message is None:  # a broken payload
            continue
        other = shifted[p.message_id]
        assert other is not None
        assert other.provider_ts - p.message.provider_ts == timedelta(hours=3)


def test_another_seed_plans_another_run() -> None:
    assert {p.message_id for p in planned(seed=8)}.isdisjoint({p.message_id for p in planned()})


def test_provider_times_rise_per_event_except_for_held_back_messages() -> None:
    last: dict[str, datetime] = {}
    for p in planned():
        if p.event_id == ALIVE_EVENT_ID or p.message is None or p.fault == "dup":
            continue
        ts = p.message.provider_ts
        if p.fault == "reorder":
            assert ts < last[p.event_id]
            continue
        assert ts > last.get(p.event_id, datetime.min.replace(tzinfo=UTC))
        last[p.event_id] = ts


def test_duplicates_resend_an_earlier_message_unchanged() -> None:
    plan = planned()
    first_seen: dict[str, Planned] = {}
    dups = 0
    for p in plan:
        if p.fault == "dup":
            dups += 1
            original = first_seen[p.message_id]
            assert (p.payload, p.fmt, p.event_id) == (original.payload, original.fmt, original.event_id)
            assert p.expect is Expect.DUPLICATE
        else:
            first_seen.setdefault(p.message_id, p)
    assert dups > 10


def test_reordered_messages_follow_a_newer_message_of_their_event() -> None:
    plan = list(planned())
    held = [i for i, p in enumerate(plan) if p.fault == "reorder"]
    assert len(held) > 10
    for i in held:
        late = plan[i]
        assert late.expect is Expect.STALE
        assert late.kind in (MessageKind.LIVE, MessageKind.ODDS)
        newer = next(p for p in reversed(plan[:i]) if p.message_id == late.after)
        assert newer.event_id == late.event_id
        assert newer.expect is Expect.APPLIED
        assert newer.message is not None
        assert late.message is not None
        assert newer.message.provider_ts > late.message.provider_ts


def test_broken_messages_are_extra_and_expected_to_be_refused() -> None:
    broken = [p for p in planned() if (p.fault or "").startswith("malformed")]
    assert len(broken) > 5
    assert all(p.expect is Expect.REFUSED and p.alone and p.message is None for p in broken)
    assert len({p.message_id for p in broken}) == len(broken)


def test_silence_withholds_heartbeats_and_a_burst_raises_the_rate() -> None:
    plan = planned()
    beats = sorted({p.at for p in plan if p.kind is MessageKind.ALIVE and p.fault is None})
    assert beats
    assert not [at for at in beats if 6 <= at < 11]
    assert {0.0, 5.0, 15.0} <= set(beats)
    per_second = Counter(int(p.at) for p in plan)
    calm = sum(per_second[s] for s in range(2, 12)) / 10
    burst = sum(per_second[s] for s in (12, 13)) / 2
    assert burst > 2 * calm


def test_auto_speed_aims_at_the_rate() -> None:
    plan = planned(faults="")
    assert 0.6 * 150 < len(plan) / 20 < 1.6 * 150
    assert auto_speed(options(rate=300)) == pytest.approx(2 * auto_speed(options()))


def test_sim_clock_maps_both_ways_through_bursts() -> None:
    clock = SimClock(10.0, [(5.0, 8.0, 3.0)])
    for wall in (0.0, 4.9, 5.0, 6.5, 8.0, 20.0):
        assert clock.wall_at(clock.sim_at(wall)) == pytest.approx(wall)
    assert clock.sim_at(8.0) == pytest.approx(50 + 90)


def test_format_shares_are_respected_per_match() -> None:
    plan = planned(faults="", formats="json=0.8,uof=0.2", matches=20, duration=10)
    formats = Counter(p.fmt for p in plan if p.event_id != ALIVE_EVENT_ID)
    assert set(formats) <= {Fmt.JSON, Fmt.UOF}
    assert formats[Fmt.JSON] > formats[Fmt.UOF]


@pytest.mark.parametrize("spec", ["dup", "dup=2", "silence", "burst=0.5@1-2", "nope=0.1",
                                  "reorder=0.1@5-3", "burst=2@0-10,burst=2@5-15"])
def test_bad_fault_specs_are_refused_with_the_item(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_faults(spec)


def test_fault_specs_parse_shares_and_windows() -> None:
    plan = parse_faults("dup=0.01,reorder=0.5@10+5,silence@20-30,burst=3@40-45")
    assert plan.share("dup", 0) == 0.01
    assert plan.share("reorder", 12) == 0.5
    assert plan.share("reorder", 15) == 0
    assert plan.silent(25)
    assert not plan.silent(30)
    assert plan.burst_factor(41) == 3
    assert plan.burst_factor(50) == 1
    assert parse_faults(plan.describe()) == plan


def test_shares_parse_in_both_spellings() -> None:
    names = {"json", "xml", "uof"}
    assert parse_shares("json,xml,uof", names, "format") == pytest.approx(
        {"json": 1 / 3, "xml": 1 / 3, "uof": 1 / 3})
    assert parse_shares("json=0.6,xml=0.2,uof=0.2", names, "format") == pytest.approx(
        {"json": 0.6, "xml": 0.2, "uof": 0.2})
    with pytest.raises(ValueError, match="format"):
        parse_shares("yaml", names, "format")


def test_run_options_hide_the_key_and_check_the_url() -> None:
    opts = RunOptions.model_validate({"api_key": "secret-key-123456789", "url": "http://h:1/"})
    assert opts.url == "http://h:1"
    assert "secret-key" not in json.dumps(opts.model_dump(mode="json"))
    with pytest.raises(ValueError, match="url"):
        RunOptions.model_validate({"url": "ftp://elsewhere"})
