"""Which markets an event is priced on: those it offers, plus the sport's standard lines.

The model prices every market key the event's snapshot carries that it can price
(``totals|total=2.5``, ``handicap|hcp=-0.75``, ``1x2``...), so trading compares the
market's price and the fair one on the very same market, and the sport's standard
lines chosen from the pre-match outlook (:func:`shared.pricing.event.offered_lines`:
every market type of the sport, totals and handicaps around the balanced line), so an
event with no odds yet still has fair prices. Lines are chosen once per event and only
grow (a market the event starts offering later is added): a line's price then moves
with the match instead of jumping to another line.

Not priced: market types the sport's rules do not have, markets with specifiers the
model does not know (a period's market: ``1x2|period=1h``), and lines that are not
whole, half or quarter numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import cast

from shared.enums import Sport
from shared.markets import parse_market_key
from shared.pricing.event import SportParams, offered_lines
from shared.pricing.markets import LINE_KINDS, LineKind, MarketLine, price_line
from shared.pricing.outlook import Outlook
from shared.rules import rules_for

SPECIFIER = {"totals": "total", "handicap": "hcp", "set_handicap": "hcp"}
QUARTER = Decimal("0.25")


def line_of(sport: Sport, key: str) -> MarketLine | None:
    """The model's line for a market key, or None when the model cannot price it."""
    try:
        kind, specifiers = parse_market_key(key)
    except ValueError:
        return None
    if kind not in rules_for(sport).markets:
        return None
    name = SPECIFIER.get(kind)
    if kind not in LINE_KINDS or name is None:
        return MarketLine(cast(LineKind, kind)) if not specifiers else None
    if set(specifiers) != {name}:
        return None
    try:
        value = Decimal(specifiers[name])
    except InvalidOperation:
        return None
    if not value.is_finite() or value % QUARTER != 0 or abs(value) > 1000:
        return None
    return MarketLine(cast(LineKind, kind), value)


def priceable(sport: Sport, line: MarketLine, outlook: Outlook) -> bool:
    """Whether the outlook prices the line (a set handicap needs tennis's set margin...)."""
    try:
        price_line(sport, line, outlook)
    except ValueError:
        return False
    return True


def choose_lines(sport: Sport, params: SportParams, prematch: Outlook,
                 keys: Iterable[str]) -> tuple[MarketLine, ...]:
    """The standard lines, then the event's own markets the model can price (by key)."""
    lines = {line.key: line for line in offered_lines(params, prematch)}
    return tuple(lines.values()) + tuple(add_lines(sport, prematch, keys, lines))


def add_lines(sport: Sport, outlook: Outlook, keys: Iterable[str],
              have: Iterable[str]) -> list[MarketLine]:
    """The lines of ``keys`` not among ``have`` that the model can price, by key."""
    known = set(have)
    new = []
    for key in sorted(set(keys) - known):
        line = line_of(sport, key)
        if line is not None and line.key not in known and priceable(sport, line, outlook):
            known.add(line.key)
            new.append(line)
    return new
