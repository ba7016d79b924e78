"""The platform's model prices as trading remembers them, and when they are recent enough.

The pricing service publishes a :class:`~shared.fair.ModelPrices` per event before the
match and again after every applied live change, naming the feed version it was
computed from (``event_version``). A price is only compared with a model that knew
everything that changes the truth before that price: the score, the clock, the event's
status and its fixture. So a model is **recent** for a price change at feed version
``v`` when

1. ``model.event_version >= last_live_version``: the version of the event's latest
   delta that carried a live state, a fixture or a change of status, up to ``v`` (odds
   and bet stops change no probability, so a model need not be recomputed for them);
2. ``model.event_version <= v``: never a model of a later state than the price (that
   would be betting with hindsight, e.g. after a goal the price had not seen yet);
3. in play, ``model.computed_at`` is at most ``max_age_s`` older than the price (the
   clock runs even when no live update comes; pre-match there is no such limit);
4. its phase is not ``ended``.

Of the recent ones the newest is used. The book keeps the last few models of each
event (by ``event_version``), so a price can still be judged after a newer model came.
An event first seen in the middle of its feed (its earlier deltas were never read) has
``last_live_version`` = the version before the first delta seen: whatever happened
before is unknown, so the model must be at least that new.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from shared.fair import ModelPrices

PICK_REASONS = ("ok", "no_model", "stale_model", "model_ahead", "model_too_old", "ended")


@dataclass(frozen=True, slots=True)
class ModelPick:
    """The model to judge a price with, or why there is none (one of :data:`PICK_REASONS`)."""

    prices: ModelPrices | None
    reason: str


class ModelBook:
    """The latest model prices of each event, a few versions deep, bounded in events."""

    def __init__(self, *, keep: int = 8, max_events: int = 50_000, max_age_s: float = 120.0) -> None:
        self._keep = keep
        self._max_events = max_events
        self._max_age_s = max_age_s
        self._events: OrderedDict[str, list[ModelPrices]] = OrderedDict()

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._events

    def add(self, prices: ModelPrices) -> None:
        """Remember ``prices`` (the same version again replaces the older computation)."""
        entries = self._events.get(prices.event_id)
        if entries is None:
            entries = self._events[prices.event_id] = []
            if len(self._events) > self._max_events:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(prices.event_id)
        for i, old in enumerate(entries):
            if old.event_version == prices.event_version:
                if prices.computed_at >= old.computed_at:
                    entries[i] = prices
                return
        entries.append(prices)
        entries.sort(key=lambda p: p.event_version)
        del entries[:-self._keep]

    def pick(self, event_id: str, version: int, last_live_version: int, at: datetime,
             *, in_play: bool) -> ModelPick:
        """The newest recent model for a price at feed ``version`` seen at ``at``."""
        entries = self._events.get(event_id)
        if not entries:
            return ModelPick(None, "no_model")
        usable = [p for p in entries if p.event_version <= version]
        if not usable:
            return ModelPick(None, "model_ahead")
        newest = usable[-1]
        if newest.event_version < last_live_version:
            return ModelPick(None, "stale_model")
        if newest.phase == "ended":
            return ModelPick(None, "ended")
        if in_play and (at - newest.computed_at).total_seconds() > self._max_age_s:
            return ModelPick(None, "model_too_old")
        return ModelPick(newest, "ok")


def probability(prices: ModelPrices, market_key: str, outcome_id: str) -> float | None:
    """The model's probability of one outcome (None when it does not price it)."""
    for market in prices.markets:
        if market.market_key == market_key:
            for outcome in market.outcomes:
                if outcome.id == outcome_id:
                    return outcome.probability if outcome.probability > 0 else None
    return None
