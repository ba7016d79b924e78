"""Every event the service prices: its snapshot kept by deltas, its parameters and lines.

The pure core of the live service. :meth:`EventBook.hold` takes a snapshot (at start,
for an event first seen, after a gap), :meth:`EventBook.apply` a delta from the
updates topic, and each says what the model must do (:class:`Verdict`);
:meth:`EventBook.price` makes the event's :class:`~shared.fair.ModelPrices`.

What moves the model: the live state (score, period, clock), the event's status, its
fixture (other sides, best-of), and a market the event starts offering (a new line to
price). An odds change alone does not: the model's opinion does not follow the market.
Cancelled and abandoned events are dropped (their bets are void: no price); a closed
event is priced once more (``ended``, certain) and then forgotten.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.pricing.domain.lines import add_lines, choose_lines
from services.pricing.domain.models import PricingModel, plays_to_a_finish
from services.pricing.domain.quotes import market_probabilities, model_prices
from shared.enums import EventStatus, MessageKind, Sport
from shared.fair import ModelPrices, Phase
from shared.live import EventDelta, EventSnapshot, LiveState, VersionGap, apply_delta, construct
from shared.model import LiveBody, PeriodScore, Score
from shared.pricing.event import SportParams, event_outlook, state_from_live
from shared.pricing.margins import Method
from shared.pricing.markets import MarketLine

VOID = frozenset({EventStatus.CANCELLED, EventStatus.ABANDONED})
ENDED = frozenset({EventStatus.ENDED, EventStatus.CLOSED})


class Verdict(StrEnum):
    """What a snapshot or delta means for the event's model prices."""

    PRICE = "price"  # publish new prices
    SKIP = "skip"  # applied; nothing the model depends on changed
    OLD = "old"  # already applied (a redelivery, or the snapshot was newer)
    GAP = "gap"  # a version is missing: a fresh snapshot is needed
    DROP = "drop"  # void (cancelled, abandoned): forget the event and its prices
    UNKNOWN = "unknown"  # not held: a snapshot is needed


@dataclass
class Entry:
    """One event as the book holds it."""

    snapshot: EventSnapshot
    model: PricingModel
    params: SportParams | None
    lines: tuple[MarketLine, ...]
    priced: tuple[int, str] | None = None  # (event version, model version) last priced


class EventBook:
    """The events being priced, least recently changed first (bounded)."""

    def __init__(self, models: Mapping[Sport, PricingModel], *, margin: float, method: Method,
                 max_events: int = 100_000) -> None:
        self.models = dict(models)
        self.margin = margin
        self.method = method
        self.max_events = max_events
        self.entries: OrderedDict[str, Entry] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def count(self, sport: Sport) -> int:
        """Events of ``sport`` held."""
        return sum(e.snapshot.sport is sport for e in self.entries.values())

    # -- state in -----------------------------------------------------------------------

    def hold(self, snapshot: EventSnapshot) -> Verdict:
        """Take a snapshot (newer than what is held, or of an event not held)."""
        held = self.entries.get(snapshot.event_id)
        if held is not None and held.snapshot.version >= snapshot.version:
            return Verdict.OLD if held.priced is not None else Verdict.PRICE
        if snapshot.status in VOID:
            return self._drop(snapshot.event_id)
        if held is not None and held.snapshot.fixture == snapshot.fixture:
            held.snapshot = snapshot
            self._extend(held)
            self.entries.move_to_end(snapshot.event_id)
            return Verdict.PRICE
        self.entries[snapshot.event_id] = self._entry(snapshot, self.models[snapshot.sport])
        self.entries.move_to_end(snapshot.event_id)
        while len(self.entries) > self.max_events:
            self.entries.popitem(last=False)
        return Verdict.PRICE

    def apply(self, delta: EventDelta) -> Verdict:
        """Apply a delta of the updates topic."""
        entry = self.entries.get(delta.event_id)
        if entry is None:
            return Verdict.UNKNOWN
        if delta.version <= entry.snapshot.version:
            return Verdict.OLD
        status = entry.snapshot.status
        try:
            entry.snapshot = apply_delta(entry.snapshot, delta)
        except VersionGap:
            return Verdict.GAP
        self.entries.move_to_end(delta.event_id)
        if entry.snapshot.status in VOID:
            return self._drop(delta.event_id)
        if delta.fixture is not None:
            entry.params = entry.model.params(entry.snapshot.fixture)
            if entry.params is not None and not entry.lines:
                entry.lines = self._lines(entry.snapshot, entry.params)
            return Verdict.PRICE
        # Every delta carries the event's status: only a change of it moves the model.
        if delta.live is not None or entry.snapshot.status is not status:
            return Verdict.PRICE
        if delta.markets and self._extend(entry):
            return Verdict.PRICE
        return Verdict.SKIP

    def forget(self, event_id: str) -> None:
        """Stop holding an event."""
        self.entries.pop(event_id, None)

    def _drop(self, event_id: str) -> Verdict:
        self.entries.pop(event_id, None)
        return Verdict.DROP

    # -- models -------------------------------------------------------------------------

    def set_model(self, model: PricingModel) -> list[str]:
        """Price ``model``'s sport with it from now on; the events of the sport to reprice."""
        self.models[model.sport] = model
        ids = []
        for event_id, entry in self.entries.items():
            if entry.snapshot.sport is model.sport:
                entry.model = model
                entry.params = model.params(entry.snapshot.fixture)
                if entry.params is not None and not entry.lines:
                    entry.lines = self._lines(entry.snapshot, entry.params)
                ids.append(event_id)
        return ids

    def _entry(self, snapshot: EventSnapshot, model: PricingModel) -> Entry:
        params = model.params(snapshot.fixture)
        lines = self._lines(snapshot, params) if params is not None else ()
        return Entry(snapshot, model, params, lines)

    def _lines(self, snapshot: EventSnapshot, params: SportParams) -> tuple[MarketLine, ...]:
        return choose_lines(snapshot.sport, params, event_outlook(params), snapshot.markets)

    def _extend(self, entry: Entry) -> bool:
        """Add the lines of markets the event offers that are not priced yet."""
        if entry.params is None:
            return False
        keys = {line.key for line in entry.lines}
        if all(key in keys for key in entry.snapshot.markets):
            return False
        new = add_lines(entry.snapshot.sport, event_outlook(entry.params),
                        entry.snapshot.markets, keys)
        entry.lines += tuple(new)
        return bool(new)

    # -- prices out ---------------------------------------------------------------------

    def price(self, event_id: str, now: datetime) -> ModelPrices | None:
        """The event's model prices now (None: not held, or nothing to price it with).

        A closed event is forgotten once priced: its prices are final.
        """
        entry = self.entries.get(event_id)
        if entry is None or entry.params is None:
            return None
        snap = entry.snapshot
        live = live_body(snap.sport, snap.status, snap.live) if snap.live is not None else None
        if live is None and snap.status in ENDED:
            return None  # an end without a score cannot be priced
        knockout = plays_to_a_finish(snap.fixture)
        state = state_from_live(snap.sport, live, knockout=knockout) if live is not None else None
        outlook = event_outlook(entry.params, state)
        markets = market_probabilities(snap.sport, entry.lines, outlook)
        phase: Phase = "ended" if snap.status in ENDED else "in_play" if state else "pre_match"
        prices = model_prices(
            event_id=event_id, sport=snap.sport, event_version=snap.version, phase=phase,
            model=entry.model.version, training_size=entry.model.training_size,
            outlook=outlook, markets=markets, score=scored(snap.sport, live),
            margin=self.margin, method=self.method, now=now,
            sides_rated=entry.model.sides_rated(snap.fixture),
        )
        entry.priced = (snap.version, entry.model.version)
        if snap.status is EventStatus.CLOSED:
            self.forget(event_id)
        return prices


def live_body(sport: Sport, status: EventStatus, live: LiveState) -> LiveBody:
    """The canonical live body of a snapshot's live state (what the library reads).

    The event's status wins when it says the match ended. A football score without
    periods (a provider that sends none) counts as regular time: the library reads
    the regular score from the halves.
    """
    periods = live.score.periods
    if sport is Sport.FOOTBALL and not periods and (live.score.home or live.score.away):
        periods = (construct(PeriodScore, {"period": "1h", "home": live.score.home,
                                           "away": live.score.away, "tiebreak_home": None,
                                           "tiebreak_away": None}),)
    score = live.score if periods is live.score.periods else construct(
        Score, {"home": live.score.home, "away": live.score.away, "periods": periods})
    return construct(LiveBody, {
        "kind": MessageKind.LIVE, "status": status if status in ENDED else live.status,
        "period": live.period, "clock": live.clock, "score": score, "game": live.game,
        "server": live.server,
    })


def scored(sport: Sport, live: LiveBody | None) -> tuple[int, int]:
    """The score the outlook's totals count: games in tennis, else the live score."""
    if live is None:
        return 0, 0
    if sport is Sport.TENNIS:
        periods = live.score.periods
        return sum(p.home for p in periods), sum(p.away for p in periods)
    return live.score.home, live.score.away
