"""The run plan: every message of a run, in order, with when it is due and what it should become.

The plan depends only on the run options (seed included), never on timing: the same
options give the same messages, ids, formats, faults and due times, whatever the
network does. It is built lazily, so a long run never holds all of it in memory.

- ``matches`` slots each play matches back to back (a new fixture follows a closed
  event); a match's sport, format and score come from generators seeded by
  ``(seed, slot, match)``; its simulated time maps to wall time through the
  :class:`SimClock` (``speed``, with ``burst`` windows running faster);
- provider timestamps are ``start_at`` + due time, in milliseconds, strictly
  increasing per event (the processors call an older one stale);
- ``alive`` heartbeats go out every ``heartbeat`` seconds for every sport in the run,
  except in ``silence`` windows;
- faults are drawn from their own generator (:mod:`feedgen.faults`).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import count

from feedgen.emit import Fmt, encode, uof_view
from feedgen.emit.malformed import choose_variant, malformed_payload
from feedgen.faults import FaultPlan
from feedgen.feed import Draft, match_feed
from feedgen.settings import RunOptions
from feedgen.sim import make_setup
from shared.enums import MessageKind, Sport
from shared.model import ALIVE_EVENT_ID, AliveBody, FeedMessage

# Messages per simulated second of one slot, by sport (measured over many matches,
# pre-match and the gap to the next match included): what ``speed=None`` divides by.
DENSITY = {Sport.FOOTBALL: 0.0285, Sport.BASKETBALL: 0.0440, Sport.TENNIS: 0.0440,
           Sport.ICE_HOCKEY: 0.0245}
GAP_SECONDS = (30.0, 120.0)  # simulated pause between two matches of a slot
PREMATCH_SECONDS = (300.0, 900.0)


class Expect(StrEnum):
    """What a sent message should become on the platform."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # accepted again under an id the ledger already has
    STALE = "stale"
    REFUSED = "refused"  # by ingestion, with a 4xx


@dataclass(frozen=True)
class Planned:
    """One message to send: its encoding, when, and what should become of it."""

    seq: int
    at: float  # seconds after the run's start
    fmt: Fmt
    sport: Sport
    event_id: str
    kind: MessageKind
    message_id: str  # for a broken UOF message: a label (UOF carries no ids)
    payload: bytes  # batch item (JSON, XML), whole document (UOF) or whole broken body
    expect: Expect
    fault: str | None = None  # dup | reorder | malformed:<variant>
    after: str | None = None  # reorder: the message it was held back behind
    alone: bool = False  # a request of its own (broken payloads)
    message: FeedMessage | None = field(default=None, compare=False)


class SimClock:
    """Simulated seconds <-> wall seconds after the start, with burst windows.

    Outside bursts the simulation runs ``speed`` times real time; inside a burst
    ``speed * factor`` times.
    """

    def __init__(self, speed: float, bursts: list[tuple[float, float, float]]) -> None:
        self.speed = speed
        # (wall start, sim start, sim seconds per wall second) of each piece.
        self.pieces: list[tuple[float, float, float]] = [(0.0, 0.0, speed)]
        for start, end, factor in bursts:
            self._add(start, speed * factor)
            self._add(end, speed)

    def _add(self, wall: float, rate: float) -> None:
        w0, s0, r0 = self.pieces[-1]
        self.pieces.append((wall, s0 + (wall - w0) * r0, rate))

    def sim_at(self, wall: float) -> float:
        """Simulated seconds elapsed at ``wall`` seconds after the start."""
        w0, s0, r0 = next(p for p in reversed(self.pieces) if p[0] <= wall)
        return s0 + (wall - w0) * r0

    def wall_at(self, sim: float) -> float:
        """Wall seconds after the start when the simulation reaches ``sim``."""
        w0, s0, r0 = next(p for p in reversed(self.pieces) if p[1] <= sim)
        return w0 + (sim - s0) / r0


def auto_speed(opts: RunOptions) -> float:
    """The speed at which ``matches`` slots produce about ``rate`` messages a second."""
    density = sum(share * DENSITY[sport] for sport, share in opts.sports.items())
    return max(opts.rate / (opts.matches * density), 0.01)


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    names = sorted(shares)
    return rng.choices(names, weights=[shares[n] for n in names])[0]


@dataclass(order=True)
class _Item:
    sim: float
    order: tuple[int, int, int]
    sport: Sport = field(compare=False)
    event_id: str = field(compare=False)
    fmt: Fmt = field(compare=False)
    draft: Draft = field(compare=False)
    message_id: str = field(compare=False)
    wall: float | None = field(default=None, compare=False)  # exact due time, if fixed


class RunPlan:
    """The deterministic sequence of :class:`Planned` messages of one run."""

    def __init__(self, opts: RunOptions, *, seed: int, start_at: datetime) -> None:
        self.opts, self.seed = opts, seed
        self.start_at = start_at.replace(microsecond=start_at.microsecond // 1000 * 1000)
        self.faults: FaultPlan = opts.fault_plan
        self.speed = opts.speed or auto_speed(opts)
        self.clock = SimClock(self.speed, self.faults.bursts())

    # -- the matches -------------------------------------------------------------------

    def _slot(self, slot: int) -> Iterator[_Item]:
        seed, opts = self.seed, self.opts
        sim = random.Random(f"{seed}:slot:{slot}").uniform(0, 30)
        for number in count():
            if self.clock.wall_at(sim) >= opts.duration:
                return
            rng = random.Random(f"{seed}:match:{slot}:{number}")
            sport = Sport(_pick(random.Random(f"{seed}:sport:{slot}:{number}"),
                                {s.value: v for s, v in opts.sports.items()}))
            fmt = Fmt(_pick(random.Random(f"{seed}:format:{slot}:{number}"),
                            {f.value: v for f, v in opts.formats.items()}))
            event_number = (seed % 100_000) * 10_000_000 + number * 10_000 + slot
            setup = make_setup(sport, event_number, seed, rng)
            prematch = rng.uniform(*PREMATCH_SECONDS)
            kickoff = self.start_at + timedelta(seconds=self.clock.wall_at(sim + prematch))
            kickoff = kickoff.replace(microsecond=0)
            last = sim
            for n, draft in enumerate(match_feed(setup, rng, margin=opts.margin,
                                                 prematch_seconds=prematch, kickoff_at=kickoff)):
                last = sim + draft.t
                yield _Item(last, (0, slot, n), sport, setup.event_id, fmt, draft,
                            f"fg{seed}-{event_number}-{n}")
            sim = last + rng.uniform(*GAP_SECONDS)

    def _heartbeats(self) -> Iterator[_Item]:
        sports = sorted(self.opts.sports, key=list(Sport).index)
        for beat in count():
            at = beat * self.opts.heartbeat
            if at >= self.opts.duration:
                return
            if self.faults.silent(at):
                continue
            fmt = Fmt(_pick(random.Random(f"{self.seed}:alive:{beat}"),
                            {f.value: v for f, v in self.opts.formats.items()}))
            for n, sport in enumerate(sports):
                draft = Draft(0.0, MessageKind.ALIVE, AliveBody(producer="live"))
                yield _Item(self.clock.sim_at(at), (-1, beat, n), sport, ALIVE_EVENT_ID, fmt,
                            draft, f"fg{self.seed}-alive-{beat}-{sport.value}", wall=at)

    def _base(self) -> Iterator[Planned]:
        """Every regular message, enveloped, in due order."""
        streams = [self._slot(s) for s in range(self.opts.matches)] + [self._heartbeats()]
        last_ms: dict[str, int] = {}
        for seq, item in enumerate(heapq.merge(*streams)):
            at = item.wall if item.wall is not None else self.clock.wall_at(item.sim)
            if at >= self.opts.duration:
                return
            ms = round(at * 1000)
            if item.event_id != ALIVE_EVENT_ID:
                ms = max(ms, last_ms.get(item.event_id, -1) + 1)
                last_ms[item.event_id] = ms
            ts = self.start_at + timedelta(milliseconds=ms)
            message = FeedMessage(
                message_id=item.message_id, provider=self.opts.provider, sport=item.sport,
                event_id=item.event_id, kind=item.draft.kind, provider_ts=ts, received_at=ts,
                body=item.draft.body,
            )
            if item.fmt is Fmt.UOF:
                message = uof_view(message, self.opts.provider)
            yield Planned(seq, at, item.fmt, item.sport, item.event_id, message.kind,
                          message.message_id, encode(item.fmt, message), Expect.APPLIED,
                          message=message)

    # -- faults ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Planned]:
        """The run's messages with faults applied, in sending order."""
        rng = random.Random(f"{self.seed}:faults")
        held: dict[str, Planned] = {}
        dups: list[tuple[int, int, Planned]] = []
        position, broken = 0, count()
        for base in self._base():
            while dups and dups[0][0] <= position:
                yield _redo(heapq.heappop(dups)[2], base.at)
            is_event = base.event_id != ALIVE_EVENT_ID
            if (is_event and base.event_id not in held and base.kind in _REORDERABLE
                    and _in_play(base) and rng.random() < self.faults.share("reorder", base.at)):
                held[base.event_id] = base
                continue
            yield base
            position += 1
            if is_event and base.event_id in held:
                late = held.pop(base.event_id)
                yield Planned(late.seq, base.at, late.fmt, late.sport, late.event_id, late.kind,
                              late.message_id, late.payload, Expect.STALE, "reorder",
                              after=base.message_id, message=late.message)
            if rng.random() < self.faults.share("dup", base.at):
                heapq.heappush(dups, (position + rng.randint(1, 50), base.seq, base))
            if is_event and rng.random() < self.faults.share("malformed", base.at):
                yield self._broken(base, rng, next(broken))
        for late in held.values():  # nothing newer of their event came: they still apply
            yield late
        for _, _, original in sorted(dups):
            yield _redo(original, original.at)

    def _broken(self, base: Planned, rng: random.Random, n: int) -> Planned:
        assert base.message is not None
        variant = choose_variant(base.message, rng)
        label = f"fg{self.seed}-bad-{n}"
        payload = malformed_payload(base.fmt, base.message, variant, label, rng)
        return Planned(base.seq, base.at, base.fmt, base.sport, base.event_id, base.kind, label,
                       payload, Expect.REFUSED, f"malformed:{variant}", alone=True)


_REORDERABLE = frozenset({MessageKind.LIVE, MessageKind.ODDS})


def _in_play(planned: Planned) -> bool:
    """Live messages of a match in play and in-play odds (never the end of a match)."""
    message = planned.message
    if message is None:
        return False
    body = message.body
    status = getattr(body, "status", None)
    return status is None or status.value == "live"


def _redo(original: Planned, at: float) -> Planned:
    return Planned(original.seq, max(at, original.at), original.fmt, original.sport,
                   original.event_id, original.kind, original.message_id, original.payload,
                   Expect.DUPLICATE, "dup", message=original.message)
