"""Merging consecutive deltas of one event into one (conflation).

Applying ``merge_deltas(a, b)`` to a snapshot at ``a.version - 1`` gives the same state
as applying ``a`` then ``b`` (:func:`shared.live.apply_delta` semantics): the latest
fixture, live state and status win, each market keeps its latest state, settlements
accumulate (a rollback in ``b`` removes ``a``'s settlements of that market).
"""

from __future__ import annotations

from shared.live import EventDelta


def merge_deltas(first: EventDelta, second: EventDelta) -> EventDelta:
    """One delta equivalent to ``first`` followed by ``second`` (same event, next versions)."""
    if first.event_id != second.event_id:
        raise ValueError(f"cannot merge deltas of {first.event_id} and {second.event_id}")
    if second.version <= first.version:
        raise ValueError(f"{first.event_id}: v{second.version} does not follow v{first.version}")
    markets = {m.market_key: m for m in first.markets}
    for market in second.markets:
        markets[market.market_key] = market
    undone = set(second.rolled_back)
    settlements = tuple(s for s in first.settlements if s.market_key not in undone)
    rolled_back = tuple(dict.fromkeys((*first.rolled_back, *second.rolled_back)))
    return second.model_copy(
        update={
            "status": second.status or first.status,
            "fixture": second.fixture or first.fixture,
            "live": second.live or first.live,
            "markets": tuple(markets.values()),
            "settlements": settlements + second.settlements,
            "rolled_back": rolled_back,
        }
    )
