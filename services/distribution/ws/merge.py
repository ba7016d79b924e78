"""Merging consecutive deltas of one event into one (conflation).

Applying ``merge_deltas(a, b)`` to a snapshot at ``a.version - 1`` gives the same state
as applying ``a`` then ``b`` (:func:`shared.live.apply_delta` semantics): the latest
fixture, live state and status win, each market keeps its latest state, settlements
accumulate (a rollback in ``b`` removes ``a``'s settlements of that market, later results
in ``b`` replace them: a client that never saw ``a``'s results sees ``b``'s as new),
refused markets accumulate.
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
    earlier = {s.market_key: s for s in first.settlements if s.market_key not in undone}
    later = []
    for settlement in second.settlements:
        replaced = earlier.pop(settlement.market_key, None)
        if replaced is not None and replaced.change == "new":
            # The client of the merged delta never saw the results this one replaces.
            settlement = settlement.model_copy(update={"change": "new"})
        later.append(settlement)
    settlements = (*earlier.values(), *later)
    cancelled_later = {c.market_key for c in second.cancellations}
    cancellations = (*(c for c in first.cancellations
                       if c.market_key not in undone and c.market_key not in cancelled_later),
                     *second.cancellations)
    rolled_back = tuple(dict.fromkeys((*first.rolled_back, *second.rolled_back)))
    return second.model_copy(
        update={
            "status": second.status or first.status,
            "fixture": second.fixture or first.fixture,
            "live": second.live or first.live,
            "markets": tuple(markets.values()),
            "settlements": settlements,
            "cancellations": cancellations,
            "rolled_back": rolled_back,
            "refused": first.refused + second.refused,
        }
    )
