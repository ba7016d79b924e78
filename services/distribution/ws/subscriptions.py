"""A client's subscriptions and the view of each event they add up to.

A client may hold several subscriptions (a whole sport, a few events with a market
filter, ...). For one event, the matching subscriptions combine into one
:class:`View`: the union of their market filters (all markets if any has none) and
the smallest conflation window; its model prices come if any of them asks for them.
Every event reaches a client once, in one shape, so its versions stay one sequence.
A client whose key covers some sports only (``allowed``) has no view of any other
sport's event: no snapshot, delta or model frame of it ever reaches the client.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from services.distribution.ws.frames import Shape
from shared.enums import Sport
from shared.markets import normalise_market_key


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one subscribe (or resume) asked for."""

    id: str
    sports: frozenset[Sport] = frozenset()
    event_ids: frozenset[str] = frozenset()
    markets: Shape = None
    conflate_ms: int = 0
    model: bool = False  # the events' model prices too

    def matches(self, event_id: str, sport: Sport) -> bool:
        """True when the subscription covers the event."""
        return sport in self.sports or event_id in self.event_ids

    @property
    def empty(self) -> bool:
        """True when it covers nothing any more."""
        return not self.sports and not self.event_ids


@dataclass(frozen=True, slots=True)
class View:
    """How one event reaches a client: its market filter, conflation window, model prices."""

    shape: Shape
    conflate_ms: int
    model: bool = False


def normalise_markets(markets: Iterable[str] | None) -> Shape:
    """A market filter from the client's list: keys normalised, types lower-cased.

    Raises ``ValueError`` naming the entry that is neither a key nor a type.
    """
    if markets is None:
        return None
    return frozenset(normalise_market_key(m.strip()) for m in markets)


class Subscriptions:
    """The subscriptions of one client, with the per-event views cached."""

    def __init__(self) -> None:
        self._subs: dict[str, Subscription] = {}
        self._views: dict[str, View | None] = {}
        self._counter = 0
        # The sports the client's key covers (None: every sport).
        self.allowed: frozenset[Sport] | None = None

    def allows(self, sport: Sport) -> bool:
        """True when the client's key covers ``sport``."""
        return self.allowed is None or sport in self.allowed

    def follows(self, extra: Subscription | None = None) -> int:
        """Sports and events followed (each counts once), with ``extra`` added (by id)."""
        subs = dict(self._subs)
        if extra is not None:
            subs[extra.id] = extra
        sports = frozenset().union(*(s.sports for s in subs.values()))
        events = frozenset().union(*(s.event_ids for s in subs.values()))
        return len(sports) + len(events)

    def __len__(self) -> int:
        return len(self._subs)

    def all(self) -> list[Subscription]:
        """Every subscription, in the order they were made."""
        return list(self._subs.values())

    def next_id(self) -> str:
        """A subscription id for a subscribe that gave none."""
        self._counter += 1
        return f"s{self._counter}"

    def add(self, sub: Subscription) -> None:
        """Add (or replace, by id) a subscription."""
        self._subs[sub.id] = sub
        self._views.clear()

    def remove(
        self, *, sub_id: str | None = None, sports: Iterable[Sport] = (),
        event_ids: Iterable[str] = (), markets: Iterable[str] = (),
    ) -> list[str]:
        """Remove a subscription, or sports/events/market entries from all; returns ids dropped.

        With nothing named, every subscription goes.
        """
        sports, event_ids, markets = frozenset(sports), frozenset(event_ids), frozenset(markets)
        dropped: list[str] = []
        if sub_id is None and not sports and not event_ids and not markets:
            dropped = list(self._subs)
            self._subs.clear()
        elif sub_id is not None:
            if self._subs.pop(sub_id, None) is not None:
                dropped.append(sub_id)
        else:
            for key, sub in list(self._subs.items()):
                shape = sub.markets - markets if sub.markets is not None else None
                changed = replace(
                    sub, sports=sub.sports - sports, event_ids=sub.event_ids - event_ids,
                    markets=shape,
                )
                if changed.empty:
                    del self._subs[key]
                    dropped.append(key)
                else:
                    self._subs[key] = changed
        self._views.clear()
        return dropped

    def view(self, event_id: str, sport: Sport) -> View | None:
        """The combined view of an event, or None when no subscription covers it."""
        try:
            return self._views[event_id]
        except KeyError:
            pass
        matching = [s for s in self._subs.values() if s.matches(event_id, sport)]
        view: View | None = None
        if matching and self.allows(sport):
            shapes = [s.markets for s in matching]
            shape: Shape = None
            if all(s is not None for s in shapes):
                shape = frozenset().union(*(s for s in shapes if s is not None))
            view = View(shape, min(s.conflate_ms for s in matching),
                        any(s.model for s in matching))
        self._views[event_id] = view
        return view

    def sports(self) -> frozenset[Sport]:
        """Every sport followed as a whole."""
        return frozenset().union(*(s.sports for s in self._subs.values()))

    def event_ids(self) -> frozenset[str]:
        """Every event followed by id."""
        return frozenset().union(*(s.event_ids for s in self._subs.values()))
